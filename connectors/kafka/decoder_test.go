package kafka

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/registry"
)

// fakeSchemas answers schema ids from a map and counts the questions; down
// makes it answer as an unavailable registry, gate holds answers back.
type fakeSchemas struct {
	texts map[int]string
	asked atomic.Int32
	down  atomic.Bool
	gate  chan struct{}
}

func (f *fakeSchemas) Schema(ctx context.Context, id int) (*registry.Schema, error) {
	f.asked.Add(1)
	if f.gate != nil {
		<-f.gate
	}
	if f.down.Load() {
		return nil, fmt.Errorf("get schema id %d: %w", id, registry.ErrUnavailable)
	}
	text, ok := f.texts[id]
	if !ok {
		return nil, fmt.Errorf("get schema id %d: registry answered HTTP 404 (error code 40403): Schema not found", id)
	}
	return &registry.Schema{ID: id, Text: text}, nil
}

const (
	keyID      = 1
	envelopeID = 2
	flatID     = 3
	scalarID   = 4
	brokenID   = 5
)

func decoderFixture(t *testing.T) (*fakeSchemas, *schema.TableSchemas) {
	t.Helper()
	table := &event.Table{
		ID: event.TableID{Database: "shop", Schema: "public", Table: "orders"},
		Columns: []event.Column{
			{Name: "id", Schema: &event.Schema{Type: event.Int64}},
			{Name: "note", Schema: &event.Schema{Type: event.String, Optional: true}},
		},
		Key: []int{0},
	}
	ts, err := schema.ForTable(table, schema.Options{Prefix: "dbz", Connector: "postgresql"})
	if err != nil {
		t.Fatal(err)
	}
	flat, err := schema.AvroJSON(ts.Value)
	if err != nil {
		t.Fatal(err)
	}
	return &fakeSchemas{texts: map[int]string{
		keyID: ts.Key.AvroJSON(), envelopeID: ts.Envelope.AvroJSON(), flatID: flat,
		scalarID: `"string"`, brokenID: `{"type":"record","name":"x","fields":[{"name":"a","type":"nope"}]}`,
	}}, ts
}

