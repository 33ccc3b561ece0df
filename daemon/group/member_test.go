package group

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/daemon/store"
	"github.com/sluice-cdc/sluice/testenv"

	_ "github.com/sluice-cdc/sluice/connectors/sse"
)

// runners stands for the supervisors of several members: it records who
// runs what and fails the test when a connector is started on one member
// while another still runs it.
type runners struct {
	t       *testing.T
	mu      sync.Mutex
	running map[string]string // connector → member
}

type runner struct {
	all  *runners
	name string
}

func (r runner) Assign(ctx context.Context, tasks []store.Task) {
	r.all.mu.Lock()
	defer r.all.mu.Unlock()
	for _, t := range tasks {
		n := t.String()
		if other, ok := r.all.running[n]; ok {
			r.all.t.Errorf("%s starts %s while %s still runs it", r.name, n, other)
		}
		r.all.running[n] = r.name
	}
}

func (r runner) Revoke(tasks []store.Task) {
	r.all.mu.Lock()
	defer r.all.mu.Unlock()
	for _, t := range tasks {
		n := t.String()
		if r.all.running[n] == r.name {
			delete(r.all.running, n)
		}
	}
}

// of lists what member runs, sorted.
func (rs *runners) of(member string) []string {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	var out []string
	for c, m := range rs.running {
		if m == member {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

func (rs *runners) waitFor(what string, cond func() bool) {
	rs.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			rs.mu.Lock()
			defer rs.mu.Unlock()
			rs.t.Fatalf("waiting for %s; running: %v", what, rs.running)
		}
	}
}

// openStore opens a shared store on the real broker, its topics named
// after the test, and returns the brokers, that name (the group's) and
// the logger the members use.
func openStore(t *testing.T) ([]string, string, *slog.Logger, *store.Kafka) {
	t.Helper()
	brokers := testenv.KafkaBrokers(t)
	name := testenv.Name(t, "group")
	log := slog.New(slog.DiscardHandler)
	k, err := store.OpenKafka(context.Background(), store.Topics{
		Config: name + "-configs", ConfigReplication: 1,
		Offsets: name + "-offsets", OffsetPartitions: 1, OffsetReplication: 1,
		Status: name + "-status", StatusPartitions: 1, StatusReplication: 1,
	}, log, kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	return brokers, name, log, k
}

// On the real broker: a member alone runs every connector; a second one
// joining takes half without any connector running on both at once (the
// first stops them before the next generation hands them on); when it
// leaves, the first takes them back at once; a connector created later is
// assigned without a restart of the others. An SSE sink is never assigned.
func TestMembersShareConnectors(t *testing.T) {
	brokers, name, log, k := openStore(t)
	ctx := context.Background()
	for _, c := range []string{"a", "b", "c", "d"} {
		if err := k.Put(ctx, store.Record{Name: c, Config: map[string]string{}}); err != nil {
			t.Fatal(err)
		}
	}
	// An SSE sink runs on every instance: the group assigns it to nobody.
	if err := k.Put(ctx, store.Record{Name: "events", Config: map[string]string{"connector.class": "sse"}}); err != nil {
		t.Fatal(err)
	}
	rs := &runners{t: t, running: map[string]string{}}
	join := func(member string) *Member {
		m, err := Join(Options{GroupID: name, Topic: name + "-configs", Worker: member,
			SessionTimeout: 6 * time.Second, HeartbeatInterval: 500 * time.Millisecond, RebalanceTimeout: 10 * time.Second, Logger: log},
			runner{rs, member}, k, kgo.SeedBrokers(brokers...))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	one := join("one")
	defer one.Leave()
	rs.waitFor("one running every connector", func() bool { return slices.Equal(rs.of("one"), []string{"a", "b", "c", "d"}) })

	two := join("two")
	rs.waitFor("two running half", func() bool { return len(rs.of("one")) == 2 && len(rs.of("two")) == 2 })
	if held := append(one.Holding(), two.Holding()...); len(held) != 4 {
		t.Fatalf("the members hold %v", held)
	}

	k.Watch(func(name string) { one.Changed(name); two.Changed(name) })
	kept := maps.Clone(rs.running)
	if err := k.Put(ctx, store.Record{Name: "e", Config: map[string]string{}}); err != nil {
		t.Fatal(err)
	}
	rs.waitFor("e running", func() bool { return len(rs.of("one"))+len(rs.of("two")) == 5 })
	for c, m := range kept {
		if rs.running[c] != m {
			t.Fatalf("creating e moved %s from %s", c, m)
		}
	}

	began := time.Now()
	two.Leave()
	rs.waitFor("one running every connector again", func() bool { return len(rs.of("one")) == 5 })
	if took := time.Since(began); took > 5*time.Second {
		t.Fatalf("taking over from a member that left took %v", took)
	}
}

// createdDuringBalance is the shared store with a connector created once,
// just after the leader's balance has listed the connectors and before any
// member has heard of that balance.
type createdDuringBalance struct {
	*store.Kafka
	once   sync.Once
	create func()
}

func (c *createdDuringBalance) List(ctx context.Context) ([]store.Record, error) {
	recs, err := c.Kafka.List(ctx)
	c.once.Do(c.create)
	return recs, err
}

// A connector created while the leader balances, too late for the balance
// to see it, is still assigned: the leader hears of it and balances again,
// even in the group's first generation, before it has learnt that it leads.
func TestConnectorCreatedWhileTheLeaderBalancesIsAssigned(t *testing.T) {
	brokers, name, log, k := openStore(t)
	ctx := context.Background()
	var m *Member
	joined := make(chan struct{})
	k.Watch(func(name string) { <-joined; m.Changed(name) })
	conns := &createdDuringBalance{Kafka: k, create: func() {
		if err := k.Put(ctx, store.Record{Name: "late", Config: map[string]string{}}); err != nil {
			t.Error(err)
		}
		for _, err := k.Get(ctx, "late"); err != nil; _, err = k.Get(ctx, "late") {
			time.Sleep(10 * time.Millisecond)
		}
	}}
	rs := &runners{t: t, running: map[string]string{}}
	var err error
	m, err = Join(Options{GroupID: name, Topic: name + "-configs", Worker: "one",
		SessionTimeout: 6 * time.Second, HeartbeatInterval: 500 * time.Millisecond, RebalanceTimeout: 10 * time.Second, Logger: log},
		runner{rs, "one"}, conns, kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	close(joined)
	defer m.Leave()
	rs.waitFor("late running on one", func() bool { return slices.Equal(rs.of("one"), []string{"late"}) })
}
