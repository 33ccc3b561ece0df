package kafka_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/kafka"
	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

// unwrapTo is a stage like a chain of RegexRouter and ExtractNewRecordState:
// it moves records to topic, replaces a change's envelope by its after row
// (one output schema per input schema) and drops tombstones and deletes.
type unwrapTo struct {
	topic   string
	schemas map[*event.Schema]*event.Schema
}

func (u *unwrapTo) Apply(r *record.Record) (*record.Record, error) {
	s, after, ok := record.Field(r.ValueSchema, r.Value, "after")
	if !ok || after == nil {
		return nil, nil
	}
	out := r.Clone()
	out.Topic = r.Topic + "-" + u.topic
	if u.schemas[r.ValueSchema] == nil {
		row := *s
		row.Optional = false
		u.schemas[r.ValueSchema] = &row
	}
	out.ValueSchema, out.Value = u.schemas[r.ValueSchema], after
	return out, nil
}

func TestWriterRunsRecordsThroughTheStage(t *testing.T) {
	pc := kafka.ProducerConfig{Compression: "none", Partitions: 1, ReplicationFactor: -1}
	cl, rc := setup(t, pc)
	stage := &unwrapTo{topic: "rows", schemas: map[*event.Schema]*event.Schema{}}
	w := kafka.NewWriter(cl, rc, pc.Topics(cl), schema.Options{Prefix: "p", Connector: "postgresql"}, kafka.WithStage(stage))
	ctx := context.Background()
	events := []*event.Event{change(event.OpCreate, 1, "a"), change(event.OpUpdate, 1, "b"), change(event.OpDelete, 1, "b"), change(event.OpCreate, 2, "c")}
	for i, e := range events {
		e.TsMs = int64(1_700_000_000_000 + i)
	}
	acked := 0
	if err := w.Emit(ctx, connectors.Batch{Events: events, Ack: func() { acked++ }}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(ctx); err != nil || acked != 1 {
		t.Fatalf("Flush: %v, %d acks", err, acked)
	}

	consumer, err := kgo.NewClient(kgo.SeedBrokers(cl.OptValue(kgo.SeedBrokers).([]string)...), kgo.ConsumeTopics("p.public.t-rows", "p.public.t"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var got []*kgo.Record
	for len(got) < 3 && rctx.Err() == nil {
		consumer.PollFetches(rctx).EachRecord(func(r *kgo.Record) { got = append(got, r) })
	}
	if len(got) != 3 {
		t.Fatalf("%d records, want 3 (the delete and its tombstone dropped)", len(got))
	}
	dec := kafka.NewDecoder(rc)
	ids := map[uint32]bool{}
	for i, r := range got {
		want := []any{[]any{int32(1), "a"}, []any{int32(1), "b"}, []any{int32(2), "c"}}[i].([]any)
		if r.Topic != "p.public.t-rows" {
			t.Errorf("record %d went to %s", i, r.Topic)
		}
		if wantTs := []int64{0, 1, 3}[i] + 1_700_000_000_000; r.Timestamp.UnixMilli() != wantTs {
			t.Errorf("record %d has timestamp %d, want the change's ts_ms %d", i, r.Timestamp.UnixMilli(), wantTs)
		}
		id, _, err := schema.SplitFrame(r.Value)
		if err != nil {
			t.Fatal(err)
		}
		ids[id] = true
		var d kafka.Decoded
		if err := dec.DecodeValue(ctx, r, &d); err != nil {
			t.Fatal(err)
		}
		row := d.Value.(event.Row)
		if d.ValueSchema.Name != "p.public.t.Value" || row[0] != want[0] || row[1] != want[1] {
			t.Errorf("record %d: %s %v, want p.public.t.Value %v", i, d.ValueSchema.Name, row, want)
		}
	}
	if len(ids) != 1 {
		t.Errorf("the value schema was registered as %d ids, want 1", len(ids))
	}
}
