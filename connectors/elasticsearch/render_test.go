package elasticsearch

import (
	"math"
	"math/big"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/schema/event"
)

// Documents render values in docStyle (schema/jsontext tests each type):
// decimals as exact numbers, NaN as null; placeholder fields are marked
// and left out.
func TestRenderRow(t *testing.T) {
	s := &event.Schema{Type: event.Struct, Name: "Value", Fields: []event.Field{
		{Name: "id", Schema: &event.Schema{Type: event.Int32}},
		{Name: "price", Schema: &event.Schema{Type: event.Bytes, Name: event.DecimalName, Params: map[string]string{"scale": "2"}}},
		{Name: "ratio", Schema: &event.Schema{Type: event.Float64, Optional: true}},
		{Name: "big", Schema: &event.Schema{Type: event.String, Optional: true}},
		{Name: "tags", Schema: &event.Schema{Type: event.Array, Elem: &event.Schema{Type: event.String}, Optional: true}},
	}}
	row := event.Row{int32(7), event.Decimal{Unscaled: big.NewInt(-12345), Scale: 2}, math.NaN(), "__debezium_unavailable_value", []any{"__debezium_unavailable_value"}}
	fields, err := renderRow(s, row, "__debezium_unavailable_value")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(appendObject(nil, fields)), `{"id":7,"price":-123.45,"ratio":null}`; got != want {
		t.Errorf("document\n got %s\nwant %s", got, want)
	}
	if !fields[3].unavailable || !fields[4].unavailable || fields[2].unavailable {
		t.Errorf("unavailable = %v %v %v, want the placeholder text and array marked, not the null float", fields[2].unavailable, fields[3].unavailable, fields[4].unavailable)
	}
	if _, err := renderRow(s, row[:2], ""); err == nil || err.Error() != "row has 2 values for 5 fields of Value" {
		t.Errorf("short row: %v", err)
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

func TestBackoffDoublesWithJitterUpToTenSeconds(t *testing.T) {
	for n, want := range []int64{100, 200, 400, 800} {
		for range 50 {
			got := backoff(100*1e6, n).Milliseconds()
			if got < want/2 || got > want {
				t.Fatalf("backoff(100ms, %d) = %dms, want within [%d, %d]", n, got, want/2, want)
			}
		}
	}
	if got := backoff(100*1e6, 40); got < 5*time.Second || got > 10*time.Second {
		t.Errorf("backoff after many retries = %s, want between 5 s and 10 s", got)
	}
	if got := backoff(time.Minute, 3); got < 30*time.Second || got > time.Minute {
		t.Errorf("backoff from retry.backoff.ms of a minute = %s, want between 30 s and a minute", got)
	}
}
