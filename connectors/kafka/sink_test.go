package kafka

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
	"github.com/sluice-cdc/sluice/transforms"
)

// orderChange is an update of order 7 as a consumed record of
// dbz.public.orders, with its key and envelope framed under the fixture's
// schema ids.
func orderChange(t *testing.T, ts *schema.TableSchemas) (*kgo.Record, *event.Event) {
	t.Helper()
	ev := &event.Event{Op: event.OpUpdate, Before: event.Row{int64(7), nil}, After: event.Row{int64(7), "gift"}, TsMs: 1700000000200,
		Source: event.Source{Version: "v", Connector: "postgresql", Name: "dbz", DB: "shop", Schema: "public", Table: "orders", LSN: 4242, TxID: 9}}
	env, err := ts.Envelope.Append(schema.AppendFrame(nil, envelopeID, nil), ev)
	if err != nil {
		t.Fatal(err)
	}
	return &kgo.Record{Topic: "dbz.public.orders", Partition: 1, Offset: 9, Timestamp: time.UnixMilli(1700000000300),
		Key: frame(t, keyID, ts.Key.Schema(), event.Row{int64(7)}), Value: env}, ev
}

// chain builds a transform chain from Kafka Connect's keys.
func chain(t *testing.T, kv ...string) *transforms.Chain {
	t.Helper()
	raw := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		raw[kv[i]] = kv[i+1]
	}
	c, ps := transforms.Build(raw)
	if ps != nil || c == nil {
		t.Fatalf("build %v: %v", raw, ps)
	}
	return c
}

func TestSinkDecoderWithoutStageDecodesOnlyWhatIsAsked(t *testing.T) {
	reg, ts := decoderFixture(t)
	ctx := context.Background()
	r, ev := orderChange(t, ts)
	dec := NewSinkDecoder(reg, nil)
	var got SinkRecord
	if keep, err := dec.Decode(ctx, r, false, &got); !keep || err != nil {
		t.Fatalf("Decode: %v %v", keep, err)
	}
	if got.Topic != r.Topic || got.KeySchema != nil || got.Key != nil || got.Event == nil || got.Event.Op != ev.Op || !reflect.DeepEqual(got.Event.After, ev.After) {
		t.Errorf("without the key: %+v", got)
	}
	if n := reg.asked.Load(); n != 1 {
		t.Errorf("registry asked %d times, want 1 (the key was not asked for)", n)
	}
	if _, err := dec.Decode(ctx, r, true, &got); err != nil || got.KeySchema.Name != "dbz.public.orders.Key" || !reflect.DeepEqual(got.Key, event.Row{int64(7)}) {
		t.Errorf("with the key: %v %v %v", err, got.KeySchema, got.Key)
	}

	// A key without a Confluent frame is text, when it is UTF-8.
	r.Key = []byte("order-7")
	if _, err := dec.Decode(ctx, r, true, &got); err != nil || got.KeySchema != textKeySchema || got.Key != "order-7" {
		t.Errorf("text key: %v %v %v", err, got.KeySchema, got.Key)
	}
	r.Key = []byte{0xff, 0xfe}
	_, err := dec.Decode(ctx, r, true, &got)
	var bad *BadRecordError
	if !errors.As(err, &bad) || !bad.Key || err.Error() != "key: key is neither a Confluent frame nor UTF-8 text" {
		t.Errorf("binary key: %v", err)
	}
}

