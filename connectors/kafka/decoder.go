package kafka

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/singleflight"

	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/registry"
)

// SchemaSource resolves the schema ids of Confluent frames; *registry.Client
// is one. Schema is called from many goroutines, at most once at a time per
// id by one Decoder.
type SchemaSource interface {
	Schema(ctx context.Context, id int) (*registry.Schema, error)
}

// Decoded is a consumed record decoded, in the form a sink-side transform
// takes (the fields are named as in a record of Kafka Connect's transforms):
// the key and the value each with its writer schema, and for a Debezium
// envelope the change as an event.
//
// Values have the Go forms event.Row holds for each event.Type: a struct
// decodes to an event.Row with one value per field of its schema (nested
// structs to []any); nil is null. Decoded values are the record's own and
// are not shared with other records.
type Decoded struct {
	// KeySchema is the key's writer schema; nil for a null key.
	KeySchema *event.Schema
	Key       any
	// ValueSchema is the value's writer schema; nil for a tombstone (a
	// null value).
	ValueSchema *event.Schema
	// Value is the value as the record holds it: for a Debezium envelope,
	// the envelope's fields (before, after, source, op, ts_ms, ...).
	Value any
	// Event is the change a Debezium envelope holds (see isEnvelope) as
	// schema.EnvelopeCodec decodes it, its rows shared with Value; nil for
	// other values and tombstones. Its Table and Position are not set: they
	// are not part of the record.
	Event *event.Event
}

// BadRecordError is a record that cannot be decoded: its bytes are not a
// Confluent frame, the registry does not know its schema id (or answers a
// schema sluice cannot read), or the body does not match the schema.
// Retrying does not help; a sink skips the record or sends it to its
// dead-letter topic. Every other error a Decoder returns is worth retrying:
// the registry is unavailable, or ctx ended.
type BadRecordError struct {
	Key bool  // the key is bad; otherwise the value
	Err error // what is wrong
}

func (e *BadRecordError) Error() string {
	if e.Key {
		return "key: " + e.Err.Error()
	}
	return e.Err.Error()
}

func (e *BadRecordError) Unwrap() error { return e.Err }

// Decoder turns consumed records back into keys and values: it splits the
// Confluent wire frame, fetches the writer schema by id from the registry
// and compiles its codec once per id — concurrent first uses of an id share
// one fetch — and decodes; or, with WithSinkConverters, it reads what
// Kafka Connect's JsonConverter or StringConverter wrote. It is safe for concurrent use; a sink keeps one
// for all its readers.
type Decoder struct {
	reg SchemaSource
	// keys and values read what another converter than Avro wrote; nil
	// for Confluent's wire format.
	keys, values reader
	mu           sync.RWMutex
	codecs       map[uint32]*codec
	flights      singleflight.Group
}

// codec decodes the keys or values written with one schema id.
type codec struct {
	generic  *schema.Codec
	envelope *schema.EnvelopeCodec // Debezium envelopes; nil otherwise
}

// NewDecoder returns a Decoder that resolves schema ids with reg.
func NewDecoder(reg SchemaSource, opts ...DecoderOption) *Decoder {
	d := &Decoder{reg: reg, codecs: map[uint32]*codec{}}
	for _, o := range opts {
		o(d)
	}
	return d
}

// DecodeKey decodes r's key into out.Key and out.KeySchema; a null key
// sets both to nil. A key that cannot be decoded is a *BadRecordError with
// Key set (one without a Confluent frame wraps schema.ErrShortFrame or
// schema.ErrMagicByte); any other error is worth retrying. It blocks while
// the registry is asked for a schema id seen for the first time.
func (d *Decoder) DecodeKey(ctx context.Context, r *kgo.Record, out *Decoded) error {
	out.KeySchema, out.Key = nil, nil
	if r.Key == nil {
		return nil
	}
	if d.keys != nil {
		s, v, _, err := d.keys.read(r, true, r.Key)
		out.KeySchema, out.Key = s, v
		return err
	}
	c, body, err := d.split(ctx, r, true, r.Key)
	if err != nil {
		return err
	}
	v, err := c.generic.Decode(body)
	if err != nil {
		return &BadRecordError{Key: true, Err: err}
	}
	out.KeySchema, out.Key = c.generic.Schema(), v
	return nil
}

