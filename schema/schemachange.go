package schema

import (
	"fmt"

	"github.com/sluice-cdc/sluice/schema/event"
)

// SchemaChanges are the fixed key and value schemas of Debezium's
// schema-change topic (the topic named by the topic prefix alone), and
// their codecs: the key "io.debezium.connector.<connector>.SchemaChangeKey"
// {databaseName} and the value
// "io.debezium.connector.<connector>.SchemaChangeValue" {source, ts_ms,
// databaseName, schemaName, ddl, tableChanges}, each table change an
// "io.debezium.connector.schema.Change" {type, id, table}. They are
// immutable and safe for concurrent use.
type SchemaChanges struct {
	Key   *Codec
	Value *Codec
}

// ForSchemaChanges builds the schema-change schemas of o.Connector (the
// source block is that of the change events).
func ForSchemaChanges(o Options) (*SchemaChanges, error) {
	source, err := SourceSchema(o.Connector)
	if err != nil {
		return nil, fmt.Errorf("derive schema-change schemas: %w", err)
	}
	str := func(optional bool) *event.Schema { return &event.Schema{Type: event.String, Optional: optional} }
	i32 := func(optional bool) *event.Schema { return &event.Schema{Type: event.Int32, Optional: optional} }
	boolean := &event.Schema{Type: event.Boolean, Optional: true}
	strings := func(optional bool) *event.Schema {
		return &event.Schema{Type: event.Array, Optional: optional, Elem: str(false)}
	}
	column := &event.Schema{Type: event.Struct, Name: "io.debezium.connector.schema.Column", Version: 1, Fields: []event.Field{
		{Name: "name", Schema: str(false)},
		{Name: "jdbcType", Schema: i32(false)},
		{Name: "nativeType", Schema: i32(true)},
		{Name: "typeName", Schema: str(false)},
		{Name: "typeExpression", Schema: str(true)},
		{Name: "charsetName", Schema: str(true)},
		{Name: "length", Schema: i32(true)},
		{Name: "scale", Schema: i32(true)},
		{Name: "position", Schema: i32(false)},
		{Name: "optional", Schema: boolean},
		{Name: "autoIncremented", Schema: boolean},
		{Name: "generated", Schema: boolean},
		{Name: "comment", Schema: str(true)},
		{Name: "defaultValueExpression", Schema: str(true)},
		{Name: "enumValues", Schema: strings(true)},
	}}
	table := &event.Schema{Type: event.Struct, Name: "io.debezium.connector.schema.Table", Version: 1, Optional: true, Fields: []event.Field{
		{Name: "defaultCharsetName", Schema: str(true)},
		{Name: "primaryKeyColumnNames", Schema: strings(true)},
		{Name: "columns", Schema: &event.Schema{Type: event.Array, Elem: column}},
		{Name: "comment", Schema: str(true)},
	}}
	change := &event.Schema{Type: event.Struct, Name: "io.debezium.connector.schema.Change", Version: 1, Fields: []event.Field{
		{Name: "type", Schema: str(false)},
		{Name: "id", Schema: str(false)},
		{Name: "table", Schema: table},
	}}
	ns := "io.debezium.connector." + o.Connector
	key := &event.Schema{Type: event.Struct, Name: ns + ".SchemaChangeKey", Version: 1, Fields: []event.Field{
		{Name: "databaseName", Schema: str(false)},
	}}
	value := &event.Schema{Type: event.Struct, Name: ns + ".SchemaChangeValue", Version: 1, Fields: []event.Field{
		{Name: "source", Schema: source},
		{Name: "ts_ms", Schema: &event.Schema{Type: event.Int64}},
		{Name: "databaseName", Schema: str(true)},
		{Name: "schemaName", Schema: str(true)},
		{Name: "ddl", Schema: str(true)},
		{Name: "tableChanges", Schema: &event.Schema{Type: event.Array, Elem: change}},
	}}
	sc := &SchemaChanges{}
	if sc.Key, err = NewCodec(key); err != nil {
		return nil, err
	}
	if sc.Value, err = NewCodec(value); err != nil {
		return nil, err
	}
	return sc, nil
}

// KeyRow is the key of a schema-change event (e.SchemaChange set).
func (sc *SchemaChanges) KeyRow(e *event.Event) event.Row {
	return event.Row{e.SchemaChange.Database}
}

// ValueRow is the value of a schema-change event (e.SchemaChange set), in
// the Go form the Value codec encodes. Table ids are `"db"."table"`, as
// Debezium writes them; databaseName is written also when empty (a
// snapshot's SET statement), as the key's is.
func (sc *SchemaChanges) ValueRow(e *event.Event) event.Row {
	c := e.SchemaChange
	changes := make([]any, len(c.Tables))
	for i, t := range c.Tables {
		var table any
		if d := t.Table; d != nil {
			cols := make([]any, len(d.Columns))
			for j, col := range d.Columns {
				cols[j] = []any{col.Name, col.JDBCType, nil, col.TypeName, optString(col.TypeExpression), optString(col.Charset),
					optInt32(col.Length), optInt32(col.Scale), col.Position, col.Optional, col.AutoIncremented, col.Generated,
					optString(col.Comment), optStringPtr(col.DefaultValue), optStrings(col.EnumValues)}
			}
			table = []any{optString(d.DefaultCharset), optStrings(d.PrimaryKey), cols, optString(d.Comment)}
		}
		id := `"` + t.ID.Database + `"."` + t.ID.Table + `"`
		if t.ID.Schema != "" {
			id = `"` + t.ID.Schema + `"."` + t.ID.Table + `"`
		}
		changes[i] = []any{t.Type, id, table}
	}
	return event.Row{sourceRow(sc.Value.schema.Fields[0].Schema, &e.Source), e.TsMs,
		c.Database, optString(c.Schema), optString(c.DDL), changes}
}

// sourceRow is the value of a source block schema for s, field by field as
// the envelope codec writes it.
func sourceRow(schema *event.Schema, s *event.Source) []any {
	out := make([]any, len(schema.Fields))
	for i, f := range schema.Fields {
		var v any
		switch f.Name {
		case "version":
			v = s.Version
		case "connector":
			v = s.Connector
		case "name":
			v = s.Name
		case "ts_ms":
			v = s.TsMillis()
		case "ts_us":
			v = s.TsUs
		case "ts_ns":
			v = s.TsUs * 1e3
		case "snapshot":
			v = string(s.Snapshot)
		case "db":
			v = s.DB
		case "sequence":
			v = s.Sequence
		case "schema":
			v = s.Schema
		case "table":
			v = s.Table
		case "txId":
			v = s.TxID
		case "lsn":
			v = s.LSN
		case "xmin":
			v = s.Xmin
		case "server_id":
			v = s.ServerID
		case "gtid":
			v = s.GTID
		case "file":
			v = s.File
		case "pos":
			v = s.Pos
		case "row":
			v = s.RowIndex
		case "thread":
			v = s.Thread
		case "query":
			v = s.Query
		}
		// Optional fields with a zero value are absent, as in the envelope.
		if f.Schema.Optional && (v == "" || v == int64(0)) {
			v = nil
		}
		out[i] = v
	}
	return out
}

func optString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func optStringPtr(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

func optInt32(n *int32) any {
	if n == nil {
		return nil
	}
	return *n
}

func optStrings(ss []string) any {
	if ss == nil {
		return nil
	}
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
