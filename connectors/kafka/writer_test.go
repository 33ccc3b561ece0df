package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/kafka"
	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/registry"
	"github.com/sluice-cdc/sluice/schema/registry/embedded"
)

var table = &event.Table{
	ID: event.TableID{Database: "db", Schema: "public", Table: "t"},
	Columns: []event.Column{
		{Name: "id", Schema: &event.Schema{Type: event.Int32}},
		{Name: "v", Schema: &event.Schema{Type: event.String, Optional: true}},
	},
	Key: []int{0},
}

func change(op event.Op, id int32, v string) *event.Event {
	e := &event.Event{Op: op, Table: table, Source: event.Source{Connector: "postgresql", Name: "p", Snapshot: event.SnapshotFalse}}
	row := event.Row{id, v}
	if op == event.OpDelete {
		e.Before = row
	} else {
		e.After = row
	}
	return e
}

// setup starts an in-process Kafka and registry and returns a client for
// them, produced to with the given producer configuration.
func setup(t *testing.T, pc kafka.ProducerConfig) (*kgo.Client, *registry.Client) {
	t.Helper()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	reg, err := embedded.New(context.Background(), cluster.ListenAddrs(), embedded.WithReplicationFactor(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(reg.Close)
	if err := reg.WaitReady(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(reg)
	t.Cleanup(srv.Close)
	rc, err := registry.New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(append(pc.ClientOpts(), kgo.SeedBrokers(cluster.ListenAddrs()...))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl, rc
}

func TestWriterAcknowledgesBatchesInOrderAfterKafka(t *testing.T) {
	pc := kafka.ProducerConfig{Compression: "zstd", Partitions: 1, ReplicationFactor: -1}
	cl, rc := setup(t, pc)
	w := kafka.NewWriter(cl, rc, pc.Topics(cl), schema.Options{Prefix: "p", Connector: "postgresql"})
	var acked []int
	ctx := context.Background()
	batches := [][]*event.Event{
		{change(event.OpCreate, 1, "a"), change(event.OpCreate, 2, "b")},
		{change(event.OpUpdate, 1, "aa")},
		{change(event.OpDelete, 2, "b")},
	}
	for i, evs := range batches {
		if err := w.Emit(ctx, connectors.Batch{Events: evs, Ack: func() { acked = append(acked, i) }}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if len(acked) != 3 || acked[0] != 0 || acked[1] != 1 || acked[2] != 2 || w.Pending() != 0 {
		t.Fatalf("acks %v pending %d, want [0 1 2] and none pending", acked, w.Pending())
	}

	consumer, err := kgo.NewClient(kgo.SeedBrokers(cl.OptValue(kgo.SeedBrokers).([]string)...), kgo.ConsumeTopics("p.public.t"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	var got []string
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for len(got) < 5 && rctx.Err() == nil {
		consumer.PollFetches(rctx).EachRecord(func(r *kgo.Record) {
			desc := "tombstone"
			if r.Value != nil {
				desc = "value"
			}
			id, _, err := schema.SplitFrame(r.Key)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, desc+"/key-schema-"+map[bool]string{true: "ok", false: "missing"}[id > 0])
		})
	}
	want := "value/key-schema-ok value/key-schema-ok value/key-schema-ok value/key-schema-ok tombstone/key-schema-ok"
	if strings.Join(got, " ") != want {
		t.Errorf("records: %v\nwant %s", got, want)
	}
}

func TestWriterStopsAcknowledgingAfterAFailure(t *testing.T) {
	pc := kafka.ProducerConfig{Compression: "none", MaxRequestSize: 2048, Partitions: 1, ReplicationFactor: -1}
	cl, rc := setup(t, pc)
	w := kafka.NewWriter(cl, rc, pc.Topics(cl), schema.Options{Prefix: "p", Connector: "postgresql"})
	ctx := context.Background()
	var acked []int
	emit := func(i int, v string) error {
		return w.Emit(ctx, connectors.Batch{Events: []*event.Event{change(event.OpCreate, int32(i), v)}, Ack: func() { acked = append(acked, i) }})
	}
	if err := emit(1, "small"); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	emit(2, strings.Repeat("x", 4096)) // larger than a record may be
	emit(3, "small again")
	err := w.Flush(ctx)
	if err == nil || !strings.Contains(err.Error(), `produce to topic "p.public.t"`) || !strings.Contains(err.Error(), "MESSAGE_TOO_LARGE") {
		t.Fatalf("Flush: %v, want the produce failure", err)
	}
	if err := emit(4, "after"); err == nil {
		t.Error("Emit after a failure succeeded")
	}
	if len(acked) != 1 || acked[0] != 1 {
		t.Errorf("acks %v: only the batch before the failure may be acknowledged", acked)
	}
}

// holding is a Producer that keeps each record and its promise until
// acknowledge calls the promises.
type holding struct {
	records  []*kgo.Record
	promises []func(*kgo.Record, error)
}

func (h *holding) Produce(_ context.Context, r *kgo.Record, promise func(*kgo.Record, error)) {
	h.records, h.promises = append(h.records, r), append(h.promises, promise)
}
func (h *holding) BufferedProduceBytes() int64 { return 0 }
func (h *holding) Flush(context.Context) error { return nil }

func (h *holding) acknowledge() {
	for i, r := range h.records {
		h.promises[i](r, nil)
	}
	h.records, h.promises = nil, nil
}

func TestWriterReusesARecordValueOnlyOnceKafkaAcknowledgedIt(t *testing.T) {
	h := &holding{}
	c := kafka.NewJSONConverter(true, schema.ConnectJSON{})
	w := kafka.NewWriter(h, nil, discard{}, schema.Options{Prefix: "p", Connector: "postgresql"}, kafka.WithConverters(c, c))
	ctx := context.Background()
	emit := func(from, to int32) []*kgo.Record {
		t.Helper()
		var events []*event.Event
		for id := from; id < to; id++ {
			events = append(events, change(event.OpCreate, id, "value"))
		}
		held := len(h.records)
		if err := w.Emit(ctx, connectors.Batch{Events: events}); err != nil {
			t.Fatal(err)
		}
		return h.records[held:]
	}
	idIs := func(r *kgo.Record, id int32) bool {
		return strings.Contains(string(r.Value), fmt.Sprintf(`"after":{"id":%d,"v":"value"}`, id))
	}

	// Forty records wait for Kafka while forty more are written: none of
	// the second shares a buffer with the first, whose values stay intact.
	first := emit(1, 41)
	second := emit(41, 81)
	buffers := map[*byte]bool{}
	for i, r := range first {
		buffers[unsafe.SliceData(r.Value)] = true
		if !idIs(r, int32(i+1)) {
			t.Fatalf("record %d of the first batch holds %s", i, r.Value)
		}
	}
	for i, r := range second {
		if buffers[unsafe.SliceData(r.Value)] {
			t.Fatalf("record %d of the second batch reuses the value of a record Kafka has not acknowledged", i)
		}
		if !idIs(r, int32(i+41)) {
			t.Fatalf("record %d of the second batch holds %s", i, r.Value)
		}
		buffers[unsafe.SliceData(r.Value)] = true
	}

	// Acknowledged, their buffers serve the next values.
	h.acknowledge()
	third := emit(81, 82)
	if !buffers[unsafe.SliceData(third[0].Value)] {
		t.Error("the record after 80 acknowledged ones has a new value buffer, want one of theirs")
	}
	if !idIs(third[0], 81) {
		t.Errorf("the third batch's record holds %s", third[0].Value)
	}
}

// creating is a TopicEnsurer that creates a topic until its context ends,
// as a topic creation cut short by a source's stop.
type creating struct{}

func (creating) EnsureTopic(ctx context.Context, _ string) error { return ctx.Err() }

// A source that stops while the writer prepares a new table's topic cuts
// that batch short, and only that one: the batches handed to Kafka before
// it are still acknowledged as Kafka takes them, so that the stopping
// source stores their position. A batch after the cut one is refused, as
// it could never be acknowledged.
func TestWriterStoppedWhilePreparingATopicStillAcknowledgesEarlierBatches(t *testing.T) {
	h := &holding{}
	c := kafka.NewJSONConverter(true, schema.ConnectJSON{})
	w := kafka.NewWriter(h, nil, creating{}, schema.Options{Prefix: "p", Connector: "postgresql"}, kafka.WithConverters(c, c))
	ctx := context.Background()
	var acked []int
	emit := func(ctx context.Context, i int, e *event.Event) error {
		return w.Emit(ctx, connectors.Batch{Events: []*event.Event{e}, Committed: true, Ack: func() { acked = append(acked, i) }})
	}
	if err := emit(ctx, 1, change(event.OpCreate, 1, "a")); err != nil {
		t.Fatal(err)
	}
	stopped, stop := context.WithCancel(ctx)
	stop()
	other := change(event.OpCreate, 2, "b")
	other.Table = &event.Table{ID: event.TableID{Database: "db", Schema: "public", Table: "u"}, Columns: table.Columns, Key: table.Key}
	if err := emit(stopped, 2, other); !errors.Is(err, context.Canceled) {
		t.Fatalf("Emit while stopping: %v, want %v", err, context.Canceled)
	}
	h.acknowledge()
	if err := w.Flush(ctx); err != nil {
		t.Fatalf("Flush after the stop: %v", err)
	}
	if len(acked) != 1 || acked[0] != 1 {
		t.Fatalf("acks %v, want [1]: the batch before the stop", acked)
	}
	err := emit(ctx, 3, change(event.OpCreate, 3, "c"))
	if want := "an earlier batch was cut short, so nothing after it can be acknowledged: "; err == nil || !strings.HasPrefix(err.Error(), want) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Emit after the cut: %v, want %q and the cause", err, want)
	}
}
