package store

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/testenv"
)

// testTopics are storage topics no other test uses, on the single test
// broker.
func testTopics(t *testing.T) Topics {
	name := testenv.Name(t, "store")
	return Topics{
		Config: name + "-configs", ConfigReplication: 1,
		Offsets: name + "-offsets", OffsetPartitions: 5, OffsetReplication: 1,
		Status: name + "-status", StatusPartitions: 2, StatusReplication: 1,
	}
}

func openKafka(t *testing.T, topics Topics) *Kafka {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	k, err := OpenKafka(ctx, topics, slog.New(slog.DiscardHandler), kgo.SeedBrokers(testenv.KafkaBrokers(t)...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	return k
}

// Two instances on the same topics see each other's writes once they have
// caught up, and a third opened later reads the same state back.
func TestKafkaSharedBetweenInstances(t *testing.T) {
	topics := testTopics(t)
	a, b := openKafka(t, topics), openKafka(t, topics)
	ctx := context.Background()
	changed := make(chan string, 16)
	b.Watch(func(name string) { changed <- name })

	if err := a.Put(ctx, Record{Name: "orders", Config: map[string]string{"connector.class": "postgres"}, Target: Paused}); err != nil {
		t.Fatal(err)
	}
	if err := a.Offsets("orders").Save(ctx, "server=shop", []byte(`{"lsn":"0/16B3748"}`)); err != nil {
		t.Fatal(err)
	}
	if err := a.SetTopics(ctx, "orders", []string{"shop.public.orders"}); err != nil {
		t.Fatal(err)
	}
	if got := <-changed; got != "orders" {
		t.Fatalf("watch saw %q, want orders", got)
	}
	if err := b.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	want := Record{Name: "orders", Config: map[string]string{"connector.class": "postgres"}, Target: Paused,
		Offsets: map[string]json.RawMessage{"server=shop": json.RawMessage(`{"lsn":"0/16B3748"}`)}, Topics: []string{"shop.public.orders"}}
	got, err := b.Get(ctx, "orders")
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("B reads %+v, %v; want %+v", got, err, want)
	}

	if err := b.SetTarget(ctx, "orders", Running); err != nil {
		t.Fatal(err)
	}
	if err := a.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := a.Get(ctx, "orders"); got.Target != Running {
		t.Fatalf("A reads target %s after B resumed it", got.Target)
	}

	for _, task := range []int{AllTasks, 0} {
		if err := a.RequestRestart(ctx, "orders", task); err != nil {
			t.Fatal(err)
		}
		if err := b.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		if got, ok := b.TakeRestart("orders"); !ok || got != task {
			t.Fatalf("restart of task %d taken as %d, %v", task, got, ok)
		}
		if _, ok := b.TakeRestart("orders"); ok {
			t.Fatal("a restart request is taken once by an instance that runs the connector")
		}
	}

	c := openKafka(t, topics)
	want.Target = Running
	if list, err := c.List(ctx); err != nil || len(list) != 1 || !reflect.DeepEqual(list[0], want) {
		t.Fatalf("a third instance lists %+v, %v; want [%+v]", list, err, want)
	}

	if err := c.Delete(ctx, "orders"); err != nil {
		t.Fatal(err)
	}
	for _, k := range []*Kafka{a, b} {
		if err := k.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := k.Get(ctx, "orders"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("after delete: %v, want ErrNotFound", err)
		}
		if _, err := k.Offsets("orders").Load(ctx, "server=shop"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("offsets after delete: %v, want ErrNotFound", err)
		}
	}
	if err := a.Put(ctx, Record{Name: "orders", Config: map[string]string{"connector.class": "postgres"}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := a.Get(ctx, "orders"); got.Offsets != nil || got.Topics != nil || got.Target != Running {
		t.Fatalf("re-created connector kept its old state: %+v", got)
	}

	adm := kadm.NewClient(a.cl)
	configs, err := adm.DescribeTopicConfigs(ctx, topics.Config, topics.Offsets, topics.Status)
	if err != nil {
		t.Fatal(err)
	}
	for _, rc := range configs {
		for _, c := range rc.Configs {
			if c.Key == "cleanup.policy" && c.MaybeValue() != "compact" {
				t.Errorf("topic %s: cleanup.policy=%s", rc.Name, c.MaybeValue())
			}
		}
	}
	details, err := adm.ListTopics(ctx, topics.Config, topics.Offsets, topics.Status)
	if err != nil {
		t.Fatal(err)
	}
	for topic, n := range map[string]int{topics.Config: 1, topics.Offsets: 5, topics.Status: 2} {
		if got := len(details[topic].Partitions); got != n {
			t.Errorf("topic %s has %d partitions, want %d", topic, got, n)
		}
	}
}

// An instance whose claim on a connector was replaced by another's writes
// offsets that fail with ErrFenced and that no reader applies, not even a
// reader that opens the topics afterwards.
func TestKafkaFencesZombieOffsets(t *testing.T) {
	topics := testTopics(t)
	zombie, owner := openKafka(t, topics), openKafka(t, topics)
	ctx := context.Background()
	if err := zombie.Put(ctx, Record{Name: "orders", Config: map[string]string{"connector.class": "postgres"}}); err != nil {
		t.Fatal(err)
	}
	if epoch, err := zombie.Claim(ctx, Task{Connector: "orders"}); err != nil || epoch != 1 {
		t.Fatalf("first claim: epoch %d, %v; want 1", epoch, err)
	}
	if err := zombie.Offsets("orders").Save(ctx, "server=shop", []byte(`{"lsn":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := zombie.PutStatus(ctx, Task{Connector: "orders"}, Status{State: "RUNNING", WorkerID: "zombie:8083"}); err != nil {
		t.Fatal(err)
	}
	if err := zombie.RequestRestart(ctx, "orders", AllTasks); err != nil {
		t.Fatal(err)
	}
	if epoch, err := owner.Claim(ctx, Task{Connector: "orders"}); err != nil || epoch != 2 {
		t.Fatalf("second claim: epoch %d, %v; want 2", epoch, err)
	}
	if err := owner.PutStatus(ctx, Task{Connector: "orders"}, Status{State: "RUNNING", WorkerID: "owner:8083"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := owner.TakeRestart("orders"); ok {
		t.Fatal("a restart requested before the claim restarts the connector its claimer starts afresh")
	}
	// The zombie has not read the new fence yet: its write goes out with
	// epoch 1, lands after the fence, and is refused.
	err := zombie.Offsets("orders").Save(ctx, "server=shop", []byte(`{"lsn":99}`))
	if !errors.Is(err, ErrFenced) {
		t.Fatalf("zombie save: %v, want ErrFenced", err)
	}
	if err := zombie.PutStatus(ctx, Task{Connector: "orders"}, Status{State: "FAILED", WorkerID: "zombie:8083"}); err != nil {
		t.Fatal(err)
	}
	if err := owner.Offsets("orders").Save(ctx, "server=shop", []byte(`{"lsn":2}`)); err != nil {
		t.Fatal(err)
	}
	late := openKafka(t, topics)
	for name, k := range map[string]*Kafka{"zombie": zombie, "owner": owner, "late reader": late} {
		if err := k.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		if got, err := k.Offsets("orders").Load(ctx, "server=shop"); err != nil || string(got) != `{"lsn":2}` {
			t.Errorf("%s reads offset %s, %v; want {\"lsn\":2}", name, got, err)
		}
		if st, ok := k.Status(Task{Connector: "orders"}); !ok || st.WorkerID != "owner:8083" || st.State != "RUNNING" || st.Epoch != 2 {
			t.Errorf("%s reads status %+v, want the owner's RUNNING at epoch 2", name, st)
		}
	}
}

// The tasks of one connector are claimed, fenced and published apart: a
// claim of one task leaves the others' epochs alone, each owner's status
// is read back by task, and deleting the connector removes every task's
// fence and status.
func TestKafkaTasksOfOneConnector(t *testing.T) {
	topics := testTopics(t)
	a, b := openKafka(t, topics), openKafka(t, topics)
	ctx := context.Background()
	if err := a.Put(ctx, Record{Name: "index", Config: map[string]string{"connector.class": "elasticsearch", "tasks.max": "2"}}); err != nil {
		t.Fatal(err)
	}
	first, second := Task{Connector: "index"}, Task{Connector: "index", ID: 1}
	if epoch, err := a.Claim(ctx, first); err != nil || epoch != 1 {
		t.Fatalf("claim of task 0: epoch %d, %v; want 1", epoch, err)
	}
	if epoch, err := b.Claim(ctx, second); err != nil || epoch != 1 {
		t.Fatalf("claim of task 1: epoch %d, %v; want 1", epoch, err)
	}
	if err := a.PutStatus(ctx, first, Status{State: "RUNNING", WorkerID: "a:8083", Tasks: []TaskStatus{{ID: 0, State: "RUNNING", WorkerID: "a:8083"}}}); err != nil {
		t.Fatal(err)
	}
	if err := b.PutStatus(ctx, second, Status{State: "RUNNING", WorkerID: "b:8083", Tasks: []TaskStatus{{ID: 1, State: "RUNNING", WorkerID: "b:8083"}}}); err != nil {
		t.Fatal(err)
	}
	// a's status of task 1 is not published: it holds no claim on it.
	if err := a.PutStatus(ctx, second, Status{State: "FAILED", WorkerID: "a:8083"}); err != nil {
		t.Fatal(err)
	}
	if err := a.RequestRestart(ctx, "index", 1); err != nil {
		t.Fatal(err)
	}
	c := openKafka(t, topics)
	for name, k := range map[string]*Kafka{"a": a, "b": b, "a third instance": c} {
		if err := k.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		if st, ok := k.Status(first); !ok || st.WorkerID != "a:8083" || st.Epoch != 1 || !reflect.DeepEqual(st.Tasks, []TaskStatus{{ID: 0, State: "RUNNING", WorkerID: "a:8083"}}) {
			t.Errorf("%s reads task 0's status %+v, %v", name, st, ok)
		}
		if st, ok := k.Status(second); !ok || st.WorkerID != "b:8083" || st.State != "RUNNING" || st.Epoch != 1 {
			t.Errorf("%s reads task 1's status %+v, %v", name, st, ok)
		}
	}
	if task, ok := b.TakeRestart("index"); !ok || task != 1 {
		t.Fatalf("b takes the restart of task %d, %v; want 1", task, ok)
	}
	if err := c.Delete(ctx, "index"); err != nil {
		t.Fatal(err)
	}
	late := openKafka(t, topics)
	for name, k := range map[string]*Kafka{"a": a, "b": b, "a late reader": late} {
		if err := k.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		k.mu.Lock()
		fences, statuses := len(k.fences), len(k.statuses)
		k.mu.Unlock()
		if fences != 0 || statuses != 0 {
			t.Errorf("after the delete %s holds %d fences and %d statuses, want none", name, fences, statuses)
		}
	}
}

func TestTaskNames(t *testing.T) {
	for _, task := range []Task{{Connector: "orders"}, {Connector: "index", ID: 2}, {Connector: "a b.c-d", ID: 11}} {
		if got, err := ParseTask(task.String()); err != nil || got != task {
			t.Errorf("ParseTask(%q) = %+v, %v; want %+v", task.String(), got, err, task)
		}
	}
	if s := (Task{Connector: "index", ID: 2}).String(); s != "index/2" {
		t.Errorf("task 2 of index is named %q, want index/2", s)
	}
	for _, bad := range []string{"index/0", "index/x", "index/-1", "/1"} {
		if _, err := ParseTask(bad); err == nil {
			t.Errorf("ParseTask(%q) accepted", bad)
		}
	}
}

// A standalone state directory is imported once, offsets included; a
// connector the cluster already holds keeps the cluster's definition.
func TestImportStandaloneOnce(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	files, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []Record{
		{Name: "orders", Config: map[string]string{"connector.class": "postgres"}, Target: Paused, File: "/etc/sluice/connectors/orders.json"},
		{Name: "taken", Config: map[string]string{"connector.class": "mysql"}, Target: Running},
	} {
		if err := files.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := files.Offsets("orders").Save(ctx, "server=shop", []byte(`{"lsn":7}`)); err != nil {
		t.Fatal(err)
	}
	k := openKafka(t, testTopics(t))
	if err := k.Put(ctx, Record{Name: "taken", Config: map[string]string{"connector.class": "postgres"}, Target: Stopped}); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	if n, err := Import(ctx, dir, k, log); err != nil || n != 1 {
		t.Fatalf("import: %d, %v; want 1", n, err)
	}
	got, err := k.Get(ctx, "orders")
	want := Record{Name: "orders", Config: map[string]string{"connector.class": "postgres"}, Target: Paused,
		Offsets: map[string]json.RawMessage{"server=shop": json.RawMessage(`{"lsn":7}`)}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("imported %+v, %v; want %+v", got, err, want)
	}
	if got, _ := k.Get(ctx, "taken"); got.Config["connector.class"] != "postgres" || got.Target != Stopped {
		t.Fatalf("the cluster's own connector was overwritten: %+v", got)
	}
	if err := k.Delete(ctx, "orders"); err != nil {
		t.Fatal(err)
	}
	if n, err := Import(ctx, dir, k, log); err != nil || n != 0 {
		t.Fatalf("second import: %d, %v; want 0", n, err)
	}
	if _, err := k.Get(ctx, "orders"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("imported twice: %v", err)
	}
}
