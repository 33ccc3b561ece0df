package transforms

import (
	"fmt"

	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

// kafkaTransforms is the package of Kafka Connect's built-in transforms,
// whose class names existing configurations use.
const kafkaTransforms = "org.apache.kafka.connect.transforms."

// side is the part of a record a transform rewrites: its key or its value,
// as Kafka Connect's $Key and $Value subclasses choose.
type side int

const (
	valueSide side = iota
	keySide
)

func (s side) String() string {
	if s == keySide {
		return "key"
	}
	return "value"
}

// get returns the schema and value of the side.
func (s side) get(r *record.Record) (*event.Schema, any) {
	if s == keySide {
		return r.KeySchema, r.Key
	}
	return r.ValueSchema, r.Value
}

// with returns a copy of r whose side has the given schema and value.
func (s side) with(r *record.Record, schema *event.Schema, v any) *record.Record {
	out := r.Clone()
	if s == keySide {
		out.KeySchema, out.Key = schema, v
	} else {
		out.ValueSchema, out.Value = schema, v
	}
	return out
}

// registerKeyValue registers the $Key and $Value variants of a Kafka
// Connect transform under sluice's short names ("Cast$Value") and the Java
// class names ("org.apache.kafka.connect.transforms.Cast$Value").
func registerKeyValue(name, doc string, spec *conf.Spec, build func(c *conf.Config, s side) (Transform, error)) {
	for _, v := range []struct {
		suffix string
		side   side
	}{{"$Key", keySide}, {"$Value", valueSide}} {
		s := v.side
		Register(Type{
			Name:    name + v.suffix,
			Aliases: []string{kafkaTransforms + name + v.suffix},
			Doc:     doc + " Applies to the record's " + s.String() + ".",
			Spec:    spec,
			New:     func(c *conf.Config) (Transform, error) { return build(c, s) },
		})
	}
}

// problem is a build error naming the transform's key ("fields"); the
// chain prefixes it with "transforms.<name>.".
func problem(key, format string, args ...any) error {
	return conf.Problems{{Key: key, Message: fmt.Sprintf(format, args...)}}
}

// replaceNullKey is Kafka Connect's replace.null.with.default, which the
// transforms that copy field values declare.
var replaceNullKey = conf.Key{
	Name: "replace.null.with.default", Type: conf.Boolean, Default: "true",
	Doc: "Whether a null field with a default value becomes its default value (true) or stays null (false).",
}

// derived is what a transform derived from one input schema: an output
// schema (or some plan), or why the schema cannot be transformed.
type derived[T any] struct {
	val T
	err error
}

// schemaCache remembers what a transform derived from each input schema, so
// output schemas are built once and keep their identity from record to
// record (the Kafka writer registers each output schema pointer once).
// Schemas are immutable and few, so entries are never evicted. Not safe for
// concurrent use: a chain is called from one goroutine at a time.
type schemaCache[T any] map[*event.Schema]derived[T]

func (c schemaCache[T]) get(s *event.Schema, derive func(*event.Schema) (T, error)) (T, error) {
	d, ok := c[s]
	if !ok {
		d.val, d.err = derive(s)
		c[s] = d
	}
	return d.val, d.err
}

// asRow returns a Struct value's fields.
func asRow(v any) (event.Row, bool) {
	switch x := v.(type) {
	case event.Row:
		return x, true
	case []any:
		return event.Row(x), true
	}
	return nil, false
}

// isStruct reports whether values of s are event.Row: a struct, but not
// Debezium's VariableScaleDecimal, whose Go value is an event.Decimal.
func isStruct(s *event.Schema) bool {
	return s != nil && s.Type == event.Struct && s.Name != event.VariableDecimalName
}

// requireStruct returns the fields of a struct value, or an error saying
// what the transform needed (purpose: "field insertion") and found.
func requireStruct(s *event.Schema, v any, where side, purpose string) (event.Row, error) {
	if s == nil {
		return nil, fmt.Errorf("%s needs a %s with a schema; this record's %s has none", purpose, where, where)
	}
	if !isStruct(s) {
		return nil, fmt.Errorf("%s needs a struct %s; this record's %s is %s", purpose, where, where, describe(s))
	}
	row, ok := asRow(v)
	if !ok || len(row) != len(s.Fields) {
		return nil, fmt.Errorf("%s: the record's %s (%T) does not match its struct schema of %d fields", purpose, where, v, len(s.Fields))
	}
	return row, nil
}

// describe names a schema's type for messages: "int64", "struct
// io.debezium.time.Timestamp".
func describe(s *event.Schema) string {
	if s.Name != "" {
		return s.Type.String() + " " + s.Name
	}
	return s.Type.String()
}

// fieldValue is Kafka Connect's Struct.get (withDefault) or getWithoutDefault.
func fieldValue(f event.Field, v any, withDefault bool) any {
	if v == nil && withDefault && f.Schema != nil && f.Schema.Default != nil {
		return f.Schema.Default
	}
	return v
}

// structLike returns a new required struct schema with the name, version,
// doc and parameters of s and the given fields, as Kafka Connect's
// SchemaUtil.copySchemaBasics builds it: Flatten, InsertField,
// ReplaceField and HeaderFrom make an optional struct required; Cast and
// TimestampConverter set the optionality again.
func structLike(s *event.Schema, fields []event.Field) *event.Schema {
	return &event.Schema{Type: event.Struct, Name: s.Name, Version: s.Version, Params: s.Params, Doc: s.Doc, Fields: fields}
}

// checkUnique reports the first field name used twice, as Kafka Connect's
// SchemaBuilder refuses it.
func checkUnique(fields []event.Field) error {
	seen := make(map[string]bool, len(fields))
	for _, f := range fields {
		if seen[f.Name] {
			return fmt.Errorf("cannot create field because of field name duplication %q", f.Name)
		}
		seen[f.Name] = true
	}
	return nil
}

// nonEmptyList is Kafka Connect's NonEmptyListValidator, for required lists
// given as blanks and commas.
func nonEmptyList(v string) error {
	if len(conf.SplitList(v)) == 0 {
		return fmt.Errorf("empty list")
	}
	return nil
}
