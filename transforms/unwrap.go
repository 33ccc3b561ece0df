package transforms

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

func init() {
	Register(Type{
		Name:    "ExtractNewRecordState",
		Aliases: []string{"io.debezium.transforms.ExtractNewRecordState"},
		Doc: "Debezium's \"unwrap\": replaces a change record's envelope by the row after the change, " +
			"handling deletes, tombstones and truncates as delete.tombstone.handling.mode says, " +
			"optionally adding envelope fields to the row (add.fields) or as headers (add.headers).",
		Spec: &conf.Spec{Keys: []conf.Key{
			{Name: "delete.tombstone.handling.mode", Type: conf.String, Default: "tombstone",
				Allowed: []string{"drop", "tombstone", "rewrite", "rewrite-with-tombstone", "delete-to-tombstone"},
				Doc: "drop: remove deletes and tombstones; tombstone: a delete becomes a record with a null value, tombstones are removed; " +
					"rewrite: a delete becomes the row before it with __deleted=\"true\" (other rows get \"false\"), tombstones are removed; " +
					"rewrite-with-tombstone: as rewrite, tombstones kept; delete-to-tombstone: a delete becomes a tombstone (null value and value schema), tombstones are removed. " +
					"When absent and a deprecated delete.handling.mode or drop.tombstones is given, those decide, as in Debezium 3.0 and 3.1."},
			{Name: "delete.handling.mode", Type: conf.String, Default: "drop", Allowed: []string{"drop", "rewrite", "none"},
				Deprecated: "deprecated (removed in Debezium 3.2): use delete.tombstone.handling.mode",
				Doc:        "Deprecated. drop: remove deletes; rewrite: as delete.tombstone.handling.mode=rewrite; none: a delete becomes a record with a null value. Used only when delete.tombstone.handling.mode is absent."},
			{Name: "drop.tombstones", Type: conf.Boolean, Default: "true",
				Deprecated: "deprecated (removed in Debezium 3.2): use delete.tombstone.handling.mode",
				Doc:        "Deprecated. Whether tombstones are removed. Used only when delete.tombstone.handling.mode is absent."},
			{Name: "route.by.field", Type: conf.String, Doc: "A string field of the row whose value becomes the topic (of the row before the change, for deletes); empty: the topic is kept."},
			{Name: "add.fields", Type: conf.List, Check: checkFieldRefs,
				Doc: "Envelope fields appended to the row as optional fields: op, ts_ms, ts_us, ts_ns; id, total_order, data_collection_order (transaction); " +
					"any other name is a source field (table, lsn, ts_ms as source.ts_ms). block.field names a block's field and names it prefix+block_field; field:name renames it prefix+name."},
			{Name: "add.fields.prefix", Type: conf.String, Default: "__", Doc: "Prefix of the names of the fields add.fields adds."},
			{Name: "add.headers", Type: conf.List, Check: checkFieldRefs, Doc: "Envelope fields added as headers, named as add.fields names them; a tombstone gets only op, as \"d\"."},
			{Name: "add.headers.prefix", Type: conf.String, Default: "__", Doc: "Prefix of the names of the headers add.headers adds."},
			{Name: "drop.fields.header.name", Type: conf.String, Doc: "A header holding a list of field names to remove from the value (and from the key with drop.fields.from.key)."},
			{Name: "drop.fields.from.key", Type: conf.Boolean, Default: "false", Doc: "Whether the fields drop.fields.header.name lists are removed from the key too."},
			{Name: "drop.fields.keep.schema.compatible", Type: conf.Boolean, Default: "true", Doc: "true: only optional fields are removed, so schemas stay compatible; false: every listed field is removed."},
			{Name: "replace.null.with.default", Type: conf.Boolean, Default: "true", Doc: "In the rewrite modes, a null field whose schema has a default gets the default, as Kafka Connect's InsertField does."},
		}},
		New: newUnwrap,
	})
}

