package sse

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/jsontext"
	"github.com/sluice-cdc/sluice/schema/registry"
)

// schemaSource resolves registry schema ids; *registry.Client is one.
type schemaSource interface {
	Schema(ctx context.Context, id int) (*registry.Schema, error)
}

// message is one change, decoded once and rendered once. The hub and each
// replay build their own messages; a message is used by one goroutine.
type message struct {
	topic, table string
	op           event.Op
	rowSchema    *event.Schema // of row
	row          []any         // after, or before for deletes; nil for truncates
	data         []byte        // the JSON of the data: field
	texts        map[string]string
}

// fieldText returns the text of the row's field called name, for where
// conditions; ok is false when the row has no such field.
func (m *message) fieldText(name string) (string, bool) {
	if t, ok := m.texts[name]; ok {
		return t, true
	}
	if m.rowSchema == nil {
		return "", false
	}
	i := m.rowSchema.FieldIndex(name)
	if i < 0 || i >= len(m.row) {
		return "", false
	}
	t := fieldText(m.rowSchema.Fields[i].Schema, m.row[i])
	if m.texts == nil {
		m.texts = map[string]string{}
	}
	m.texts[name] = t
	return t, true
}

// badRecordError is a record that cannot be decoded; it is skipped.
type badRecordError struct{ err error }

func (e *badRecordError) Error() string { return e.err.Error() }
func (e *badRecordError) Unwrap() error { return e.err }

// valueCodec decodes envelopes of one writer schema and knows where the
// fields the sink reads are.
type valueCodec struct {
	codec                    *schema.Codec
	env                      *event.Schema
	before, after, source    int
	op, tsMs                 int
	srcSchema, srcDB, srcTbl int
}

// decoder turns records into messages. Its codec caches are shared by the
// hub and the replays and are safe for concurrent use.
type decoder struct {
	reg    schemaSource
	flat   bool
	mu     sync.Mutex
	values map[uint32]*valueCodec
	keys   map[uint32]*schema.Codec
}

func newDecoder(reg schemaSource, format string) *decoder {
	return &decoder{reg: reg, flat: format == "flat", values: map[uint32]*valueCodec{}, keys: map[uint32]*schema.Codec{}}
}