// DecodeValue decodes r's value into out.Value and out.ValueSchema, and
// out.Event for a Debezium envelope; a tombstone sets all three to nil.
// Errors are as DecodeKey's, with Key unset.
func (d *Decoder) DecodeValue(ctx context.Context, r *kgo.Record, out *Decoded) error {
	out.ValueSchema, out.Value, out.Event = nil, nil, nil
	if r.Value == nil {
		return nil
	}
	if d.values != nil {
		s, v, env, err := d.values.read(r, false, r.Value)
		if err != nil || env == nil {
			out.ValueSchema, out.Value = s, v
			return err
		}
		return setEvent(env, s, v, out)
	}
	c, body, err := d.split(ctx, r, false, r.Value)
	if err != nil {
		return err
	}
	v, err := c.generic.Decode(body)
	if err != nil {
		return &BadRecordError{Err: err}
	}
	if c.envelope != nil {
		return setEvent(c.envelope, c.generic.Schema(), v, out)
	}
	out.ValueSchema, out.Value = c.generic.Schema(), v
	return nil
}

// setEvent sets out to a Debezium envelope value v of schema s and the
// change it holds.
func setEvent(env *schema.EnvelopeCodec, s *event.Schema, v any, out *Decoded) error {
	ev := &event.Event{}
	row, _ := v.(event.Row)
	if err := env.FromValue(row, ev); err != nil {
		return &BadRecordError{Err: err}
	}
	out.ValueSchema, out.Value, out.Event = s, v, ev
	return nil
}

// split splits a key or value frame and finds the codec of its schema id.
func (d *Decoder) split(ctx context.Context, r *kgo.Record, isKey bool, b []byte) (*codec, []byte, error) {
	id, body, err := schema.SplitFrame(b)
	if err != nil {
		return nil, nil, &BadRecordError{Key: isKey, Err: err}
	}
	c, err := d.codec(ctx, id)
	if err != nil {
		if errors.Is(err, registry.ErrUnavailable) || ctx.Err() != nil ||
			errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			part := "value"
			if isKey {
				part = "key"
			}
			return nil, nil, fmt.Errorf("decode %s of record %s/%d@%d: %w", part, r.Topic, r.Partition, r.Offset, err)
		}
		return nil, nil, &BadRecordError{Key: isKey, Err: err}
	}
	return c, body, nil
}

// codec returns the codec of schema id, fetching and compiling it on first
// use. A caller whose ctx ends stops waiting without cancelling the fetch
// others share. Failures are not kept: the next record asks again.
func (d *Decoder) codec(ctx context.Context, id uint32) (*codec, error) {
	d.mu.RLock()
	c, ok := d.codecs[id]
	d.mu.RUnlock()
	if ok {
		return c, nil
	}
	shared := context.WithoutCancel(ctx)
	ch := d.flights.DoChan(strconv.FormatUint(uint64(id), 10), func() (any, error) {
		c, err := d.compile(shared, id)
		if err != nil {
			return nil, err
		}
		d.mu.Lock()
		d.codecs[id] = c
		d.mu.Unlock()
		return c, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*codec), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (d *Decoder) compile(ctx context.Context, id uint32) (*codec, error) {
	got, err := d.reg.Schema(ctx, int(id))
	if err != nil {
		return nil, fmt.Errorf("fetch schema id %d: %w", id, err)
	}
	s, err := schema.FromAvro(got.Text)
	if err != nil {
		return nil, fmt.Errorf("parse schema id %d: %w", id, err)
	}
	c := &codec{}
	if c.generic, err = schema.NewCodec(s); err != nil {
		return nil, fmt.Errorf("schema id %d: %w", id, err)
	}
	if isEnvelope(s) {
		if c.envelope, err = schema.NewEnvelopeCodec(s, nil); err != nil {
			return nil, fmt.Errorf("schema id %d: %w", id, err)
		}
	}
	return c, nil
}

// isEnvelope reports whether s is a Debezium envelope: a struct with op,
// source and a before or after struct.
func isEnvelope(s *event.Schema) bool {
	if s.Type != event.Struct || s.FieldIndex("op") < 0 || s.FieldIndex("source") < 0 {
		return false
	}
	for _, name := range []string{"after", "before"} {
		if i := s.FieldIndex(name); i >= 0 && s.Fields[i].Schema.Type == event.Struct {
			return true
		}
	}
	return false
}

// Row returns the row the value carries, with its schema: for a Debezium
// envelope, after when present, otherwise before (a field of ValueSchema);
// for another struct value, the value itself (a flattened row). It returns
// nil and nil for a truncate, a tombstone and a value that is not a struct.
func (d *Decoded) Row() (event.Row, *event.Schema) {
	if d.Event == nil {
		row, ok := d.Value.(event.Row)
		if !ok || d.ValueSchema.Type != event.Struct {
			return nil, nil
		}
		return row, d.ValueSchema
	}
	row, name := d.Event.After, "after"
	if row == nil {
		row, name = d.Event.Before, "before"
	}
	if i := d.ValueSchema.FieldIndex(name); i >= 0 && row != nil {
		return row, d.ValueSchema.Fields[i].Schema
	}
	return nil, nil
}
