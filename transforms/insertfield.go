package transforms

import (
	"fmt"
	"strings"

	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

const optionalityDoc = " Suffix with ! to make it a required field, or ? to keep it optional (the default)."

func init() {
	registerKeyValue("InsertField", "Inserts fields from the record's topic and timestamp, or a static value, as Kafka Connect's InsertField.",
		&conf.Spec{Keys: []conf.Key{
			{Name: "topic.field", Type: conf.String, Doc: "Field name for the topic." + optionalityDoc},
			{Name: "partition.field", Type: conf.String, Doc: "Field name for the partition; sluice's records have none before they are produced, so the field is null." + optionalityDoc},
			{Name: "offset.field", Type: conf.String, Doc: "Field name for the offset, only for sink connectors; not supported by sluice's records."},
			{Name: "timestamp.field", Type: conf.String, Doc: "Field name for the record timestamp (Kafka Connect Timestamp)." + optionalityDoc},
			{Name: "static.field", Type: conf.String, Doc: "Field name for a static string value." + optionalityDoc},
			{Name: "static.value", Type: conf.String, Doc: "Static field value, if static.field is set."},
			replaceNullKey,
		}},
		newInsertField)
}

// insertion is one field InsertField adds: its name and whether it may be null.
type insertion struct {
	name     string
	optional bool
}

func parseInsertion(spec string) *insertion {
	switch {
	case spec == "":
		return nil
	case strings.HasSuffix(spec, "?"):
		return &insertion{strings.TrimSuffix(spec, "?"), true}
	case strings.HasSuffix(spec, "!"):
		return &insertion{strings.TrimSuffix(spec, "!"), false}
	}
	return &insertion{spec, true}
}

func newInsertField(c *conf.Config, s side) (Transform, error) {
	t := &insertField{
		side:        s,
		topic:       parseInsertion(c.String("topic.field")),
		partition:   parseInsertion(c.String("partition.field")),
		timestamp:   parseInsertion(c.String("timestamp.field")),
		static:      parseInsertion(c.String("static.field")),
		staticValue: c.String("static.value"),
		withDefault: c.Bool("replace.null.with.default"),
		cache:       schemaCache[*event.Schema]{},
	}
	var ps conf.Problems
	if c.String("offset.field") != "" {
		ps = append(ps, conf.Problem{Key: "offset.field", Message: "records have an offset only once a sink reads them; sluice's records carry none"})
	}
	if t.partition != nil && !t.partition.optional {
		ps = append(ps, conf.Problem{Key: "partition.field", Message: "sluice's records have no partition before they are produced, so the field cannot be required: drop the '!'"})
	}
	if t.static != nil && !c.Given("static.value") {
		ps = append(ps, conf.Problem{Key: "static.value", Message: fmt.Sprintf("no value specified for static field %q", t.static.name)})
	}
	if len(ps) > 0 {
		return nil, ps
	}
	if t.topic == nil && t.partition == nil && t.timestamp == nil && t.static == nil && c.String("offset.field") == "" {
		return nil, fmt.Errorf("no field insertion configured: set topic.field, partition.field, timestamp.field or static.field")
	}
	return t, nil
}

// insertField is Kafka Connect's InsertField$Key and InsertField$Value.
// Null keys and values pass through unchanged.
type insertField struct {
	side                                side
	topic, partition, timestamp, static *insertion
	staticValue                         string
	withDefault                         bool
	cache                               schemaCache[*event.Schema]
}

func (t *insertField) Apply(r *record.Record) (*record.Record, error) {
	schema, v := t.side.get(r)
	if v == nil {
		return r, nil
	}
	row, err := requireStruct(schema, v, t.side, "field insertion")
	if err != nil {
		return nil, err
	}
	out, err := t.cache.get(schema, t.outSchema)
	if err != nil {
		return nil, err
	}
	nv := make(event.Row, len(schema.Fields), len(out.Fields))
	for i, f := range schema.Fields {
		nv[i] = fieldValue(f, row[i], t.withDefault)
	}
	if t.topic != nil {
		nv = append(nv, r.Topic)
	}
	if t.partition != nil {
		nv = append(nv, nil)
	}
	if t.timestamp != nil {
		if r.Timestamp == 0 {
			if !t.timestamp.optional {
				return nil, fmt.Errorf("field insertion: the record has no timestamp for the required field %q", t.timestamp.name)
			}
			nv = append(nv, nil)
		} else {
			nv = append(nv, r.Timestamp)
		}
	}
	if t.static != nil {
		nv = append(nv, t.staticValue)
	}
	return t.side.with(r, out, nv), nil
}

func (t *insertField) outSchema(s *event.Schema) (*event.Schema, error) {
	fields := append([]event.Field(nil), s.Fields...)
	add := func(in *insertion, typ event.Type, name string) {
		if in != nil {
			fields = append(fields, event.Field{Name: in.name, Schema: &event.Schema{Type: typ, Name: name, Optional: in.optional}})
		}
	}
	add(t.topic, event.String, "")
	add(t.partition, event.Int32, "")
	if t.timestamp != nil {
		fields = append(fields, event.Field{Name: t.timestamp.name, Schema: &event.Schema{Type: event.Int64, Name: event.ConnectTimestampName, Version: 1, Optional: t.timestamp.optional}})
	}
	add(t.static, event.String, "")
	if err := checkUnique(fields); err != nil {
		return nil, fmt.Errorf("field insertion into the %s schema %s: %w", t.side, s.Name, err)
	}
	return structLike(s, fields), nil
}
