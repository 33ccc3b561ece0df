package schema

import (
	"fmt"

	"github.com/sluice-cdc/sluice/schema/event"
)

// EnvelopeCodec encodes an event.Event as Debezium's envelope and decodes an
// envelope back. It works from the envelope schema's field names, so it also
// decodes envelopes of other Debezium versions and connectors (for example a
// schema fetched from a registry and parsed with FromAvro): fields it does
// not know are skipped when decoding and written as null when encoding.
//
// An EnvelopeCodec is immutable and safe for concurrent use.
type EnvelopeCodec struct {
	codec  *Codec
	table  *event.Table
	fields []envField
	// cannotEncode is set when a required field has no event.Event
	// counterpart; encoding then fails with it.
	cannotEncode error
}

// envField binds one envelope field to its part of event.Event.
type envField struct {
	part   envPart
	n      *node
	source []sourceField // part == partSource
}

type envPart uint8

const (
	partOther envPart = iota
	partBefore
	partAfter
	partSource
	partTransaction
	partOp
	partTsMs
	partTsUs
	partTsNs
)

// envParts maps the envelope's field names to parts and the kind they must have.
var envParts = map[string]struct {
	part envPart
	kind kind
}{
	"before":      {partBefore, kindStruct},
	"after":       {partAfter, kindStruct},
	"source":      {partSource, kindStruct},
	"transaction": {partTransaction, kindStruct},
	"op":          {partOp, kindString},
	"ts_ms":       {partTsMs, kindInt64},
	"ts_us":       {partTsUs, kindInt64},
	"ts_ns":       {partTsNs, kindInt64},
}

// NewEnvelopeCodec compiles a codec for a Debezium envelope schema. table,
// which may be nil, is set as Table on decoded events.
func NewEnvelopeCodec(envelope *event.Schema, table *event.Table) (*EnvelopeCodec, error) {
	codec, err := NewCodec(envelope)
	if err != nil {
		return nil, err
	}
	if codec.root.kind != kindStruct || codec.root.optional {
		return nil, fmt.Errorf("compile envelope codec for %s: not a required struct", schemaLabel(envelope))
	}
	c := &EnvelopeCodec{codec: codec, table: table, fields: make([]envField, len(envelope.Fields))}
	for i, f := range envelope.Fields {
		n := codec.root.fields[i]
		ef := envField{n: n}
		if p, ok := envParts[f.Name]; ok && p.kind == n.kind {
			ef.part = p.part
		}
		switch ef.part {
		case partSource:
			ef.source = bindSource(f.Schema, n)
		case partTransaction:
			if !isTransaction(f.Schema) {
				ef.part = partOther
			}
		}
		if ef.part == partOther && !n.optional && c.cannotEncode == nil {
			c.cannotEncode = fmt.Errorf("encode %s: required field %q has no counterpart in an event", schemaLabel(envelope), f.Name)
		}
		for _, sf := range ef.source {
			if sf.field == srcOther && !sf.n.optional && c.cannotEncode == nil {
				c.cannotEncode = fmt.Errorf("encode %s: required source field %q has no counterpart in an event", schemaLabel(envelope), sf.n.path)
			}
		}
		c.fields[i] = ef
	}
	return c, nil
}

// isTransaction reports whether s is Debezium's transaction block.
func isTransaction(s *event.Schema) bool {
	want := transactionSchema().Fields
	if len(s.Fields) != len(want) {
		return false
	}
	for i, f := range s.Fields {
		if f.Name != want[i].Name || f.Schema.Type != want[i].Schema.Type || f.Schema.Optional {
			return false
		}
	}
	return true
}

// Schema returns the envelope schema.
func (c *EnvelopeCodec) Schema() *event.Schema { return c.codec.schema }

// AvroJSON returns the envelope's Avro schema JSON, the schema to register
// for the record value.
func (c *EnvelopeCodec) AvroJSON() string { return c.codec.json }

// Append appends the envelope of e to dst: before and after rows, the source
// block from e.Source, the transaction block, op and ts_ms (ts_us and ts_ns
// are ts_ms in finer units). Source fields that are zero and optional are
// written as null.
func (c *EnvelopeCodec) Append(dst []byte, e *event.Event) ([]byte, error) {
	if c.cannotEncode != nil {
		return dst, c.cannotEncode
	}
	w := avroWriter{buf: dst}
	for i := range c.fields {
		if err := c.fields[i].encode(&w, e); err != nil {
			return dst, fmt.Errorf("encode %s: %w", schemaLabel(c.codec.schema), err)
		}
	}
	return w.buf, nil
}

