package sse

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors/kafka"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/jsontext"
)

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

// decoder turns records into messages. It is shared by the hub and the
// replays and is safe for concurrent use.
type decoder struct {
	dec  *kafka.Decoder
	flat bool
}

func newDecoder(reg kafka.SchemaSource, format string) *decoder {
	return &decoder{dec: kafka.NewDecoder(reg), flat: format == "flat"}
}

// decode decodes r into a message without its frame. It returns nil for a
// tombstone, an error wrapping a *kafka.BadRecordError for a record that
// cannot be decoded (or is not a Debezium envelope), and other errors (the
// registry is unavailable, ctx ended) when reading must stop.
func (d *decoder) decode(ctx context.Context, r *kgo.Record) (*message, error) {
	var rec kafka.Decoded
	if err := d.dec.DecodeValue(ctx, r, &rec); err != nil {
		return nil, failure(r, err)
	}
	if rec.Value == nil {
		return nil, nil
	}
	ev := rec.Event
	if ev == nil {
		return nil, failure(r, &kafka.BadRecordError{Err: fmt.Errorf("value schema %s is not a Debezium envelope", rec.ValueSchema.Name)})
	}
	m := &message{topic: r.Topic, op: ev.Op}
	if _, src := field(&rec, "source"); src != nil {
		sch := ev.Source.Schema
		if sch == "" {
			sch = ev.Source.DB
		}
		m.table = sch + "." + ev.Source.Table
	}
	m.row, m.rowSchema = rec.Row()
	if !d.flat {
		m.data = appendJSON(nil, rec.ValueSchema, rec.Value)
		return m, nil
	}
	var err error
	if m.data, err = d.flatJSON(ctx, r, &rec, m); err != nil {
		return nil, err
	}
	return m, nil
}

// flatJSON renders the row with __op, __table, __ts_ms and __key.
func (d *decoder) flatJSON(ctx context.Context, r *kgo.Record, rec *kafka.Decoded, m *message) ([]byte, error) {
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
	if s, ts := field(rec, "ts_ms"); s != nil {
		b = appendJSON(b, s, ts)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"__key":`...)
	if err := d.dec.DecodeKey(ctx, r, rec); err != nil {
		return nil, failure(r, err)
	}
	if rec.KeySchema == nil {
		b = append(b, "null"...)
	} else {
		b = appendJSON(b, rec.KeySchema, rec.Key)
	}
	return append(b, '}'), nil
}

// field returns the schema and value of the envelope's field called name;
// a nil schema when it has none.
func field(rec *kafka.Decoded, name string) (*event.Schema, any) {
	i := rec.ValueSchema.FieldIndex(name)
	env, _ := rec.Value.(event.Row)
	if i < 0 || i >= len(env) {
		return nil, nil
	}
	return rec.ValueSchema.Fields[i].Schema, env[i]
}

// failure says which record a bad one is; other errors already do.
func failure(r *kgo.Record, err error) error {
	var bad *kafka.BadRecordError
	if errors.As(err, &bad) {
		return fmt.Errorf("decode record %s/%d@%d: %w", r.Topic, r.Partition, r.Offset, err)
	}
	return err
}
