package schema

import (
	"testing"

	"github.com/sluice-cdc/sluice/schema/event"
)

// FuzzDecode feeds arbitrary bytes to the row, key and envelope decoders of a
// table with every kind of column: they must return an error or a value,
// never panic, and whatever they accept must encode again.
//
//	go test -run '^$' -fuzz FuzzDecode -fuzztime 60s ./schema/
func FuzzDecode(f *testing.F) {
	ts, err := ForTable(ordersTable(), Options{Prefix: "dbserver1", Connector: "postgresql"})
	if err != nil {
		f.Fatal(err)
	}
	rows, err := NewCodec(ts.Value)
	if err != nil {
		f.Fatal(err)
	}
	e := event.Event{Op: event.OpUpdate, Before: ordersRow(1), After: ordersRow(2), TsMs: 1700000000200,
		Source:      event.Source{Version: "v", Connector: "postgresql", Name: "dbserver1", TsUs: 17_000, DB: "shop", Schema: "public", Table: "orders", LSN: 99},
		Transaction: &event.Transaction{ID: "1", TotalOrder: 1, DataCollectionOrder: 1}}
	envelope, err := ts.Envelope.Append(nil, &e)
	if err != nil {
		f.Fatal(err)
	}
	row := mustAppendF(f, rows, ordersRow(3))
	for _, seed := range [][]byte{envelope, row, mustAppendF(f, ts.Key, event.Row{int32(-5)}), envelope[:len(envelope)/2], row[:7], {}, {0xff, 0xff, 0xff, 0xff, 0x0f}} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if v, err := rows.Decode(body); err == nil {
			if _, err := rows.Append(nil, v); err != nil {
				t.Fatalf("decoded row does not encode: %v", err)
			}
		}
		if v, err := ts.Key.Decode(body); err == nil {
			if _, err := ts.Key.Append(nil, v); err != nil {
				t.Fatalf("decoded key does not encode: %v", err)
			}
		}
		var got event.Event
		if err := ts.Envelope.Decode(body, &got); err == nil {
			if _, err := ts.Envelope.Append(nil, &got); err != nil {
				t.Fatalf("decoded envelope does not encode: %v", err)
			}
		}
	})
}

func mustAppendF(f *testing.F, c *Codec, v any) []byte {
	b, err := c.Append(nil, v)
	if err != nil {
		f.Fatal(err)
	}
	return b
}
