package schema

import (
	"bytes"
	"os"
	"reflect"
	"testing"

	"github.com/sluice-cdc/sluice/schema/event"
)

func ordersRow(id int32) event.Row {
	return event.Row{
		id, int64(42), "new", nil, dec("1234.50"), dec("-0.000001"), int16(3), true, 2.5, float32(-0.5),
		int64(1700000000123456), "2024-01-02T03:04:05.123456Z", int32(19723), `{"k":1}`,
		"5f0c6a4e-0b2c-4d1e-9d0a-0c5c3c2a1b00", []any{"a", nil}, []byte{0, 1, 0xff},
	}
}

func TestEnvelopeRoundTrip(t *testing.T) {
	pg, err := ForTable(ordersTable(), Options{Prefix: "dbserver1", Connector: "postgresql"})
	if err != nil {
		t.Fatal(err)
	}
	mysqlTable := &event.Table{
		ID:      event.TableID{Database: "inventory", Table: "customers"},
		Columns: []event.Column{{Name: "id", Schema: prim(event.Int64)}, {Name: "email", Schema: opt(prim(event.String))}},
		Key:     []int{0},
	}
	my, err := ForTable(mysqlTable, Options{Prefix: "dbserver1", Connector: "mysql"})
	if err != nil {
		t.Fatal(err)
	}
	pgSource := event.Source{
		Version: "0.1.0", Connector: "postgresql", Name: "dbserver1", TsUs: 1700000000123_000, Snapshot: event.SnapshotFalse,
		DB: "shop", Schema: "public", Table: "orders", Sequence: `["24023128","24023160"]`, TxID: 555, LSN: 24023160,
	}
	tests := []struct {
		name  string
		codec *EnvelopeCodec
		e     event.Event
	}{
		{"pg create", pg.Envelope, event.Event{Op: event.OpCreate, After: ordersRow(1), Source: pgSource, TsMs: 1700000000200,
			Transaction: &event.Transaction{ID: "555:24023160", TotalOrder: 3, DataCollectionOrder: 1}}},
		{"pg update", pg.Envelope, event.Event{Op: event.OpUpdate, Before: ordersRow(1), After: ordersRow(2), Source: pgSource, TsMs: 1}},
		{"pg delete", pg.Envelope, event.Event{Op: event.OpDelete, Before: ordersRow(1), Source: pgSource}},
		{"pg snapshot read", pg.Envelope, event.Event{Op: event.OpRead, After: ordersRow(9),
			Source: event.Source{Version: "v", Connector: "postgresql", Name: "dbserver1", Snapshot: event.SnapshotLast, DB: "shop", Schema: "public", Table: "orders", Xmin: 7}}},
		{"pg truncate", pg.Envelope, event.Event{Op: event.OpTruncate, Source: pgSource}},
		{"mysql create", my.Envelope, event.Event{Op: event.OpCreate, After: event.Row{int64(1001), "sally@example.com"},
			Source: event.Source{Version: "0.1.0", Connector: "mysql", Name: "dbserver1", TsUs: 1486500577000_000, Snapshot: event.SnapshotTrue,
				DB: "inventory", Table: "customers", ServerID: 223344, GTID: "3E11FA47-71CA-11E1-9E33-C80AA9429562:23",
				File: "mysql-bin.000003", Pos: 154, RowIndex: 2, Thread: 7, Query: "INSERT INTO customers VALUES (1001, 'sally@example.com')"},
			TsMs: 1486500577691}},
		{"mysql delete with nulls", my.Envelope, event.Event{Op: event.OpDelete, Before: event.Row{int64(1), nil},
			Source: event.Source{Version: "v", Connector: "mysql", Name: "dbserver1", DB: "inventory", File: "f", Pos: 4}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.e.Position = event.Position{Commit: 800, Index: 2}
			body, err := tc.codec.Append(AppendFrame(nil, 7, nil), &tc.e)
			if err != nil {
				t.Fatal(err)
			}
			id, body, err := SplitFrame(body)
			if err != nil || id != 7 {
				t.Fatalf("SplitFrame: %d, %v", id, err)
			}
			got := event.Event{Position: tc.e.Position}
			if err := tc.codec.Decode(body, &got); err != nil {
				t.Fatal(err)
			}
			if got.Table != tc.codec.table {
				t.Errorf("table %v", got.Table)
			}
			if got.Op != tc.e.Op || got.TsMs != tc.e.TsMs || got.Source != tc.e.Source || got.Position != tc.e.Position ||
				!reflect.DeepEqual(got.Transaction, tc.e.Transaction) {
				t.Errorf("decoded\n%+v\nwant\n%+v", got, tc.e)
			}
			if !sameRow(got.Before, tc.e.Before) || !sameRow(got.After, tc.e.After) {
				t.Errorf("rows: before %v after %v\nwant before %v after %v", got.Before, got.After, tc.e.Before, tc.e.After)
			}
			// The generic codec decodes the same bytes into the envelope's fields.
			generic, err := NewCodec(tc.codec.Schema())
			if err != nil {
				t.Fatal(err)
			}
			v, err := generic.Decode(body)
			if err != nil {
				t.Fatal(err)
			}
			env := v.(event.Row)
			if op := env[tc.codec.Schema().FieldIndex("op")]; op != tc.e.Op.String() {
				t.Errorf("generic op %v", op)
			}
			if ts := env[tc.codec.Schema().FieldIndex("ts_us")]; tc.e.TsMs != 0 && ts != tc.e.TsMs*1000 {
				t.Errorf("ts_us %v", ts)
			}
			// Value is the same envelope as a struct value: the generic
			// codec writes it to the very bytes Append wrote.
			value, err := tc.codec.Values().Value(&tc.e)
			if err != nil {
				t.Fatal(err)
			}
			again, err := generic.Append(nil, value)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, body) {
				t.Errorf("Value encodes to\n%x\nAppend wrote\n%x", again, body)
			}
		})
	}
}