func TestSinkDecoderRunsRecordsThroughTheStage(t *testing.T) {
	reg, ts := decoderFixture(t)
	ctx := context.Background()
	r, ev := orderChange(t, ts)

	// A router changes the topic; the value is still a change event.
	dec := NewSinkDecoder(reg, chain(t, "transforms", "route", "transforms.route.type", "RegexRouter",
		"transforms.route.regex", `dbz\.public\.(.*)`, "transforms.route.replacement", "$1"))
	var got SinkRecord
	if keep, err := dec.Decode(ctx, r, false, &got); !keep || err != nil {
		t.Fatalf("route: %v %v", keep, err)
	}
	if got.Topic != "orders" || !reflect.DeepEqual(got.Key, event.Row{int64(7)}) || got.ValueSchema.Name != "dbz.public.orders.Envelope" {
		t.Errorf("route: topic %q key %v value schema %v", got.Topic, got.Key, got.ValueSchema)
	}
	if e := got.Event; e == nil || e.Op != ev.Op || e.Source != ev.Source || e.TsMs != ev.TsMs || !reflect.DeepEqual(e.Before, ev.Before) || !reflect.DeepEqual(e.After, ev.After) {
		t.Errorf("route: event %+v\nwant %+v", got.Event, ev)
	}

	// ExtractNewRecordState makes it a row; a tombstone becomes nothing.
	dec = NewSinkDecoder(reg, chain(t, "transforms", "unwrap", "transforms.unwrap.type", "io.debezium.transforms.ExtractNewRecordState",
		"transforms.unwrap.add.fields", "op,lsn"))
	if keep, err := dec.Decode(ctx, r, false, &got); !keep || err != nil {
		t.Fatalf("unwrap: %v %v", keep, err)
	}
	var names []string
	for _, f := range got.ValueSchema.Fields {
		names = append(names, f.Name)
	}
	if got.Topic != r.Topic || got.Event != nil || !reflect.DeepEqual(got.Value, event.Row{int64(7), "gift", "u", int64(4242)}) ||
		!reflect.DeepEqual(names, []string{"id", "note", "__op", "__lsn"}) {
		t.Errorf("unwrap: topic %q event %v value %v fields %v", got.Topic, got.Event, got.Value, names)
	}
	tombstone := &kgo.Record{Topic: r.Topic, Key: r.Key}
	if keep, err := dec.Decode(ctx, tombstone, false, &got); keep || err != nil {
		t.Errorf("unwrap of a tombstone: keep %v, %v; want it dropped", keep, err)
	}

	// A transform that fails is a TransformError naming it.
	dec = NewSinkDecoder(reg, chain(t, "transforms", "unwrap,cast",
		"transforms.unwrap.type", "ExtractNewRecordState",
		"transforms.cast.type", "org.apache.kafka.connect.transforms.Cast$Value", "transforms.cast.spec", "note:int32"))
	_, err := dec.Decode(ctx, r, false, &got)
	var failed *TransformError
	if !errors.As(err, &failed) || err.Error() != `transform cast: cast field "note": value (gift) was out of range for requested data type int32` {
		t.Errorf("failing cast: %v", err)
	}

	// So is a value a stage leaves without a schema, which no sink can read.
	dec = NewSinkDecoder(reg, stageFunc(func(r *record.Record) (*record.Record, error) {
		out := r.Clone()
		out.ValueSchema = nil
		return out, nil
	}))
	if _, err := dec.Decode(ctx, r, false, &got); !errors.As(err, &failed) || err.Error() != "the transformed value has no schema" {
		t.Errorf("schemaless value: %v", err)
	}
}

type stageFunc func(*record.Record) (*record.Record, error)

func (f stageFunc) Apply(r *record.Record) (*record.Record, error) { return f(r) }

// seen is a stage that keeps the records it is given and passes them on.
type seen struct {
	records []*record.Record
	inside  atomic.Int32
	overlap atomic.Bool
}

func (s *seen) Apply(r *record.Record) (*record.Record, error) {
	if s.inside.Add(1) > 1 {
		s.overlap.Store(true)
	}
	time.Sleep(time.Millisecond)
	s.records = append(s.records, r)
	s.inside.Add(-1)
	return r, nil
}

// The stage sees the consumed record's headers and time, and is called
// from one goroutine at a time however many read.
func TestSinkDecoderGivesTheStageHeadersAndTimeOneAtATime(t *testing.T) {
	reg, ts := decoderFixture(t)
	r, _ := orderChange(t, ts)
	r.Headers = []kgo.RecordHeader{{Key: "text", Value: []byte("abc")}, {Key: "bytes", Value: []byte{0xff}}, {Key: "null"}}
	stage := &seen{}
	dec := NewSinkDecoder(reg, stage)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			var got SinkRecord
			if keep, err := dec.Decode(context.Background(), r, false, &got); !keep || err != nil {
				t.Errorf("Decode: %v %v", keep, err)
			}
		})
	}
	wg.Wait()
	if stage.overlap.Load() || len(stage.records) != 8 {
		t.Fatalf("the stage was called %d times, overlapping: %v", len(stage.records), stage.overlap.Load())
	}
	in := stage.records[0]
	want := []record.Header{{Key: "text", Schema: textHeaderSchema, Value: "abc"}, {Key: "bytes", Schema: bytesHeaderSchema, Value: []byte{0xff}}, {Key: "null"}}
	if !reflect.DeepEqual(in.Headers, want) || in.Timestamp != 1700000000300 || in.Topic != r.Topic {
		t.Errorf("the stage saw headers %v, timestamp %d, topic %q", in.Headers, in.Timestamp, in.Topic)
	}
}
