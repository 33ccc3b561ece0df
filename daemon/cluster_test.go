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
	"github.com/sluice-cdc/sluice/daemon/internal/testsink"
	"github.com/sluice-cdc/sluice/daemon/store"
	"github.com/sluice-cdc/sluice/testenv"
)

// clusterTopics are storage topics of the test's own.
func clusterTopics(t *testing.T) store.Topics {
	name := testenv.Name(t, "cluster")
	return store.Topics{Config: name + "-configs", ConfigReplication: 1, Offsets: name + "-offsets", OffsetPartitions: 2, OffsetReplication: 1,
		Status: name + "-status", StatusPartitions: 2, StatusReplication: 1}
}

// newClusterSupervisor starts a supervisor in cluster mode over the
// storage topics, as the instance worker.
func newClusterSupervisor(t *testing.T, topics store.Topics, worker string, logs io.Writer) *daemon.Supervisor {
	t.Helper()
	k, err := store.OpenKafka(ctx, topics, slog.New(slog.DiscardHandler), kgo.SeedBrokers(testenv.KafkaBrokers(t)...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	sup, err := daemon.New(daemon.Options{
		Store: k, Shared: k, Workers: testsink.Workers, WorkDir: t.TempDir(), WorkerID: worker,
		Logger:  slog.New(slog.NewTextHandler(logs, nil)),
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
	topics := clusterTopics(t)
	one, two := newClusterSupervisor(t, topics, "one:8083", io.Discard), newClusterSupervisor(t, topics, "two:8083", io.Discard)

	if _, err := one.Create(ctx, config.Connector{Name: "src", Config: conf()}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, two, "src", "the connector known to the other instance, unassigned", func(s daemon.Status) bool { return s.State == daemon.Unassigned })
	if st, _ := one.Status("src"); st.State != daemon.Unassigned || st.WorkerID != "" {
		t.Fatalf("before any assignment the creating instance shows %+v", st)
	}

	src := []store.Task{{Connector: "src"}}
	two.Assign(ctx, src)
	want := daemon.Status{Name: "src", State: daemon.Running, WorkerID: "two:8083", Type: "source",
		Tasks: []daemon.TaskStatus{{ID: 0, State: daemon.Running, WorkerID: "two:8083"}}}
	for _, sup := range []*daemon.Supervisor{two, one} {
		st := waitFor(t, sup, "src", "RUNNING on two", func(s daemon.Status) bool { return s.State == daemon.Running && s.WorkerID == "two:8083" })
		if !slices.Equal(st.Tasks, want.Tasks) || st.Name != want.Name || st.Type != want.Type {
			t.Fatalf("status %+v, want %+v", st, want)
		}
	}
	if !slices.Equal(two.Owned(), src) || len(one.Owned()) != 0 {
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

	two.Revoke(src)
	one.Assign(ctx, src)
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

// The tasks of one sink run where each is assigned: every instance shows
// each task with the worker that runs it; a task restarted through the
// instance that does not run it restarts where it runs; a task moved runs
// on its new owner; tasks.max lowered stops the tasks above it.
func TestClusterSinkTasks(t *testing.T) {
	topics := clusterTopics(t)
	twoLogs := &lockedBuffer{}
	one, two := newClusterSupervisor(t, topics, "one:8083", io.Discard), newClusterSupervisor(t, topics, "two:8083", twoLogs)
	cfg := map[string]string{"connector.class": testsink.Name, "topics": "cdc.public.orders", "tasks.max": "2"}
	if _, err := one.Create(ctx, config.Connector{Name: "index", Config: cfg}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, two, "index", "the sink known to the other instance", func(s daemon.Status) bool { return len(s.Tasks) == 2 })
	first, second := store.Task{Connector: "index"}, store.Task{Connector: "index", ID: 1}
	one.Assign(ctx, []store.Task{first})
	two.Assign(ctx, []store.Task{second})
	want := daemon.Status{Name: "index", State: daemon.Running, WorkerID: "one:8083", Type: "sink", Tasks: []daemon.TaskStatus{
		{ID: 0, State: daemon.Running, WorkerID: "one:8083"}, {ID: 1, State: daemon.Running, WorkerID: "two:8083"}}}
	for _, sup := range []*daemon.Supervisor{one, two} {
		got := waitFor(t, sup, "index", "task 0 RUNNING on one and task 1 on two", func(s daemon.Status) bool {
			return len(s.Tasks) == 2 && s.Tasks[0].WorkerID == "one:8083" && s.Tasks[1].WorkerID == "two:8083" && s.Tasks[0].State == daemon.Running && s.Tasks[1].State == daemon.Running
		})
		if got.Name != want.Name || got.State != want.State || got.WorkerID != want.WorkerID || got.Type != want.Type || !slices.Equal(got.Tasks, want.Tasks) {
			t.Fatalf("status:\n got %+v\nwant %+v", got, want)
		}
	}

	// Restarted through one, which does not run it: two restarts it.
	if err := one.RestartTask(ctx, "index", "1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, one, "index", "task 1 restarted by two and RUNNING", func(s daemon.Status) bool {
		return countLines(twoLogs, `msg="connector running"`, "task=1") == 2 && len(s.Tasks) == 2 && s.Tasks[1].State == daemon.Running
	})
	if n := countLines(twoLogs, `msg="connector restarting on request through another instance"`, "connector=index", "task=1"); n != 1 {
		t.Fatalf("two logged %d restarts of task 1 on request, want 1", n)
	}

	two.Revoke([]store.Task{second})
	one.Assign(ctx, []store.Task{second})
	waitFor(t, two, "index", "both tasks RUNNING on one", func(s daemon.Status) bool {
		return len(s.Tasks) == 2 && s.Tasks[0].WorkerID == "one:8083" && s.Tasks[1].WorkerID == "one:8083" && s.Tasks[1].State == daemon.Running
	})
	if !slices.Equal(one.Owned(), []store.Task{first, second}) || len(two.Owned()) != 0 {
		t.Fatalf("owned: one %v, two %v", one.Owned(), two.Owned())
	}

	cfg["tasks.max"] = "1"
	if _, _, err := two.PutConfig(ctx, "index", cfg); err != nil {
		t.Fatal(err)
	}
	waitFor(t, one, "index", "one task left", func(s daemon.Status) bool {
		return len(s.Tasks) == 1 && s.Tasks[0].WorkerID == "one:8083" && s.Tasks[0].State == daemon.Running
	})
}
