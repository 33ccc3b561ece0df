package schema

import (
	"testing"

	"github.com/sluice-cdc/sluice/schema/event"
)

// benchCodec returns a codec for a typical 10-column row, and such a row.
func benchCodec(b *testing.B) (*Codec, event.Row) {
	s := record("bench.public.t.Value",
		field("id", prim(event.Int32)),
		field("account", prim(event.Int64)),
		field("name", prim(event.String)),
		field("email", opt(prim(event.String))),
		field("active", prim(event.Boolean)),
		field("score", prim(event.Float64)),
		field("balance", opt(decimalSchema(12, 2))),
		field("updated_at", named(event.Int64, event.MicroTimestampName)),
		field("note", opt(prim(event.String))),
		field("avatar", opt(prim(event.Bytes))),
	)
	c, err := NewCodec(s)
	if err != nil {
		b.Fatal(err)
	}
	row := event.Row{
		int32(123456), int64(9876543210), "Ada Lovelace Byron 1",
		"ada.lovelace@analytical-engine.example.org", true, 4.75, dec("1234567.89"),
		int64(1700000000123456), nil, []byte("\x89PNG\r\n\x1a\n0123456789"),
	}
	return c, row
}

func BenchmarkEncodeRow(b *testing.B) {
	c, row := benchCodec(b)
	var dst []byte
	var err error
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendFrame(dst[:0], 42, nil)
		if dst, err = c.Append(dst, row); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(dst)))
}

func BenchmarkDecodeRow(b *testing.B) {
	c, row := benchCodec(b)
	frame, err := c.Append(AppendFrame(nil, 42, nil), row)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		_, body, err := SplitFrame(frame)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Decode(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeEnvelope(b *testing.B) {
	ts, err := ForTable(ordersTable(), Options{Prefix: "dbserver1", Connector: "postgresql"})
	if err != nil {
		b.Fatal(err)
	}
	e := event.Event{Op: event.OpUpdate, Before: ordersRow(1), After: ordersRow(2), TsMs: 1700000000200,
		Source: event.Source{Version: "v", Connector: "postgresql", Name: "dbserver1", TsUs: 17_000, DB: "shop", Schema: "public", Table: "orders", LSN: 99}}
	var dst []byte
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendFrame(dst[:0], 42, nil)
		if dst, err = ts.Envelope.Append(dst, &e); err != nil {
			b.Fatal(err)
		}
	}
}
