package transforms

import (
	"fmt"
	"math/big"

	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

func init() {
	registerKeyValue("Flatten", "Flattens nested structs into one struct whose field names join the names at each level with a delimiter, as Kafka Connect's Flatten. Arrays are not modified.",
		&conf.Spec{Keys: []conf.Key{
			{Name: "delimiter", Type: conf.String, Default: ".", Doc: "Delimiter inserted between field names from the input record when generating field names for the output record."},
		}},
		func(c *conf.Config, s side) (Transform, error) {
			d := "."
			if c.Given("delimiter") {
				d = c.Raw()["delimiter"] // as given: a blank delimiter is allowed
			}
			return &flatten{side: s, delimiter: d, cache: schemaCache[*event.Schema]{}}, nil
		})
}

// flatten is Kafka Connect's Flatten$Key and Flatten$Value. A field of a
// nested struct becomes optional when any struct above it is, and takes
// its default from the struct's default when it has none. Debezium's
// VariableScaleDecimal is a struct to Kafka Connect, so it becomes its
// fields, <name>.scale and <name>.value (the unscaled two's-complement
// bytes), though its Go value is an event.Decimal. A null value gets the
// flattened schema; a tombstone passes through.
type flatten struct {
	side      side
	delimiter string
	cache     schemaCache[*event.Schema]
}

func (t *flatten) Apply(r *record.Record) (*record.Record, error) {
	schema, v := t.side.get(r)
	if schema == nil && v == nil {
		return r, nil
	}
	if v != nil {
		if _, err := requireStruct(schema, v, t.side, "flattening"); err != nil {
			return nil, err
		}
	} else if !isStruct(schema) {
		return nil, fmt.Errorf("flattening needs a struct %s; this record's %s is %s", t.side, t.side, describe(schema))
	}
	out, err := t.cache.get(schema, t.outSchema)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return t.side.with(r, out, nil), nil
	}
	nv := make(event.Row, 0, len(out.Fields))
	nv = flattenValue(schema, v, nv)
	return t.side.with(r, out, nv), nil
}

// flattenValue appends the leaves of a struct value, in schema order; a
// null struct's leaves are its fields' defaults, as Kafka Connect gives them.
func flattenValue(s *event.Schema, v any, out event.Row) event.Row {
	row, _ := asRow(v)
	if d, ok := v.(event.Decimal); ok {
		row = event.Row{d.Scale, unscaledBytes(d.Unscaled)}
	}
	for i, f := range s.Fields {
		var fv any
		if row != nil {
			fv = row[i]
		}
		if f.Schema.Type == event.Struct {
			out = flattenValue(f.Schema, fv, out)
			continue
		}
		if row == nil {
			out = append(out, nil)
		} else {
			out = append(out, fieldValue(f, fv, true))
		}
	}
	return out
}

func (t *flatten) outSchema(s *event.Schema) (*event.Schema, error) {
	var fields []event.Field
	var walk func(s *event.Schema, prefix string, optional bool, parentDefault event.Row)
	walk = func(s *event.Schema, prefix string, optional bool, parentDefault event.Row) {
		for i, f := range s.Fields {
			name := f.Name
			if prefix != "" {
				name = prefix + t.delimiter + f.Name
			}
			opt := optional || f.Schema.Optional
			def := f.Schema.Default
			if def == nil && parentDefault != nil && i < len(parentDefault) {
				def = parentDefault[i]
			}
			if f.Schema.Type == event.Struct {
				d, _ := asRow(def)
				walk(f.Schema, name, opt, d)
				continue
			}
			fs := f.Schema
			if opt != fs.Optional || (def != nil && fs.Default == nil) {
				c := *fs
				c.Optional, c.Default = opt, def
				fs = &c
			}
			fields = append(fields, event.Field{Name: name, Schema: fs})
		}
	}
	d, _ := asRow(s.Default)
	walk(s, "", s.Optional, d)
	if err := checkUnique(fields); err != nil {
		return nil, fmt.Errorf("flattening the %s schema %s: %w", t.side, s.Name, err)
	}
	return structLike(s, fields), nil
}

// unscaledBytes is a decimal's unscaled value as Kafka Connect and
// Debezium write it: Java's BigInteger.toByteArray, big-endian two's
// complement in as few bytes as hold the sign.
func unscaledBytes(x *big.Int) []byte {
	if x == nil || x.Sign() == 0 {
		return []byte{0}
	}
	if x.Sign() > 0 {
		b := x.Bytes()
		if b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	n := new(big.Int).Not(x).BitLen()/8 + 1
	m := new(big.Int).Lsh(big.NewInt(1), uint(8*n))
	return m.Add(m, x).FillBytes(make([]byte, n))
}