func frame(t *testing.T, id uint32, s *event.Schema, v any) []byte {
	t.Helper()
	c, err := schema.NewCodec(s)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Append(schema.AppendFrame(nil, id, nil), v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecoderDecodesKeysEnvelopesAndRows(t *testing.T) {
	reg, ts := decoderFixture(t)
	ctx := context.Background()
	ev := event.Event{Op: event.OpUpdate, Before: event.Row{int64(7), nil}, After: event.Row{int64(7), "gift"}, TsMs: 1700000000200,
		Source:      event.Source{Version: "v", Connector: "postgresql", Name: "dbz", DB: "shop", Schema: "public", Table: "orders", LSN: 4242, TxID: 9},
		Transaction: &event.Transaction{ID: "9:4242", TotalOrder: 2, DataCollectionOrder: 1}}
	env, err := ts.Envelope.Append(schema.AppendFrame(nil, envelopeID, nil), &ev)
	if err != nil {
		t.Fatal(err)
	}
	r := &kgo.Record{Topic: "dbz.public.orders", Key: frame(t, keyID, ts.Key.Schema(), event.Row{int64(7)}), Value: env}
	dec := NewDecoder(reg)
	var got Decoded
	if err := dec.DecodeKey(ctx, r, &got); err != nil {
		t.Fatal(err)
	}
	if err := dec.DecodeValue(ctx, r, &got); err != nil {
		t.Fatal(err)
	}
	if got.KeySchema == nil || got.KeySchema.Name != "dbz.public.orders.Key" || !reflect.DeepEqual(got.Key, event.Row{int64(7)}) {
		t.Errorf("key %v %v", got.KeySchema, got.Key)
	}
	if got.ValueSchema == nil || got.ValueSchema.Name != "dbz.public.orders.Envelope" {
		t.Fatalf("value schema %v", got.ValueSchema)
	}
	if e := got.Event; e == nil || e.Op != ev.Op || e.Source != ev.Source || e.TsMs != ev.TsMs || !reflect.DeepEqual(e.Transaction, ev.Transaction) ||
		!reflect.DeepEqual(e.Before, ev.Before) || !reflect.DeepEqual(e.After, ev.After) {
		t.Errorf("event %+v\nwant %+v", got.Event, ev)
	}
	if op := got.Value.(event.Row)[got.ValueSchema.FieldIndex("op")]; op != "u" {
		t.Errorf("envelope value: op %v", op)
	}
	if row, s := got.Row(); !reflect.DeepEqual(row, ev.After) || s.Name != "dbz.public.orders.Value" {
		t.Errorf("row %v of %v", row, s)
	}

	// A flattened row is a value without an event; its row is the value.
	r = &kgo.Record{Value: frame(t, flatID, ts.Value, event.Row{int64(8), "x"})}
	if err := dec.DecodeValue(ctx, r, &got); err != nil {
		t.Fatal(err)
	}
	if row, s := got.Row(); got.Event != nil || !reflect.DeepEqual(row, event.Row{int64(8), "x"}) || s != got.ValueSchema {
		t.Errorf("flat: event %v row %v", got.Event, row)
	}

	// A scalar value has no row.
	r = &kgo.Record{Value: frame(t, scalarID, &event.Schema{Type: event.String}, "hi")}
	if err := dec.DecodeValue(ctx, r, &got); err != nil {
		t.Fatal(err)
	}
	if row, s := got.Row(); got.Value != "hi" || row != nil || s != nil {
		t.Errorf("scalar: value %v row %v %v", got.Value, row, s)
	}

	// A null key and a tombstone decode to nothing, and clear what was there.
	r = &kgo.Record{}
	if err := dec.DecodeKey(ctx, r, &got); err != nil {
		t.Fatal(err)
	}
	if err := dec.DecodeValue(ctx, r, &got); err != nil {
		t.Fatal(err)
	}
	if got != (Decoded{}) {
		t.Errorf("null key and value: %+v", got)
	}
	if n := reg.asked.Load(); n != 4 {
		t.Errorf("registry asked %d times, want once per schema id (4)", n)
	}
}

func TestDecoderTellsBadRecordsFromAnUnavailableRegistry(t *testing.T) {
	reg, ts := decoderFixture(t)
	ctx := context.Background()
	row := frame(t, flatID, ts.Value, event.Row{int64(8), "x"})
	tests := []struct {
		name   string
		key    bool
		b      []byte
		is     error // what the bad record's error wraps, if anything in particular
		reason string
	}{
		{"value without a frame", false, []byte("abc"), schema.ErrShortFrame, ""},
		{"key without a magic byte", true, []byte("plain text key"), schema.ErrMagicByte, ""},
		{"unknown schema id", false, schema.AppendFrame(nil, 99, []byte{0}), nil, "fetch schema id 99: get schema id 99: registry answered HTTP 404"},
		{"unreadable schema", true, schema.AppendFrame(nil, brokenID, nil), nil, "parse schema id 5"},
		{"body not of its schema", false, row[:len(row)-1], nil, "decode dbz.public.orders.Value"},
	}
	dec := NewDecoder(reg)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &kgo.Record{Value: []byte{0, 0, 0, 0, flatID, 16, 2, 2, 'x'}}
			var err error
			if tc.key {
				r.Key = tc.b
				err = dec.DecodeKey(ctx, r, &Decoded{})
			} else {
				r.Value = tc.b
				err = dec.DecodeValue(ctx, r, &Decoded{})
			}
			var bad *BadRecordError
			if !errors.As(err, &bad) || bad.Key != tc.key {
				t.Fatalf("got %v, want a bad record (key %v)", err, tc.key)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("%v does not wrap %v", err, tc.is)
			}
			if tc.reason != "" && (len(bad.Err.Error()) < len(tc.reason) || bad.Err.Error()[:len(tc.reason)] != tc.reason) {
				t.Errorf("reason %q, want it to start with %q", bad.Err, tc.reason)
			}
		})
	}

	// An unavailable registry is worth retrying, and is not remembered.
	dec = NewDecoder(reg)
	reg.down.Store(true)
	r := &kgo.Record{Topic: "t", Partition: 1, Offset: 5, Value: row}
	err := dec.DecodeValue(ctx, r, &Decoded{})
	var bad *BadRecordError
	if errors.As(err, &bad) || !errors.Is(err, registry.ErrUnavailable) || err.Error()[:31] != "decode value of record t/1@5: f" {
		t.Fatalf("unavailable registry: %v", err)
	}
	reg.down.Store(false)
	if err := dec.DecodeValue(ctx, r, &Decoded{}); err != nil {
		t.Fatalf("after the registry is back: %v", err)
	}

	// So is a ctx that ended while the registry was asked.
	reg.gate = make(chan struct{})
	defer close(reg.gate)
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	r.Value = frame(t, keyID, ts.Key.Schema(), event.Row{int64(1)})
	if err := dec.DecodeValue(cctx, r, &Decoded{}); errors.As(err, &bad) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ended ctx: %v", err)
	}
}

// Readers that meet a new schema id together share one question to the
// registry and one compiled codec.
func TestDecoderAsksOncePerSchemaID(t *testing.T) {
	reg, ts := decoderFixture(t)
	reg.gate = make(chan struct{})
	dec := NewDecoder(reg)
	r := &kgo.Record{Value: frame(t, flatID, ts.Value, event.Row{int64(8), "x"})}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var d Decoded
			errs <- dec.DecodeValue(context.Background(), r, &d)
		}()
	}
	time.Sleep(50 * time.Millisecond)
	close(reg.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := reg.asked.Load(); n != 1 {
		t.Errorf("registry asked %d times, want 1", n)
	}
}
