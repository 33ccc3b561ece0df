package daemon_test

import (
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/daemon"
	"github.com/sluice-cdc/sluice/daemon/config"
	"github.com/sluice-cdc/sluice/daemon/internal/testclass"
	"github.com/sluice-cdc/sluice/daemon/store"
	"github.com/sluice-cdc/sluice/testenv"
)

// newClusterSupervisor starts a supervisor in cluster mode over the
// storage topics, as the instance worker.
func newClusterSupervisor(t *testing.T, topics store.Topics, worker string) *daemon.Supervisor {
	t.Helper()
	k, err := store.OpenKafka(ctx, topics, slog.New(slog.DiscardHandler), kgo.SeedBrokers(testenv.KafkaBrokers(t)...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	sup, err := daemon.New(daemon.Options{
		Store: k, Shared: k, Workers: testclass.Workers, WorkDir: t.TempDir(), WorkerID: worker,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Backoff: daemon.Backoff{Initial: 10 * time.Millisecond, Max: 40 * time.Millisecond}, StopTimeout: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := sup.Start(ctx, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sup.Shutdown(ctx) })
	return sup
}

// Two supervisors sharing the storage topics: a connector created through
// one runs only where it is assigned; pausing, resuming and deleting it
// through the other acts there; both show the owner's status.
func TestClusterSupervisors(t *testing.T) {
	name := testenv.Name(t, "cluster")
	topics := store.Topics{Config: name + "-configs", ConfigReplication: 1, Offsets: name + "-offsets", OffsetPartitions: 2, OffsetReplication: 1,
		Status: name + "-status", StatusPartitions: 2, StatusReplication: 1}
	one, two := newClusterSupervisor(t, topics, "one:8083"), newClusterSupervisor(t, topics, "two:8083")

	if _, err := one.Create(ctx, config.Connector{Name: "src", Config: conf()}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, two, "src", "the connector known to the other instance, unassigned", func(s daemon.Status) bool { return s.State == daemon.Unassigned })
	if st, _ := one.Status("src"); st.State != daemon.Unassigned || st.WorkerID != "" {
		t.Fatalf("before any assignment the creating instance shows %+v", st)
	}

	two.Assign(ctx, []string{"src"})
	want := daemon.Status{Name: "src", State: daemon.Running, WorkerID: "two:8083", Type: "source",
		Tasks: []daemon.TaskStatus{{ID: 0, State: daemon.Running, WorkerID: "two:8083"}}}
	for _, sup := range []*daemon.Supervisor{two, one} {
		st := waitFor(t, sup, "src", "RUNNING on two", func(s daemon.Status) bool { return s.State == daemon.Running && s.WorkerID == "two:8083" })
		if !slices.Equal(st.Tasks, want.Tasks) || st.Name != want.Name || st.Type != want.Type {
			t.Fatalf("status %+v, want %+v", st, want)
		}
	}
	if !slices.Equal(two.Owned(), []string{"src"}) || len(one.Owned()) != 0 {
		t.Fatalf("owned: one %v, two %v", one.Owned(), two.Owned())
	}

	if err := one.Pause(ctx, "src"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, two, "src", "PAUSED by its owner", func(s daemon.Status) bool { return s.State == daemon.Paused })
	waitFor(t, one, "src", "PAUSED as its owner publishes it", func(s daemon.Status) bool { return s.State == daemon.Paused && s.WorkerID == "two:8083" })
	if err := one.Resume(ctx, "src"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, one, "src", "RUNNING again on two", func(s daemon.Status) bool { return s.State == daemon.Running && s.WorkerID == "two:8083" })

	two.Revoke([]string{"src"})
	one.Assign(ctx, []string{"src"})
	waitFor(t, two, "src", "RUNNING on one after the move", func(s daemon.Status) bool { return s.State == daemon.Running && s.WorkerID == "one:8083" })

	if err := two.Delete(ctx, "src"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for slices.Contains(one.Names(), "src") {
		if time.Now().After(deadline) {
			t.Fatal("the owner still has the connector deleted through the other instance")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
