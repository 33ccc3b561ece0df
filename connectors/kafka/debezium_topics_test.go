package kafka_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/kafka"
	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/schema/event"
)

// TestWriterTransactionTopicSkippedOperationsAndHeartbeats writes three
// transactions, one spread over two batches, and checks the transaction
// topic's BEGIN and END records (an END at the commit, or before the next
// transaction's BEGIN), that skipped operations are neither written nor
// counted, and that heartbeats go to their topic at most once per interval.
func TestWriterTransactionTopicSkippedOperationsAndHeartbeats(t *testing.T) {
	pc := kafka.ProducerConfig{Compression: "none", Partitions: 1, ReplicationFactor: -1}
	cl, rc := setup(t, pc)
	start := time.Now().UnixMilli()
	w := kafka.NewWriter(cl, rc, pc.Topics(cl), schema.Options{Prefix: "p", Connector: "postgresql"}, kafka.WithOutput(connectors.SourceOutput{
		TopicPrefix: "p", Skipped: []event.Op{event.OpTruncate, event.OpUpdate},
		TransactionTopic: "p.transaction", HeartbeatTopic: "__debezium-heartbeat.p", HeartbeatInterval: time.Hour,
	}))
	in := func(tx string, ts int64, order int64, e *event.Event) *event.Event {
		e.Transaction = &event.Transaction{ID: tx, TotalOrder: order, DataCollectionOrder: order}
		e.Source.TsUs = ts * 1e3
		return e
	}
	ctx := context.Background()
	batches := []connectors.Batch{
		{Events: []*event.Event{in("1:100", 1000, 1, change(event.OpCreate, 1, "a")), in("1:100", 1000, 2, change(event.OpCreate, 2, "b"))}},
		{Events: []*event.Event{in("1:100", 1000, 3, change(event.OpUpdate, 1, "aa")), in("1:100", 1000, 4, change(event.OpDelete, 2, "b"))}, Committed: true},
		{Events: []*event.Event{in("2:200", 2000, 1, change(event.OpDelete, 1, "aa")), in("2:200", 2000, 2, &event.Event{Op: event.OpTruncate, Table: table})}},
		{Events: []*event.Event{in("3:300", 3000, 1, change(event.OpCreate, 3, "c"))}, Committed: true},
		{}, // a heartbeat's batch: no events, not yet an hour later
	}
	for _, b := range batches {
		if err := w.Emit(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	dec := kafka.NewDecoder(rc)
	read := func(topic string, n int) []string {
		t.Helper()
		consumer, err := kgo.NewClient(kgo.SeedBrokers(cl.OptValue(kgo.SeedBrokers).([]string)...), kgo.ConsumeTopics(topic),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		if err != nil {
			t.Fatal(err)
		}
		defer consumer.Close()
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		var got []string
		for len(got) < n && rctx.Err() == nil {
			consumer.PollFetches(rctx).EachRecord(func(r *kgo.Record) {
				var d kafka.Decoded
				if err := dec.DecodeKey(ctx, r, &d); err != nil {
					t.Fatal(err)
				}
				key, keySchema := d.Key, d.KeySchema.Name
				if err := dec.DecodeValue(ctx, r, &d); err != nil {
					t.Fatal(err)
				}
				got = append(got, fmt.Sprintf("%s %v %s %v", keySchema, key, d.ValueSchema.Name, d.Value))
			})
		}
		return got
	}

	const key, value = "io.debezium.connector.common.TransactionMetadataKey", "io.debezium.connector.common.TransactionMetadataValue"
	want := []string{
		key + " [1:100] " + value + " [BEGIN 1:100 <nil> <nil> 1000]",
		key + " [1:100] " + value + " [END 1:100 3 [[public.t 3]] 1000]",
		key + " [2:200] " + value + " [BEGIN 2:200 <nil> <nil> 2000]",
		key + " [2:200] " + value + " [END 2:200 1 [[public.t 1]] 2000]",
		key + " [3:300] " + value + " [BEGIN 3:300 <nil> <nil> 3000]",
		key + " [3:300] " + value + " [END 3:300 1 [[public.t 1]] 3000]",
	}
	if got := read("p.transaction", len(want)); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("transaction topic:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// The update and the truncate are skipped; tombstones are off.
	var ops []string
	for _, r := range read("p.public.t", 5) {
		f := strings.Fields(r) // the envelope ends with op, ts_ms, ts_us, ts_ns
		ops = append(ops, f[len(f)-4])
	}
	if got := strings.Join(ops, " "); got != "c c d d c" {
		t.Errorf("table topic operations: %s, want c c d d c", got)
	}

	hbs := read("__debezium-heartbeat.p", 1)
	if len(hbs) != 1 || !strings.HasPrefix(hbs[0], "io.debezium.connector.common.ServerNameKey [p] io.debezium.connector.common.Heartbeat [") {
		t.Fatalf("heartbeats: %v", hbs)
	}
	var ts int64
	fmt.Sscanf(hbs[0][strings.LastIndex(hbs[0], "[")+1:], "%d", &ts)
	if ts < start || ts > time.Now().UnixMilli() {
		t.Errorf("heartbeat ts_ms %d is not the time it was written (from %d)", ts, start)
	}
}
