package elasticsearch

import (
	"math"
	"math/big"
	"testing"

	"github.com/sluice-cdc/sluice/schema/event"
)

func TestRenderRow(t *testing.T) {
	point := &event.Schema{Type: event.Struct, Name: "Point", Optional: true, Fields: []event.Field{
		{Name: "x", Schema: &event.Schema{Type: event.Float64}}, {Name: "y", Schema: &event.Schema{Type: event.Float64}},
	}}
	s := &event.Schema{Type: event.Struct, Name: "Value", Fields: []event.Field{
		{Name: "id", Schema: &event.Schema{Type: event.Int32}},
		{Name: "price", Schema: &event.Schema{Type: event.Bytes, Name: event.DecimalName, Params: map[string]string{"scale": "2"}}},
		{Name: "raw", Schema: &event.Schema{Type: event.Bytes, Optional: true}},
		{Name: "note", Schema: &event.Schema{Type: event.String, Optional: true}},
		{Name: "at", Schema: &event.Schema{Type: event.Int64, Name: event.MicroTimestampName}},
		{Name: "ratio", Schema: &event.Schema{Type: event.Float64, Optional: true}},
		{Name: "tags", Schema: &event.Schema{Type: event.Array, Elem: &event.Schema{Type: event.String}, Optional: true}},
		{Name: "where", Schema: point},
		{Name: "big", Schema: &event.Schema{Type: event.String, Optional: true}},
		{Name: "ok", Schema: &event.Schema{Type: event.Boolean}},
	}}
	row := event.Row{int32(7), event.Decimal{Unscaled: big.NewInt(-12345), Scale: 2}, []byte{0, 1, 255}, "a \"q\"\n\x01é\xff",
		int64(1700000000123456), math.NaN(), []any{"x", "y"}, []any{1.5, -2.0}, "__debezium_unavailable_value", true}
	fields, err := renderRow(s, row, "__debezium_unavailable_value")
	if err != nil {
		t.Fatal(err)
	}
	got := string(appendObject(nil, fields))
	want := `{"id":7,"price":-123.45,"raw":"AAH/","note":"a \"q\"\n\u0001é\ufffd","at":1700000000123456,"ratio":null,"tags":["x","y"],"where":{"x":1.5,"y":-2},"ok":true}`
	if got != want {
		t.Errorf("document\n got %s\nwant %s", got, want)
	}
	if !fields[8].unavailable {
		t.Error("the placeholder field must be marked unavailable")
	}
}

func TestKeyText(t *testing.T) {
	one := &event.Schema{Type: event.Struct, Fields: []event.Field{{Name: "id", Schema: &event.Schema{Type: event.Int64}}}}
	two := &event.Schema{Type: event.Struct, Fields: []event.Field{
		{Name: "tenant", Schema: &event.Schema{Type: event.String}}, {Name: "id", Schema: &event.Schema{Type: event.Int32}},
	}}
	for _, tc := range []struct {
		s    *event.Schema
		v    any
		want string
	}{
		{one, event.Row{int64(42)}, "42"},
		{two, event.Row{"acme", int32(7)}, `["acme",7]`},
		{two, event.Row{`a"b`, int32(-1)}, `["a\"b",-1]`},
		{&event.Schema{Type: event.String}, "plain", "plain"},
		{&event.Schema{Type: event.Bytes}, []byte{1, 2}, "AQI="},
	} {
		got, err := keyText(tc.s, tc.v)
		if err != nil || got != tc.want {
			t.Errorf("keyText(%v) = %q, %v; want %q", tc.v, got, err, tc.want)
		}
	}
	if _, err := keyText(one, event.Row{nil}); err == nil || err.Error() != "key value is null" {
		t.Errorf("null key: %v", err)
	}
}

func TestBackoffDoublesWithJitterUpToAMinute(t *testing.T) {
	for n, want := range []int64{100, 200, 400, 800} {
		for range 50 {
			got := backoff(100*1e6, n).Milliseconds()
			if got < want/2 || got > want {
				t.Fatalf("backoff(100ms, %d) = %dms, want within [%d, %d]", n, got, want/2, want)
			}
		}
	}
	if got := backoff(100*1e6, 40); got < maxBackoff/2 || got > maxBackoff {
		t.Errorf("backoff after many retries = %s, want at most a minute", got)
	}
}