func checkFieldRefs(v string) error {
	_, err := parseFieldRefs("", conf.SplitList(v))
	return err
}

// deleteAction is what ExtractNewRecordState makes of a delete record.
type deleteAction uint8

const (
	deleteDrop        deleteAction = iota
	deleteNullValue                // Debezium's "tombstone" (legacy "none"): the after field, null, with its schema
	deleteToTombstone              // null value and null value schema
	deleteRewrite                  // the before row with __deleted="true"
)

// deletedField is the field the rewrite modes add.
const deletedField = "__deleted"

// unwrap is Debezium's ExtractNewRecordState. It keeps, per envelope
// schema, the output schemas it derived; it is called from one goroutine
// at a time, as a chain is.
type unwrap struct {
	onDelete        deleteAction
	keepTombstones  bool
	fields, headers []fieldRef
	routeBy         string
	replaceNull     bool
	drop            fieldDropper

	shapes     map[*event.Schema]*unwrapShape
	extensions map[*event.Schema]*event.Schema
}

// unwrapShape is what unwrap derived from one envelope schema.
type unwrapShape struct {
	before, after int // indexes of before and after in the envelope
	afterSchema   *event.Schema
	// fromAfter is the value schema of a row taken from after: the row
	// schema, required, then __deleted in the rewrite modes, then the
	// add.fields found in the envelope. rewrittenDelete is the value
	// schema of a row taken from before in the rewrite modes, without the
	// add.fields (extended adds them).
	fromAfter, rewrittenDelete *event.Schema
	fields, headers            []boundRef
}

func newUnwrap(c *conf.Config) (Transform, error) {
	u := &unwrap{
		routeBy:     c.String("route.by.field"),
		replaceNull: c.Bool("replace.null.with.default"),
		drop: fieldDropper{
			header: c.String("drop.fields.header.name"), fromKey: c.Bool("drop.fields.from.key"),
			keepCompatible: c.Bool("drop.fields.keep.schema.compatible"),
		},
		shapes: map[*event.Schema]*unwrapShape{}, extensions: map[*event.Schema]*event.Schema{},
	}
	if !c.Given("delete.tombstone.handling.mode") && (c.Given("delete.handling.mode") || c.Given("drop.tombstones")) {
		// Debezium 3.0 and 3.1's LegacyDeleteHandlingStrategy.
		u.keepTombstones = !c.Bool("drop.tombstones")
		switch c.Enum("delete.handling.mode") {
		case "drop":
			u.onDelete = deleteDrop
		case "none":
			u.onDelete = deleteNullValue
		case "rewrite":
			u.onDelete = deleteRewrite
		}
	} else {
		switch c.Enum("delete.tombstone.handling.mode") {
		case "drop":
			u.onDelete = deleteDrop
		case "tombstone":
			u.onDelete = deleteNullValue
		case "rewrite":
			u.onDelete = deleteRewrite
		case "rewrite-with-tombstone":
			u.onDelete, u.keepTombstones = deleteRewrite, true
		case "delete-to-tombstone":
			u.onDelete = deleteToTombstone
		}
	}
	var err error
	if u.fields, err = parseFieldRefs(c.String("add.fields.prefix"), c.List("add.fields")); err != nil {
		return nil, conf.Problems{{Key: "add.fields", Message: err.Error()}}
	}
	if u.headers, err = parseFieldRefs(c.String("add.headers.prefix"), c.List("add.headers")); err != nil {
		return nil, conf.Problems{{Key: "add.headers", Message: err.Error()}}
	}
	return u, nil
}

