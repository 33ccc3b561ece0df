package schema

import (
	"errors"
	"fmt"

	"github.com/sluice-cdc/sluice/schema/event"
)

// Options say how ForTable names a table's records.
type Options struct {
	// Prefix is the connector's topic.prefix, the first part of every record
	// name. Required.
	Prefix string
	// Connector is the Debezium connector whose source block to use:
	// "postgresql", "mysql" or "mariadb". Required.
	Connector string
}

// TableSchemas are the schemas and codecs of one table version.
type TableSchemas struct {
	Table *event.Table
	// Key encodes the Kafka record key, the record "<prefix>.<schema>.<table>.Key"
	// (MySQL: "<prefix>.<database>.<table>.Key") holding the key columns; nil
	// for a keyless table, whose records have a null key.
	Key *Codec
	// Value is the row record "<prefix>.<schema>.<table>.Value", one field per column.
	Value *event.Schema
	// Envelope encodes the Kafka record value, Debezium's envelope
	// "<prefix>.<schema>.<table>.Envelope".
	Envelope *EnvelopeCodec
}

// ForTable derives the schemas Debezium gives a table version — record names
// from the topic prefix and the table's schema (or database) and name, made
// valid Avro with AvroName — and compiles their codecs.
func ForTable(t *event.Table, o Options) (*TableSchemas, error) {
	if t == nil {
		return nil, errors.New("derive schemas: no table")
	}
	if o.Prefix == "" {
		return nil, fmt.Errorf("derive schemas for %s: no topic prefix", t.ID)
	}
	source, err := SourceSchema(o.Connector)
	if err != nil {
		return nil, fmt.Errorf("derive schemas for %s: %w", t.ID, err)
	}
	base := AvroName(o.Prefix + "." + t.ID.String())
	value := &event.Schema{Type: event.Struct, Name: base + ".Value", Fields: make([]event.Field, len(t.Columns))}
	for i, c := range t.Columns {
		value.Fields[i] = event.Field{Name: c.Name, Schema: c.Schema}
	}
	ts := &TableSchemas{Table: t, Value: value}
	if len(t.Key) > 0 {
		key := &event.Schema{Type: event.Struct, Name: base + ".Key", Fields: make([]event.Field, len(t.Key))}
		for i, c := range t.Key {
			if c < 0 || c >= len(t.Columns) {
				return nil, fmt.Errorf("derive schemas for %s: key column index %d out of range", t.ID, c)
			}
			key.Fields[i] = value.Fields[c]
		}
		if ts.Key, err = NewCodec(key); err != nil {
			return nil, fmt.Errorf("derive schemas for %s: %w", t.ID, err)
		}
	}
	envelope := EnvelopeSchema(base+".Envelope", value, source)
	if ts.Envelope, err = NewEnvelopeCodec(envelope, t); err != nil {
		return nil, fmt.Errorf("derive schemas for %s: %w", t.ID, err)
	}
	return ts, nil
}

// EnvelopeSchema builds Debezium's envelope (version 2) around a row record
// and a source block, with its fields in Debezium's order: before, after,
// source, transaction, op, ts_ms, ts_us, ts_ns.
func EnvelopeSchema(name string, value, source *event.Schema) *event.Schema {
	row := *value
	row.Optional = true
	optionalLong := &event.Schema{Type: event.Int64, Optional: true}
	return &event.Schema{
		Type:    event.Struct,
		Name:    name,
		Version: 2,
		Fields: []event.Field{
			{Name: "before", Schema: &row},
			{Name: "after", Schema: &row},
			{Name: "source", Schema: source},
			{Name: "transaction", Schema: transactionSchema()},
			{Name: "op", Schema: &event.Schema{Type: event.String}},
			{Name: "ts_ms", Schema: optionalLong},
			{Name: "ts_us", Schema: optionalLong},
			{Name: "ts_ns", Schema: optionalLong},
		},
	}
}

// transactionSchema is Debezium's transaction block, "event.block".
func transactionSchema() *event.Schema {
	return &event.Schema{
		Type:     event.Struct,
		Name:     "event.block",
		Version:  1,
		Optional: true,
		Fields: []event.Field{
			{Name: "id", Schema: &event.Schema{Type: event.String}},
			{Name: "total_order", Schema: &event.Schema{Type: event.Int64}},
			{Name: "data_collection_order", Schema: &event.Schema{Type: event.Int64}},
		},
	}
}

// snapshotAllowed are the values of source.snapshot, as Debezium 3 lists them.
const snapshotAllowed = "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"

// SourceSchema returns the source block Debezium's connector writes —
// "io.debezium.connector.<connector>.Source", version 1 — with its fields,
// types and order: version, connector, name, ts_ms, snapshot, db, sequence,
// ts_us, ts_ns, then for "postgresql" schema, table, txId, lsn, xmin,
// origin, origin_lsn, and for "mysql" and "mariadb" table, server_id, gtid,
// file, pos, row, thread, query.
func SourceSchema(connector string) (*event.Schema, error) {
	str := func(optional bool) *event.Schema { return &event.Schema{Type: event.String, Optional: optional} }
	long := func(optional bool) *event.Schema { return &event.Schema{Type: event.Int64, Optional: optional} }
	fields := []event.Field{
		{Name: "version", Schema: str(false)},
		{Name: "connector", Schema: str(false)},
		{Name: "name", Schema: str(false)},
		{Name: "ts_ms", Schema: long(false)},
		{Name: "snapshot", Schema: &event.Schema{
			Type: event.String, Optional: true, Name: event.EnumName, Version: 1,
			Params: map[string]string{event.AllowedParam: snapshotAllowed}, Default: string(event.SnapshotFalse),
		}},
		{Name: "db", Schema: str(false)},
		{Name: "sequence", Schema: str(true)},
		{Name: "ts_us", Schema: long(true)},
		{Name: "ts_ns", Schema: long(true)},
	}
	switch connector {
	case "postgresql":
		fields = append(fields,
			event.Field{Name: "schema", Schema: str(false)},
			event.Field{Name: "table", Schema: str(false)},
			event.Field{Name: "txId", Schema: long(true)},
			event.Field{Name: "lsn", Schema: long(true)},
			event.Field{Name: "xmin", Schema: long(true)},
			// The replication origin of the change (logical replication
			// between servers); sluice writes null.
			event.Field{Name: "origin", Schema: str(true)},
			event.Field{Name: "origin_lsn", Schema: long(true)},
		)
	case "mysql", "mariadb":
		fields = append(fields,
			event.Field{Name: "table", Schema: str(true)},
			event.Field{Name: "server_id", Schema: long(false)},
			event.Field{Name: "gtid", Schema: str(true)},
			event.Field{Name: "file", Schema: str(false)},
			event.Field{Name: "pos", Schema: long(false)},
			event.Field{Name: "row", Schema: &event.Schema{Type: event.Int32}},
			event.Field{Name: "thread", Schema: long(true)},
			event.Field{Name: "query", Schema: str(true)},
		)
	default:
		return nil, fmt.Errorf("unknown connector %q: want postgresql, mysql or mariadb", connector)
	}
	return &event.Schema{Type: event.Struct, Name: "io.debezium.connector." + connector + ".Source", Version: 1, Fields: fields}, nil
}
