package transforms

import (
	"fmt"

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
// VariableScaleDecimal, whose Go value is an event.Decimal, is kept whole.
// A null value gets the flattened schema; a tombstone passes through.
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
	for i, f := range s.Fields {
		var fv any
		if row != nil {
			fv = row[i]
		}
		if isStruct(f.Schema) {
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
			if isStruct(f.Schema) {
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