func (f *envField) encode(w *avroWriter, e *event.Event) error {
	n := f.n
	switch f.part {
	case partBefore:
		return n.encodeRow(w, e.Before)
	case partAfter:
		return n.encodeRow(w, e.After)
	case partSource:
		if n.optional {
			w.writeLong(1 - n.nullIdx)
		}
		for i := range f.source {
			f.source[i].encode(w, &e.Source)
		}
	case partTransaction:
		t := e.Transaction
		if t == nil {
			if !n.optional {
				return fmt.Errorf("%s: null for a required value", describe(n.path))
			}
			w.writeLong(n.nullIdx)
			return nil
		}
		if n.optional {
			w.writeLong(1 - n.nullIdx)
		}
		w.writeString(t.ID)
		w.writeLong(t.TotalOrder)
		w.writeLong(t.DataCollectionOrder)
	case partOp:
		if n.optional {
			w.writeLong(1 - n.nullIdx)
		}
		w.writeString(e.Op.String())
	case partTsMs:
		writeLong(w, n, e.TsMs, 1)
	case partTsUs:
		writeLong(w, n, e.TsMs, 1e3)
	case partTsNs:
		writeLong(w, n, e.TsMs, 1e6)
	default:
		w.writeLong(n.nullIdx) // optional, checked by NewEnvelopeCodec
	}
	return nil
}

// Decode decodes an envelope from body into e, replacing its Op, Before,
// After, Source, TsMs and Transaction, and setting Table to the codec's
// table. Position is left alone: it is not part of the envelope.
func (c *EnvelopeCodec) Decode(body []byte, e *event.Event) error {
	d := getDecoder(body)
	defer putDecoder(d)
	var out event.Event
	out.Table, out.Position = c.table, e.Position
	for i := range c.fields {
		if err := c.fields[i].decode(d, &out); err != nil {
			return fmt.Errorf("decode %s: %w", schemaLabel(c.codec.schema), err)
		}
		if d.failed() {
			break
		}
	}
	if err := d.finish(); err != nil {
		return fmt.Errorf("decode %s: %w", schemaLabel(c.codec.schema), err)
	}
	*e = out
	return nil
}

func (f *envField) decode(d *decoder, e *event.Event) error {
	n := f.n
	switch f.part {
	case partBefore, partAfter:
		if n.optional && !d.present(n) {
			return nil
		}
		row := event.Row(d.fields(n))
		if f.part == partBefore {
			e.Before = row
		} else {
			e.After = row
		}
	case partSource:
		if n.optional && !d.present(n) {
			return nil
		}
		for i := range f.source {
			if f.source[i].decode(d, &e.Source); d.failed() {
				return nil
			}
		}
	case partTransaction:
		if n.optional && !d.present(n) {
			return nil
		}
		t := &event.Transaction{ID: readString(d, n.fields[0])}
		t.TotalOrder = readLong(d, n.fields[1])
		t.DataCollectionOrder = readLong(d, n.fields[2])
		e.Transaction = t
	case partOp:
		op := readString(d, n)
		if d.failed() {
			return nil
		}
		var err error
		if e.Op, err = event.ParseOp(op); err != nil {
			return fmt.Errorf("field %q: %w", n.path, err)
		}
	case partTsMs:
		e.TsMs = readLong(d, n)
	default:
		d.value(n)
	}
	return nil
}

// writeLong writes v*unit as an int64 field, null when optional and v is 0.
func writeLong(w *avroWriter, n *node, v, unit int64) {
	if n.optional {
		if v == 0 {
			w.writeLong(n.nullIdx)
			return
		}
		w.writeLong(1 - n.nullIdx)
	}
	w.writeLong(v * unit)
}

// writeString writes a string field, null when optional and v is empty.
func writeString(w *avroWriter, n *node, v string) {
	if n.optional {
		if v == "" {
			w.writeLong(n.nullIdx)
			return
		}
		w.writeLong(1 - n.nullIdx)
	}
	w.writeString(v)
}

// readLong reads an int64 field; null reads as 0.
func readLong(d *decoder, n *node) int64 {
	if n.optional && !d.present(n) {
		return 0
	}
	return d.r.readLong()
}

// readString reads a string field; null reads as "".
func readString(d *decoder, n *node) string {
	if n.optional && !d.present(n) {
		return ""
	}
	return unsafeString(d.bytes(n))
}
