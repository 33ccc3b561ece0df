package transforms

import (
	"fmt"

	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

func init() {
	Register(Type{
		Name:    "InsertHeader",
		Aliases: []string{kafkaTransforms + "InsertHeader"},
		Doc:     "Adds a header with a literal value to each record, as Kafka Connect's InsertHeader.",
		Spec: &conf.Spec{Keys: []conf.Key{
			{Name: "header", Type: conf.String, Doc: "The name of the header (required)."},
			{Name: "value.literal", Type: conf.String, Doc: "The literal value of the header on all records (required), typed as Kafka Connect types it: null, true and false; a number as the smallest integer type holding it, else float32, float64 or decimal; an ISO 8601 date, time or timestamp as Connect's Date, Time or Timestamp; anything else (arrays and maps too) a string."},
		}},
		New: func(c *conf.Config) (Transform, error) {
			var ps conf.Problems
			for _, k := range []string{"header", "value.literal"} {
				if !c.Given(k) {
					ps = append(ps, conf.Problem{Key: k, Message: "missing required configuration"})
				}
			}
			if len(ps) > 0 {
				return nil, ps
			}
			raw := c.Raw()
			h := record.Header{Key: raw["header"]}
			h.Schema, h.Value = parseLiteral(raw["value.literal"])
			return insertHeader{h}, nil
		},
	})
	Register(Type{
		Name:    "DropHeaders",
		Aliases: []string{kafkaTransforms + "DropHeaders"},
		Doc:     "Removes headers by name from each record, as Kafka Connect's DropHeaders.",
		Spec: &conf.Spec{Keys: []conf.Key{
			{Name: "headers", Type: conf.List, Required: true, Check: nonEmptyList, Doc: "The names of the headers to be removed."},
		}},
		New: func(c *conf.Config) (Transform, error) { return dropHeaders{set(c.List("headers"))}, nil },
	})
	registerKeyValue("HeaderFrom", "Moves or copies fields of the key or value into headers, as Kafka Connect's HeaderFrom.",
		&conf.Spec{Keys: []conf.Key{
			{Name: "fields", Type: conf.List, Required: true, Check: nonEmptyList, Doc: "Field names whose values are copied or moved to headers."},
			{Name: "headers", Type: conf.List, Required: true, Check: nonEmptyList, Doc: "Header names, in the same order as the field names listed in fields."},
			{Name: "operation", Type: conf.String, Required: true, Check: oneOf("move", "copy"), Doc: "move removes the fields from the key or value; copy keeps them."},
			replaceNullKey,
		}},
		func(c *conf.Config, s side) (Transform, error) {
			t := &headerFrom{side: s, fields: c.List("fields"), headers: c.List("headers"), move: c.String("operation") == "move",
				withDefault: c.Bool("replace.null.with.default"), cache: schemaCache[headerPlan]{}}
			if len(t.fields) != len(t.headers) {
				return nil, problem("headers", "'fields' config must have the same number of elements as 'headers' config")
			}
			return t, nil
		})
}

// insertHeader is Kafka Connect's InsertHeader.
type insertHeader struct{ h record.Header }

func (t insertHeader) Apply(r *record.Record) (*record.Record, error) {
	out := r.Clone()
	out.Headers = append(out.Headers, t.h)
	return out, nil
}

// dropHeaders is Kafka Connect's DropHeaders.
type dropHeaders struct{ names map[string]bool }

func (t dropHeaders) Apply(r *record.Record) (*record.Record, error) {
	out := *r
	out.Headers = nil
	for _, h := range r.Headers {
		if !t.names[h.Key] {
			out.Headers = append(out.Headers, h)
		}
	}
	return &out, nil
}

// headerFrom is Kafka Connect's HeaderFrom$Key and $Value. Kafka Connect
// fails on a null value; here a tombstone passes through unchanged.
type headerFrom struct {
	side            side
	fields, headers []string
	move            bool
	withDefault     bool
	cache           schemaCache[headerPlan]
}

// headerPlan is where each listed field is in an input schema, and the
// schema that remains after a move with the input index of its fields.
type headerPlan struct {
	at     []int
	schema *event.Schema
	kept   []int
}

func (t *headerFrom) Apply(r *record.Record) (*record.Record, error) {
	schema, v := t.side.get(r)
	if v == nil && schema == nil {
		return r, nil
	}
	row, err := requireStruct(schema, v, t.side, "header "+t.operation())
	if err != nil {
		return nil, err
	}
	plan, err := t.cache.get(schema, t.plan)
	if err != nil {
		return nil, err
	}
	out := r.Clone()
	for i, j := range plan.at {
		f := schema.Fields[j]
		out.Headers = append(out.Headers, record.Header{Key: t.headers[i], Schema: f.Schema, Value: fieldValue(f, row[j], t.withDefault)})
	}
	if !t.move {
		return out, nil
	}
	nv := make(event.Row, len(plan.kept))
	for i, j := range plan.kept {
		nv[i] = fieldValue(schema.Fields[j], row[j], t.withDefault)
	}
	return t.side.with(out, plan.schema, nv), nil
}

func (t *headerFrom) operation() string {
	if t.move {
		return "move"
	}
	return "copy"
}

func (t *headerFrom) plan(s *event.Schema) (headerPlan, error) {
	var p headerPlan
	listed := set(t.fields)
	for _, name := range t.fields {
		j := s.FieldIndex(name)
		if j < 0 {
			return p, fmt.Errorf("header %s: field %q does not exist in the %s schema %s", t.operation(), name, t.side, s.Name)
		}
		p.at = append(p.at, j)
	}
	if t.move {
		var fields []event.Field
		for j, f := range s.Fields {
			if !listed[f.Name] {
				fields = append(fields, f)
				p.kept = append(p.kept, j)
			}
		}
		p.schema = structLike(s, fields)
	}
	return p, nil
}
