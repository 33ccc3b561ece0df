package transforms

import (
	"fmt"

	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

func init() {
	Register(Type{
		Name:    "ValueToKey",
		Aliases: []string{kafkaTransforms + "ValueToKey"},
		Doc:     "Replaces the record key with a struct of fields of the value, as Kafka Connect's ValueToKey.",
		Spec: &conf.Spec{Keys: []conf.Key{
			{Name: "fields", Type: conf.List, Required: true, Check: nonEmptyList, Doc: "Field names on the record value to extract as the record key."},
			replaceNullKey,
		}},
		New: func(c *conf.Config) (Transform, error) {
			return &valueToKey{fields: c.List("fields"), withDefault: c.Bool("replace.null.with.default"), cache: schemaCache[keyPlan]{}}, nil
		},
	})
}

// valueToKey is Kafka Connect's ValueToKey. Kafka Connect fails on a null
// value; here a tombstone keeps its key and passes through, since sluice
// emits them after deletes.
type valueToKey struct {
	fields      []string
	withDefault bool
	cache       schemaCache[keyPlan]
}

// keyPlan is the key schema derived from a value schema, and where each of
// its fields is in the value.
type keyPlan struct {
	schema *event.Schema
	from   []int
}

func (t *valueToKey) Apply(r *record.Record) (*record.Record, error) {
	if r.Value == nil {
		return r, nil
	}
	row, err := requireStruct(r.ValueSchema, r.Value, valueSide, "copying fields from value to key")
	if err != nil {
		return nil, err
	}
	plan, err := t.cache.get(r.ValueSchema, t.plan)
	if err != nil {
		return nil, err
	}
	key := make(event.Row, len(plan.from))
	for i, j := range plan.from {
		key[i] = fieldValue(r.ValueSchema.Fields[j], row[j], t.withDefault)
	}
	out := r.Clone()
	out.KeySchema, out.Key = plan.schema, key
	return out, nil
}

func (t *valueToKey) plan(s *event.Schema) (keyPlan, error) {
	var p keyPlan
	fields := make([]event.Field, len(t.fields))
	for i, name := range t.fields {
		j := s.FieldIndex(name)
		if j < 0 {
			return p, fmt.Errorf("copying fields from value to key: field %q does not exist in the value schema %s", name, s.Name)
		}
		fields[i] = s.Fields[j]
		p.from = append(p.from, j)
	}
	if err := checkUnique(fields); err != nil {
		return p, fmt.Errorf("copying fields from value to key: %w", err)
	}
	p.schema = &event.Schema{Type: event.Struct, Fields: fields}
	return p, nil
}
