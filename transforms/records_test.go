package transforms

import (
	"testing"

	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

// customers is the table of Debezium's documentation examples, captured by
// a Postgres connector with topic.prefix dbserver1.
var customers = &event.Table{
	ID: event.TableID{Database: "inventory", Schema: "public", Table: "customers"},
	Columns: []event.Column{
		{Name: "id", Schema: &event.Schema{Type: event.Int32}},
		{Name: "first_name", Schema: &event.Schema{Type: event.String}},
		{Name: "last_name", Schema: &event.Schema{Type: event.String}},
		{Name: "email", Schema: &event.Schema{Type: event.String, Optional: true, Default: "nobody@example.com"}},
	},
	Key: []int{0},
}

var customersSchemas = mustSchemas(customers)

func mustSchemas(t *event.Table) *schema.TableSchemas {
	ts, err := schema.ForTable(t, schema.Options{Prefix: "dbserver1", Connector: "postgresql"})
	if err != nil {
		panic(err)
	}
	return ts
}

var (
	anne      = event.Row{int32(1004), "Anne", "Kretchmar", "annek@noanswer.org"}
	anneMarie = event.Row{int32(1004), "Anne Marie", "Kretchmar", nil}
)

// change is the record a source's Kafka writer hands the chain for an
// event of ts's table: Debezium's envelope as the value, the key struct.
func change(t testing.TB, ts *schema.TableSchemas, op event.Op, before, after event.Row) *record.Record {
	t.Helper()
	e := &event.Event{Op: op, Table: ts.Table, Before: before, After: after, TsMs: 1559033904863,
		Source: event.Source{Version: "3.1.0", Connector: "postgresql", Name: "dbserver1", TsUs: 1559033904000_000, Snapshot: event.SnapshotFalse,
			DB: "inventory", Schema: ts.Table.ID.Schema, Table: ts.Table.ID.Table, TxID: 556, LSN: 24023128},
		Transaction: &event.Transaction{ID: "556:24023128", TotalOrder: 1, DataCollectionOrder: 1}}
	if op == event.OpRead {
		e.Transaction = nil
		e.Source.Snapshot = event.SnapshotTrue
	}
	value, err := ts.Envelope.Values().Value(e)
	if err != nil {
		t.Fatal(err)
	}
	r := &record.Record{Topic: "dbserver1.public." + ts.Table.ID.Table, ValueSchema: ts.Envelope.Schema(), Value: value, Timestamp: 1559033904863}
	if op != event.OpTruncate && ts.Key != nil {
		row := after
		if row == nil {
			row = before
		}
		r.KeySchema, r.Key = ts.Key.Schema(), ts.Table.KeyRow(row)
	}
	return r
}

// tombstone is the record that follows a delete.
func tombstone(del *record.Record) *record.Record {
	return &record.Record{Topic: del.Topic, KeySchema: del.KeySchema, Key: del.Key, Timestamp: del.Timestamp}
}

// build builds a chain of one transform "t" of the given type and keys.
func build(t testing.TB, typ string, kv ...string) *Chain {
	t.Helper()
	raw := map[string]string{"transforms": "t", "transforms.t.type": typ}
	for i := 0; i+1 < len(kv); i += 2 {
		raw["transforms.t."+kv[i]] = kv[i+1]
	}
	c, ps := Build(raw)
	if len(ps) > 0 {
		t.Fatalf("build %v: %v", kv, ps)
	}
	return c
}

func fieldNames(s *event.Schema) []string {
	if s == nil {
		return nil
	}
	var names []string
	for _, f := range s.Fields {
		names = append(names, f.Name)
	}
	return names
}

func headerMap(r *record.Record) map[string]any {
	m := map[string]any{}
	for _, h := range r.Headers {
		m[h.Key] = h.Value
	}
	return m
}
