package schema

import (
	"fmt"

	"github.com/twmb/avro"

	"github.com/sluice-cdc/sluice/schema/event"
)

// Codec encodes and decodes the values of one schema in Avro's binary
// encoding, with a plan compiled once by NewCodec. Values have the Go types
// documented in schema/event: a struct is an event.Row or []any with one
// value per field, an array is []any, Decimal bytes and VariableScaleDecimal
// structs are event.Decimal, nil is null.
//
// A Codec is immutable and safe for concurrent use.
type Codec struct {
	schema *event.Schema
	json   string
	root   *node
}

// NewCodec compiles s. It fails if s cannot be written as Avro or has a
// malformed semantic type (a Decimal without a scale, for example).
func NewCodec(s *event.Schema) (*Codec, error) {
	root, err := compile(s, "")
	if err != nil {
		return nil, fmt.Errorf("compile codec for %s: %w", schemaLabel(s), err)
	}
	js, err := AvroJSON(s)
	if err != nil {
		return nil, fmt.Errorf("compile codec for %s: %w", schemaLabel(s), err)
	}
	if _, err := avro.Parse(js); err != nil {
		return nil, fmt.Errorf("compile codec for %s: generated Avro schema is invalid: %w", schemaLabel(s), err)
	}
	return &Codec{schema: s, json: js, root: root}, nil
}

// Schema returns the schema the codec was compiled from.
func (c *Codec) Schema() *event.Schema { return c.schema }

// AvroJSON returns the Avro schema JSON of the codec's schema, as AvroJSON
// renders it: the schema to register.
func (c *Codec) AvroJSON() string { return c.json }

// Append appends the Avro encoding of v to dst. A value of the wrong Go type
// is an error naming the field and the type it must have; dst is then
// returned unchanged. With a warm codec it allocates only when dst must grow.
func (c *Codec) Append(dst []byte, v any) ([]byte, error) {
	w := avroWriter{buf: dst}
	if err := c.root.encode(&w, v); err != nil {
		return dst, fmt.Errorf("encode %s: %w", schemaLabel(c.schema), err)
	}
	return w.buf, nil
}

// Decode decodes one value from body, which must hold exactly one encoded
// value. A struct decodes to an event.Row (nested structs to []any). Strings
// and bytes are copies, so body may be reused at once. Malformed or
// truncated input is an error, never a panic, and costs at most a small
// multiple of its size in memory.
func (c *Codec) Decode(body []byte) (any, error) {
	d := getDecoder(body)
	defer putDecoder(d)
	var v any
	if c.root.kind == kindStruct && !c.root.optional {
		vals := d.fields(c.root)
		if !d.failed() {
			v = d.a.row(vals)
		}
	} else {
		v = d.value(c.root)
	}
	if err := d.finish(); err != nil {
		return nil, fmt.Errorf("decode %s: %w", schemaLabel(c.schema), err)
	}
	return v, nil
}

// schemaLabel names a schema in errors.
func schemaLabel(s *event.Schema) string {
	switch {
	case s == nil:
		return "missing schema"
	case s.Name != "":
		return s.Name
	}
	return s.Type.String() + " schema"
}