// decode decodes r into a message without its frame. It returns nil for a
// tombstone, a *badRecordError for a record that cannot be decoded, and
// other errors (the registry is unavailable, ctx ended) when reading must
// stop.
func (d *decoder) decode(ctx context.Context, r *kgo.Record) (*message, error) {
	if r.Value == nil {
		return nil, nil
	}
	id, body, err := schema.SplitFrame(r.Value)
	if err != nil {
		return nil, d.bad(r, err)
	}
	vc, err := d.valueCodec(ctx, id)
	if err != nil {
		return nil, d.classify(r, err)
	}
	v, err := vc.codec.Decode(body)
	if err != nil {
		return nil, d.bad(r, err)
	}
	env, _ := v.(event.Row)
	m := &message{topic: r.Topic}
	opText, _ := at(env, vc.op).(string)
	if m.op, err = event.ParseOp(opText); err != nil {
		return nil, d.bad(r, err)
	}
	if src, ok := at(env, vc.source).([]any); ok {
		db, _ := at(src, vc.srcDB).(string)
		sch, _ := at(src, vc.srcSchema).(string)
		tbl, _ := at(src, vc.srcTbl).(string)
		if sch == "" {
			sch = db
		}
		m.table = sch + "." + tbl
	}
	if after, ok := at(env, vc.after).([]any); ok {
		m.row, m.rowSchema = after, vc.env.Fields[vc.after].Schema
	} else if before, ok := at(env, vc.before).([]any); ok {
		m.row, m.rowSchema = before, vc.env.Fields[vc.before].Schema
	}
	if !d.flat {
		m.data = appendJSON(nil, vc.env, []any(env))
		return m, nil
	}
	m.data, err = d.flatJSON(ctx, r, vc, env, m)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// flatJSON renders the row with __op, __table, __ts_ms and __key.
func (d *decoder) flatJSON(ctx context.Context, r *kgo.Record, vc *valueCodec, env event.Row, m *message) ([]byte, error) {
	b := []byte{'{'}
	if m.rowSchema != nil {
		obj := appendJSON(nil, m.rowSchema, m.row)
		if len(obj) > 2 {
			b = append(b, obj[1:len(obj)-1]...)
			b = append(b, ',')
		}
	}
	b = append(b, `"__op":`...)
	b = jsontext.AppendString(b, m.op.String())
	b = append(b, `,"__table":`...)
	b = jsontext.AppendString(b, m.table)
	b = append(b, `,"__ts_ms":`...)
	if vc.tsMs >= 0 {
		b = appendJSON(b, vc.env.Fields[vc.tsMs].Schema, at(env, vc.tsMs))
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"__key":`...)
	if r.Key == nil {
		b = append(b, "null"...)
	} else {
		id, body, err := schema.SplitFrame(r.Key)
		if err != nil {
			return nil, d.bad(r, fmt.Errorf("key: %w", err))
		}
		kc, err := d.keyCodec(ctx, id)
		if err != nil {
			return nil, d.classify(r, err)
		}
		k, err := kc.Decode(body)
		if err != nil {
			return nil, d.bad(r, fmt.Errorf("key: %w", err))
		}
		b = appendJSON(b, kc.Schema(), k)
	}
	return append(b, '}'), nil
}

func at[T ~[]any](vals T, i int) any {
	if i < 0 || i >= len(vals) {
		return nil
	}
	return vals[i]
}

func (d *decoder) bad(r *kgo.Record, err error) error {
	return &badRecordError{fmt.Errorf("decode record %s/%d@%d: %w", r.Topic, r.Partition, r.Offset, err)}
}

// classify turns a codec lookup failure into a stop (registry unavailable,
// ctx ended) or a bad record (the schema is missing or unusable).
func (d *decoder) classify(r *kgo.Record, err error) error {
	if errors.Is(err, registry.ErrUnavailable) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("decode record %s/%d@%d: %w", r.Topic, r.Partition, r.Offset, err)
	}
	return d.bad(r, err)
}

func (d *decoder) valueCodec(ctx context.Context, id uint32) (*valueCodec, error) {
	d.mu.Lock()
	vc, ok := d.values[id]
	d.mu.Unlock()
	if ok {
		return vc, nil
	}
	s, err := d.schema(ctx, id)
	if err != nil {
		return nil, err
	}
	c, err := schema.NewCodec(s)
	if err != nil {
		return nil, fmt.Errorf("schema id %d: %w", id, err)
	}
	if s.Type != event.Struct || s.FieldIndex("op") < 0 {
		return nil, fmt.Errorf("schema id %d is not a Debezium envelope (no op field)", id)
	}
	vc = &valueCodec{codec: c, env: s, before: s.FieldIndex("before"), after: s.FieldIndex("after"),
		source: s.FieldIndex("source"), op: s.FieldIndex("op"), tsMs: s.FieldIndex("ts_ms"), srcSchema: -1, srcDB: -1, srcTbl: -1}
	if vc.source >= 0 {
		src := s.Fields[vc.source].Schema
		vc.srcSchema, vc.srcDB, vc.srcTbl = src.FieldIndex("schema"), src.FieldIndex("db"), src.FieldIndex("table")
	}
	d.mu.Lock()
	d.values[id] = vc
	d.mu.Unlock()
	return vc, nil
}

func (d *decoder) keyCodec(ctx context.Context, id uint32) (*schema.Codec, error) {
	d.mu.Lock()
	kc, ok := d.keys[id]
	d.mu.Unlock()
	if ok {
		return kc, nil
	}
	s, err := d.schema(ctx, id)
	if err != nil {
		return nil, err
	}
	if kc, err = schema.NewCodec(s); err != nil {
		return nil, fmt.Errorf("schema id %d: %w", id, err)
	}
	d.mu.Lock()
	d.keys[id] = kc
	d.mu.Unlock()
	return kc, nil
}

func (d *decoder) schema(ctx context.Context, id uint32) (*event.Schema, error) {
	rs, err := d.reg.Schema(ctx, int(id))
	if err != nil {
		return nil, err
	}
	s, err := schema.FromAvro(rs.Text)
	if err != nil {
		return nil, fmt.Errorf("parse schema id %d: %w", id, err)
	}
	return s, nil
}