func sameRow(a, b event.Row) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return sameValue(a, b)
}

// TestEnvelopeDecodesDebezium1 decodes an envelope written with the schema
// Debezium 1.x registered: other field order, no ts_us, an unnamed
// transaction record.
func TestEnvelopeDecodesDebezium1(t *testing.T) {
	js, err := os.ReadFile("testdata/debezium1_sales_envelope.avsc")
	if err != nil {
		t.Fatal(err)
	}
	s, err := FromAvro(string(js))
	if err != nil {
		t.Fatal(err)
	}
	generic, err := NewCodec(s)
	if err != nil {
		t.Fatal(err)
	}
	after := []any{int32(7), "toys", dec("19.99"), int64(1559208957661080)}
	source := []any{"1.9.7.Final", "postgresql", "postgres", int64(1559208957661), "true", "shop", "public", "sales", int64(577), int64(23862872), nil}
	body, err := generic.Append(nil, event.Row{nil, after, source, "r", int64(1559208957692), []any{"577", int64(1), int64(1)}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewEnvelopeCodec(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	var e event.Event
	if err := c.Decode(body, &e); err != nil {
		t.Fatal(err)
	}
	wantSource := event.Source{Version: "1.9.7.Final", Connector: "postgresql", Name: "postgres", TsUs: 1559208957661_000, Snapshot: event.SnapshotTrue,
		DB: "shop", Schema: "public", Table: "sales", TxID: 577, LSN: 23862872}
	if e.Op != event.OpRead || e.TsMs != 1559208957692 || e.Source != wantSource || e.Before != nil ||
		!reflect.DeepEqual(e.Transaction, &event.Transaction{ID: "577", TotalOrder: 1, DataCollectionOrder: 1}) {
		t.Errorf("decoded %+v", e)
	}
	if !sameValue(e.After, event.Row(after)) {
		t.Errorf("after %v", e.After)
	}
	// Re-encoding with the same codec gives the same bytes.
	again, err := c.Append(nil, &e)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(body) {
		t.Errorf("re-encoded envelope differs:\n%x\n%x", again, body)
	}
}

func TestEnvelopeErrors(t *testing.T) {
	pg, err := ForTable(ordersTable(), Options{Prefix: "p", Connector: "postgresql"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = pg.Envelope.Append(nil, &event.Event{Op: event.OpCreate, After: event.Row{int32(1)}})
	if want := "encode p.public.orders.Envelope: field \"after\": 1 values for 17 fields"; err == nil || err.Error() != want {
		t.Errorf("short row: %v", err)
	}
	row := ordersRow(1)
	row[1] = int32(42)
	_, err = pg.Envelope.Append(nil, &event.Event{Op: event.OpCreate, After: row})
	if want := `encode p.public.orders.Envelope: field "after.customer_id": want int64, got int32`; err == nil || err.Error() != want {
		t.Errorf("wrong type: %v", err)
	}

	// An envelope with a required field no event has cannot encode, but decodes.
	s := record("x.Envelope", field("op", prim(event.String)), field("extra", prim(event.Int32)))
	c, err := NewEnvelopeCodec(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Append(nil, &event.Event{Op: event.OpCreate}); err == nil ||
		err.Error() != `encode x.Envelope: required field "extra" has no counterpart in an event` {
		t.Errorf("required unknown field: %v", err)
	}
	generic, err := NewCodec(s)
	if err != nil {
		t.Fatal(err)
	}
	var e event.Event
	if err := c.Decode(mustAppend(t, generic, event.Row{"u", int32(5)}), &e); err != nil || e.Op != event.OpUpdate {
		t.Errorf("decode: %v, %+v", err, e)
	}
	if err := c.Decode(mustAppend(t, generic, event.Row{"x", int32(5)}), &e); err == nil ||
		err.Error() != `decode x.Envelope: field "op": unknown operation "x": want one of c, u, d, r, t` {
		t.Errorf("bad op: %v", err)
	}
}

// TestEnvelopeValuesStream builds a stream of envelopes with one
// EnvelopeValues, fields changing from one event to the next and back:
// every value still encodes to the bytes Append writes, earlier values
// are not changed by later ones, and an event that repeats all but its
// position allocates only its rows and its moving fields.
func TestEnvelopeValuesStream(t *testing.T) {
	pg, err := ForTable(ordersTable(), Options{Prefix: "dbserver1", Connector: "postgresql"})
	if err != nil {
		t.Fatal(err)
	}
	generic, err := NewCodec(pg.Envelope.Schema())
	if err != nil {
		t.Fatal(err)
	}
	source := event.Source{Version: "0.1.0", Connector: "postgresql", Name: "dbserver1", TsUs: 1700000000123_000, Snapshot: event.SnapshotFalse,
		DB: "shop", Schema: "public", Table: "orders", TxID: 555, LSN: 24023160}
	var events []event.Event
	// Events of one transaction share their source (its commit's LSN);
	// the last event's source is the first one's again.
	for i, op := range []event.Op{event.OpCreate, event.OpCreate, event.OpUpdate, event.OpDelete, event.OpCreate, event.OpTruncate, event.OpCreate} {
		e := event.Event{Op: op, Source: source, TsMs: 1700000000200 + int64(i/2), After: ordersRow(int32(i))}
		switch i {
		case 3: // the next transaction, at the same time
			e.Source.TxID, e.Source.Snapshot = 0, event.SnapshotTrue
		case 4, 5:
			e.Source.LSN += int64(i)
		}
		if i < 3 {
			e.Transaction = &event.Transaction{ID: "555:100", TotalOrder: int64(i + 1), DataCollectionOrder: int64(i + 1)}
		}
		events = append(events, e)
	}
	values := pg.Envelope.Values()
	var built []event.Row
	for i := range events {
		v, err := values.Value(&events[i])
		if err != nil {
			t.Fatal(err)
		}
		built = append(built, v)
	}
	for i, v := range built {
		want, err := pg.Envelope.Append(nil, &events[i])
		if err != nil {
			t.Fatal(err)
		}
		got, err := generic.Append(nil, v)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("event %d: Value encodes to\n%x\nAppend wrote\n%x", i, got, want)
		}
	}

	for _, tc := range []struct {
		name   string
		change func(e *event.Event)
		// The values' backing array; the after row, the transaction and a
		// new source, each a slice in an interface; a new LSN and a new
		// transaction order (one box for both orders).
		want float64
	}{
		{"the next event of a transaction", func(e *event.Event) { e.Transaction.TotalOrder++; e.Transaction.DataCollectionOrder++ }, 4},
		{"an event at a new LSN", func(e *event.Event) { e.Source.LSN++ }, 5},
		{"the same event again", func(e *event.Event) {}, 3},
	} {
		e := events[0]
		tx := *e.Transaction
		tx.TotalOrder, tx.DataCollectionOrder = 10_000, 10_000 // beyond the integers Go boxes without allocating
		e.Transaction = &tx
		allocs := testing.AllocsPerRun(100, func() {
			tc.change(&e)
			if _, err := values.Value(&e); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != tc.want {
			t.Errorf("%s: %v allocations, want %v", tc.name, allocs, tc.want)
		}
	}
}
