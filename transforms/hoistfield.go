package transforms

import (
	"fmt"

	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

func init() {
	registerKeyValue("HoistField", "Wraps the key or value in a struct with a single field, as Kafka Connect's HoistField.",
		&conf.Spec{Keys: []conf.Key{
			{Name: "field", Type: conf.String, Required: true, Doc: "Field name for the single field that will be created in the resulting struct."},
		}},
		func(c *conf.Config, s side) (Transform, error) {
			return &hoistField{side: s, field: c.String("field"), cache: schemaCache[*event.Schema]{}}, nil
		})
}

// hoistField is Kafka Connect's HoistField$Key and $Value. A null with a
// schema is wrapped like any value; a tombstone (no schema) passes through,
// where Kafka Connect would make a schemaless map of it.
type hoistField struct {
	side  side
	field string
	cache schemaCache[*event.Schema]
}

func (t *hoistField) Apply(r *record.Record) (*record.Record, error) {
	schema, v := t.side.get(r)
	if schema == nil {
		if v == nil {
			return r, nil
		}
		return nil, fmt.Errorf("hoisting a field needs a %s with a schema; this record's %s has none", t.side, t.side)
	}
	out, _ := t.cache.get(schema, func(s *event.Schema) (*event.Schema, error) {
		return &event.Schema{Type: event.Struct, Fields: []event.Field{{Name: t.field, Schema: s}}}, nil
	})
	return t.side.with(r, out, event.Row{v}), nil
}