// Apply follows Debezium's ExtractNewRecordState.doApply: headers first
// (for envelopes and tombstones), then tombstones, records that are not
// envelopes (passed on unchanged), truncates (dropped: both rows null),
// deletes, and creates, updates and snapshot reads.
func (u *unwrap) Apply(r *record.Record) (*record.Record, error) {
	if r.Value == nil {
		if !u.keepTombstones {
			return nil, nil
		}
		out := r.Clone()
		for _, h := range u.headers {
			if h.field == "op" {
				out.Headers = append(out.Headers, record.Header{Key: h.name, Schema: requiredString, Value: "d"})
			}
		}
		return out, nil
	}
	envelope, ok := r.Value.(event.Row)
	if !isEnvelope(r.ValueSchema) || !ok {
		return r, nil
	}
	shape, err := u.shape(r.ValueSchema)
	if err != nil {
		return nil, err
	}
	after, before := envelope[shape.after], envelope[shape.before]
	if after == nil && before == nil {
		return nil, nil // a truncate
	}
	out := r.Clone()
	for _, h := range shape.headers {
		out.Headers = append(out.Headers, record.Header{Key: h.name, Schema: h.schema, Value: h.value(envelope)})
	}
	if after != nil {
		out.ValueSchema, out.Value = shape.fromAfter, u.row(shape, shape.afterSchema, after, envelope, "false")
		if err := u.route(out, shape.fromAfter, out.Value.(event.Row)); err != nil {
			return nil, err
		}
		return u.drop.apply(out)
	}
	// A delete.
	beforeSchema := r.ValueSchema.Fields[shape.before].Schema
	beforeRow, _ := before.(event.Row)
	switch u.onDelete {
	case deleteDrop:
		return nil, nil
	case deleteNullValue:
		out.ValueSchema, out.Value = shape.afterSchema, nil
	case deleteToTombstone:
		out.ValueSchema, out.Value = nil, nil
	case deleteRewrite:
		out.ValueSchema, out.Value = shape.rewrittenDelete, u.row(shape, beforeSchema, before, nil, "true")
	}
	if err := u.route(out, beforeSchema, beforeRow); err != nil {
		return nil, err
	}
	// Debezium removes the fields drop.fields.header.name lists from a
	// delete before it adds the envelope's.
	if out, err = u.drop.apply(out); err != nil || out.Value == nil || len(shape.fields) == 0 {
		return out, err
	}
	row := slices.Clone(out.Value.(event.Row))
	for _, f := range shape.fields {
		row = append(row, f.value(envelope))
	}
	out.ValueSchema, out.Value = u.extended(out.ValueSchema, shape), row
	return out, nil
}

// extended is a rewritten delete's value schema with the add.fields
// appended, derived once per schema.
func (u *unwrap) extended(s *event.Schema, shape *unwrapShape) *event.Schema {
	if x := u.extensions[s]; x != nil {
		return x
	}
	x := &event.Schema{Type: event.Struct, Name: s.Name, Version: s.Version, Doc: s.Doc, Params: s.Params}
	x.Fields = slices.Clip(s.Fields)
	for _, f := range shape.fields {
		x.Fields = append(x.Fields, event.Field{Name: f.name, Schema: f.schema})
	}
	u.extensions[s] = x
	return x
}

// row builds the output value from a row of rowSchema: its values (with
// defaults for nulls in the rewrite modes when replace.null.with.default),
// then __deleted in the rewrite modes, then the add.fields values, when
// envelope is not nil.
func (u *unwrap) row(shape *unwrapShape, rowSchema *event.Schema, v any, envelope event.Row, deleted string) any {
	rewrite := u.onDelete == deleteRewrite
	if !rewrite && (envelope == nil || len(shape.fields) == 0) {
		return v // unchanged: records share what they do not change (boxed as it is)
	}
	row, _ := v.(event.Row)
	n := len(row) + len(shape.fields)
	if rewrite {
		n++
	}
	out := make(event.Row, len(row), n)
	copy(out, row)
	if rewrite {
		if u.replaceNull {
			for i, v := range out {
				if v == nil && i < len(rowSchema.Fields) {
					out[i] = rowSchema.Fields[i].Schema.Default
				}
			}
		}
		out = append(out, deleted)
	}
	if envelope != nil {
		for _, f := range shape.fields {
			out = append(out, f.value(envelope))
		}
	}
	return out
}

