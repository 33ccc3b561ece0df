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
	dec  *kafka.SinkDecoder
	flat bool
}

func newDecoder(dec *kafka.SinkDecoder, format string) *decoder {
	return &decoder{dec: dec, flat: format == "flat"}
}

// decode decodes r, as the connector's transforms leave it, into a message
// without its frame. It returns nil for a tombstone and a record the
// transforms dropped, an error for which skipped is true for a record that
// cannot be decoded or transformed, and other errors (the registry is
// unavailable, ctx ended) when reading must stop.
func (d *decoder) decode(ctx context.Context, r *kgo.Record) (*message, error) {
	var rec kafka.SinkRecord
	keep, err := d.dec.Decode(ctx, r, d.flat && r.Value != nil, &rec)
	if err != nil {
		return nil, failure(r, err)
	}
	if !keep || rec.Value == nil {
		return nil, nil
	}
	m := &message{topic: rec.Topic}
	ev := rec.Event
	if ev == nil {
		// A value that is not an envelope (a row a transform flattened) is
		// sent as it is, with the operation its __op field holds.
		m.row, m.rowSchema = rec.Row()
		if _, op := field(&rec.Decoded, "__op"); op != nil {
			text, _ := op.(string)
			m.op, _ = event.ParseOp(text)
		}
		m.data = appendJSON(nil, rec.ValueSchema, rec.Value)
		return m, nil
	}
	m.op = ev.Op
	if _, src := field(&rec.Decoded, "source"); src != nil {
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
	m.data = flatJSON(&rec.Decoded, m)
	return m, nil
}

// flatJSON renders the row with __op, __table, __ts_ms and __key.
func flatJSON(rec *kafka.Decoded, m *message) []byte {
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
	if rec.KeySchema == nil {
		b = append(b, "null"...)
	} else {
		b = appendJSON(b, rec.KeySchema, rec.Key)
	}
	return append(b, '}')
}

// field returns the schema and value of the field called name of a struct
// value (an envelope, or a flattened row); a nil schema when it has none.
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
	if skipped(err) {
		return fmt.Errorf("read record %s/%d@%d: %w", r.Topic, r.Partition, r.Offset, err)
	}
	return err
}

// skipped reports whether err is about one record that cannot be decoded
// or transformed, which the stream skips, rather than a reason to stop.
func skipped(err error) bool {
	var bad *kafka.BadRecordError
	var failed *kafka.TransformError
	return errors.As(err, &bad) || errors.As(err, &failed)
}
