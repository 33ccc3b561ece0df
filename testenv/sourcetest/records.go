package sourcetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/registry"
)

// readWait bounds how long a read waits for the records it expects.
const readWait = 30 * time.Second

// Record is a change record read back from Kafka and decoded with the
// schemas the registry holds for its frames' ids.
type Record struct {
	Topic  string
	Offset int64
	// Key is the key row (the table's key columns), nil for a null key.
	Key event.Row
	// Value is the change, nil for a tombstone. Its Table is nil: Columns
	// names the fields of its Before and After rows.
	Value *event.Event
	// Columns are the names of the row fields of the value's schema, in
	// the order of Value.Before and Value.After.
	Columns []string
}

// Field returns the after image's value of column name (the before
// image's for a delete), and whether the record has that column.
func (r Record) Field(name string) (any, bool) {
	if r.Value == nil {
		return nil, false
	}
	row := r.Value.After
	if row == nil {
		row = r.Value.Before
	}
	for i, c := range r.Columns {
		if c == name && i < len(row) {
			return row[i], true
		}
	}
	return nil, false
}

// Decoder decodes records in Confluent frames with the schemas of a
// registry, caching them by id. It is safe for concurrent use.
type Decoder struct {
	reg *registry.Client

	mu     sync.Mutex
	keys   map[uint32]*schema.Codec
	values map[uint32]*envelope
}

type envelope struct {
	codec   *schema.EnvelopeCodec
	columns []string
}

// NewDecoder returns a decoder of the schemas reg holds.
func NewDecoder(reg *registry.Client) *Decoder {
	return &Decoder{reg: reg, keys: map[uint32]*schema.Codec{}, values: map[uint32]*envelope{}}
}

// Decode decodes a record's key and value.
func (d *Decoder) Decode(ctx context.Context, r *kgo.Record) (Record, error) {
	rec := Record{Topic: r.Topic, Offset: r.Offset}
	if r.Key != nil {
		id, body, err := schema.SplitFrame(r.Key)
		if err != nil {
			return rec, fmt.Errorf("key of %s@%d: %w", r.Topic, r.Offset, err)
		}
		codec, err := d.keyCodec(ctx, id)
		if err != nil {
			return rec, err
		}
		v, err := codec.Decode(body)
		if err != nil {
			return rec, fmt.Errorf("key of %s@%d: %w", r.Topic, r.Offset, err)
		}
		row, ok := v.(event.Row)
		if !ok {
			return rec, fmt.Errorf("key of %s@%d: a %T, not a row", r.Topic, r.Offset, v)
		}
		rec.Key = row
	}
	if r.Value != nil {
		id, body, err := schema.SplitFrame(r.Value)
		if err != nil {
			return rec, fmt.Errorf("value of %s@%d: %w", r.Topic, r.Offset, err)
		}
		env, err := d.valueCodec(ctx, id)
		if err != nil {
			return rec, err
		}
		rec.Value, rec.Columns = &event.Event{}, env.columns
		if err := env.codec.Decode(body, rec.Value); err != nil {
			return rec, fmt.Errorf("value of %s@%d: %w", r.Topic, r.Offset, err)
		}
	}
	return rec, nil
}

func (d *Decoder) keyCodec(ctx context.Context, id uint32) (*schema.Codec, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c := d.keys[id]; c != nil {
		return c, nil
	}
	es, err := d.fetch(ctx, id)
	if err != nil {
		return nil, err
	}
	c, err := schema.NewCodec(es)
	if err != nil {
		return nil, fmt.Errorf("codec of schema %d: %w", id, err)
	}
	d.keys[id] = c
	return c, nil
}

func (d *Decoder) valueCodec(ctx context.Context, id uint32) (*envelope, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e := d.values[id]; e != nil {
		return e, nil
	}
	es, err := d.fetch(ctx, id)
	if err != nil {
		return nil, err
	}
	c, err := schema.NewEnvelopeCodec(es, nil)
	if err != nil {
		return nil, fmt.Errorf("envelope codec of schema %d: %w", id, err)
	}
	e := &envelope{codec: c}
	for _, part := range []string{"after", "before"} {
		if i := es.FieldIndex(part); i >= 0 && e.columns == nil {
			for _, f := range es.Fields[i].Schema.Fields {
				e.columns = append(e.columns, f.Name)
			}
		}
	}
	d.values[id] = e
	return e, nil
}

func (d *Decoder) fetch(ctx context.Context, id uint32) (*event.Schema, error) {
	s, err := d.reg.Schema(ctx, int(id))
	if err != nil {
		return nil, fmt.Errorf("schema %d from the registry: %w", id, err)
	}
	es, err := schema.FromAvro(s.Text)
	if err != nil {
		return nil, fmt.Errorf("schema %d: %w", id, err)
	}
	return es, nil
}

// ReadUntil consumes topic from its start, decoding each record, until done
// accepts the records read so far; it fails the test when done has not
// within 30 s, or when alive (when not nil) fails it first: alive is
// called between polls to notice a source that stopped.
func (d *Decoder) ReadUntil(t testing.TB, brokers []string, topic string, alive func(), done func([]Record) bool) []Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatalf("consumer of %s: %v", topic, err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), readWait)
	defer cancel()
	var out []Record
	for !done(out) {
		if alive != nil {
			alive()
		}
		if ctx.Err() != nil {
			t.Fatalf("topic %s: the records expected did not arrive within %s; got %d:%s", topic, readWait, len(out), Describe(out))
		}
		pctx, pcancel := context.WithTimeout(ctx, 500*time.Millisecond)
		fs := cl.PollFetches(pctx)
		pcancel()
		fs.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				t.Logf("fetch %s: %v", topic, err)
			}
		})
		var decodeErr error
		fs.EachRecord(func(r *kgo.Record) {
			if decodeErr != nil {
				return
			}
			rec, err := d.Decode(ctx, r)
			if err != nil {
				decodeErr = err
			}
			out = append(out, rec)
		})
		if decodeErr != nil {
			t.Fatal(decodeErr)
		}
	}
	return out
}

// ReadAll consumes a single-partition topic from its start to its current
// end; a topic that does not exist has no records.
func (d *Decoder) ReadAll(t testing.TB, brokers []string, topic string) []Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatalf("client of %v: %v", brokers, err)
	}
	ends, err := kadm.NewClient(cl).ListEndOffsets(context.Background(), topic)
	cl.Close()
	if err != nil {
		t.Fatalf("end offsets of %s: %v", topic, err)
	}
	end, ok := ends.Lookup(topic, 0)
	if !ok || end.Err != nil || end.Offset == 0 {
		return nil
	}
	return d.ReadUntil(t, brokers, topic, nil, func(rs []Record) bool { return len(rs) > 0 && rs[len(rs)-1].Offset >= end.Offset-1 })
}

// Describe renders records briefly for failure messages: op and key each.
func Describe(rs []Record) string {
	const most = 40
	s := ""
	for i, r := range rs {
		if i == most {
			s += fmt.Sprintf(" … (%d more)", len(rs)-most)
			break
		}
		if r.Value == nil {
			s += fmt.Sprintf(" tombstone%v", r.Key)
			continue
		}
		s += fmt.Sprintf(" %s%v", r.Value.Op, r.Key)
	}
	return s
}