// route sets the topic to the value of route.by.field in row, as
// Debezium's setTopic: a null or blank value keeps the topic.
func (u *unwrap) route(r *record.Record, rowSchema *event.Schema, row event.Row) error {
	if u.routeBy == "" {
		return nil
	}
	fs, v, ok := record.Field(rowSchema, row, u.routeBy)
	if !ok && (rowSchema == nil || rowSchema.FieldIndex(u.routeBy) < 0) {
		return fmt.Errorf("route.by.field: %q is not a field of %s", u.routeBy, schemaName(rowSchema))
	}
	if fs != nil && fs.Type != event.String {
		return fmt.Errorf("route.by.field: field %q of %s is a %s, not a string", u.routeBy, schemaName(rowSchema), fs.Type)
	}
	if s, _ := v.(string); strings.TrimSpace(s) != "" {
		r.Topic = s
	}
	return nil
}

func schemaName(s *event.Schema) string {
	if s == nil || s.Name == "" {
		return "the row"
	}
	return s.Name
}

var (
	optionalString = &event.Schema{Type: event.String, Optional: true}
	requiredString = &event.Schema{Type: event.String}
)

// shape returns what unwrap derived from an envelope schema, deriving it
// the first time.
func (u *unwrap) shape(envelope *event.Schema) (*unwrapShape, error) {
	if s := u.shapes[envelope]; s != nil {
		return s, nil
	}
	s := &unwrapShape{before: envelope.FieldIndex("before"), after: envelope.FieldIndex("after")}
	for _, f := range []struct {
		name string
		i    int
	}{{"after", s.after}, {"before", s.before}} {
		if f.i < 0 {
			return nil, fmt.Errorf("envelope %s has no %s field", envelope.Name, f.name)
		}
		if envelope.Fields[f.i].Schema.Type != event.Struct {
			return nil, fmt.Errorf("envelope %s: %s is a %s, not a struct", envelope.Name, f.name, envelope.Fields[f.i].Schema.Type)
		}
	}
	s.afterSchema = envelope.Fields[s.after].Schema
	for _, ref := range u.fields {
		if b, ok := ref.bind(envelope); ok {
			s.fields = append(s.fields, b)
		}
	}
	for _, ref := range u.headers {
		if b, ok := ref.bind(envelope); ok {
			s.headers = append(s.headers, b)
		}
	}
	s.fromAfter = u.outputSchema(s.afterSchema, s.fields)
	switch {
	case envelope.Fields[s.before].Schema != s.afterSchema:
		s.rewrittenDelete = u.outputSchema(envelope.Fields[s.before].Schema, nil)
	case len(s.fields) == 0:
		s.rewrittenDelete = s.fromAfter
	default:
		// One output schema for every row of the table.
		s.rewrittenDelete = u.outputSchema(s.afterSchema, nil)
		u.extensions[s.rewrittenDelete] = s.fromAfter
	}
	u.shapes[envelope] = s
	return s, nil
}

// outputSchema is a row schema made required, with __deleted in the
// rewrite modes and the added fields appended, as Kafka Connect's
// InsertField and Debezium's makeUpdatedSchema build it (copySchemaBasics:
// name, version, doc and parameters, not optionality nor default).
func (u *unwrap) outputSchema(row *event.Schema, added []boundRef) *event.Schema {
	out := &event.Schema{Type: event.Struct, Name: row.Name, Version: row.Version, Doc: row.Doc, Params: row.Params}
	out.Fields = slices.Clip(row.Fields)
	if u.onDelete == deleteRewrite {
		out.Fields = append(out.Fields, event.Field{Name: deletedField, Schema: optionalString})
	}
	for _, f := range added {
		out.Fields = append(out.Fields, event.Field{Name: f.name, Schema: f.schema})
	}
	return out
}
