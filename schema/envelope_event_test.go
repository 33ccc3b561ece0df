package schema

import (
	"os"
	"reflect"
	"testing"

	"github.com/sluice-cdc/sluice/schema/event"
)

// FromValue gets from a generically decoded envelope the very event Decode
// gets from its bytes: for sluice's own envelopes and for Debezium 1.9's.
func TestEnvelopeFromValueAgreesWithDecode(t *testing.T) {
	pg, err := ForTable(ordersTable(), Options{Prefix: "dbserver1", Connector: "postgresql"})
	if err != nil {
		t.Fatal(err)
	}
	my, err := ForTable(&event.Table{
		ID:      event.TableID{Database: "inventory", Table: "customers"},
		Columns: []event.Column{{Name: "id", Schema: prim(event.Int64)}, {Name: "email", Schema: opt(prim(event.String))}},
		Key:     []int{0},
	}, Options{Prefix: "dbserver1", Connector: "mysql"})
	if err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile("testdata/debezium1_sales_envelope.avsc")
	if err != nil {
		t.Fatal(err)
	}
	dbz, err := FromAvro(string(js))
	if err != nil {
		t.Fatal(err)
	}
	dbzCodec, err := NewEnvelopeCodec(dbz, nil)
	if err != nil {
		t.Fatal(err)
	}
	dbzGeneric, err := NewCodec(dbz)
	if err != nil {
		t.Fatal(err)
	}
	dbzBody, err := dbzGeneric.Append(nil, event.Row{nil, []any{int32(7), "toys", dec("19.99"), int64(1559208957661080)},
		[]any{"1.9.7.Final", "postgresql", "postgres", int64(1559208957661), "true", "shop", "public", "sales", int64(577), int64(23862872), nil},
		"r", int64(1559208957692), []any{"577", int64(1), int64(1)}})
	if err != nil {
		t.Fatal(err)
	}
	encode := func(c *EnvelopeCodec, e event.Event) []byte {
		b, err := c.Append(nil, &e)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	pgSource := event.Source{Version: "0.1.0", Connector: "postgresql", Name: "dbserver1", TsUs: 1700000000123_000, Snapshot: event.SnapshotFalse,
		DB: "shop", Schema: "public", Table: "orders", Sequence: `["24023128","24023160"]`, TxID: 555, LSN: 24023160}
	tests := []struct {
		name  string
		codec *EnvelopeCodec
		body  []byte
	}{
		{"pg create", pg.Envelope, encode(pg.Envelope, event.Event{Op: event.OpCreate, After: ordersRow(1), Source: pgSource, TsMs: 1700000000200,
			Transaction: &event.Transaction{ID: "555:24023160", TotalOrder: 3, DataCollectionOrder: 1}})},
		{"pg delete", pg.Envelope, encode(pg.Envelope, event.Event{Op: event.OpDelete, Before: ordersRow(1), Source: pgSource})},
		{"pg truncate", pg.Envelope, encode(pg.Envelope, event.Event{Op: event.OpTruncate, Source: pgSource})},
		{"mysql create", my.Envelope, encode(my.Envelope, event.Event{Op: event.OpCreate, After: event.Row{int64(1001), "sally@example.com"},
			Source: event.Source{Version: "0.1.0", Connector: "mysql", Name: "dbserver1", TsUs: 1486500577000_000, Snapshot: event.SnapshotTrue,
				DB: "inventory", Table: "customers", ServerID: 223344, GTID: "3E11FA47-71CA-11E1-9E33-C80AA9429562:23",
				File: "mysql-bin.000003", Pos: 154, RowIndex: 2, Thread: 7, Query: "INSERT INTO customers VALUES (1001, 'sally@example.com')"},
			TsMs: 1486500577691})},
		{"debezium 1.9 read", dbzCodec, dbzBody},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pos := event.Position{Commit: 800, Index: 2}
			want := event.Event{Position: pos}
			if err := tc.codec.Decode(tc.body, &want); err != nil {
				t.Fatal(err)
			}
			generic, err := NewCodec(tc.codec.Schema())
			if err != nil {
				t.Fatal(err)
			}
			v, err := generic.Decode(tc.body)
			if err != nil {
				t.Fatal(err)
			}
			got := event.Event{Position: pos}
			if err := tc.codec.FromValue(v.(event.Row), &got); err != nil {
				t.Fatal(err)
			}
			if got.Op != want.Op || got.TsMs != want.TsMs || got.Source != want.Source || got.Position != pos || got.Table != want.Table ||
				!reflect.DeepEqual(got.Transaction, want.Transaction) || !sameValue(got.Before, want.Before) || !sameValue(got.After, want.After) {
				t.Errorf("FromValue\n%+v\nDecode\n%+v", got, want)
			}
		})
	}
}

func TestEnvelopeFromValueRefusesABadOp(t *testing.T) {
	pg, err := ForTable(ordersTable(), Options{Prefix: "dbserver1", Connector: "postgresql"})
	if err != nil {
		t.Fatal(err)
	}
	env := make(event.Row, len(pg.Envelope.Schema().Fields))
	env[pg.Envelope.Schema().FieldIndex("op")] = "x"
	var e event.Event
	if err := pg.Envelope.FromValue(env, &e); err == nil {
		t.Fatal("FromValue accepted op \"x\"")
	}
	if err := pg.Envelope.FromValue(env[:2], &e); err == nil {
		t.Fatal("FromValue accepted a value with too few fields")
	}
}
