package jsontext

import (
	"encoding/json"
	"math"
	"math/big"
	"testing"

	"github.com/sluice-cdc/sluice/schema/event"
)

func TestAppendValueInEachStyle(t *testing.T) {
	point := &event.Schema{Type: event.Struct, Name: "Point", Optional: true, Fields: []event.Field{
		{Name: "x", Schema: &event.Schema{Type: event.Float64}}, {Name: "y", Schema: &event.Schema{Type: event.Float64}},
	}}
	s := &event.Schema{Type: event.Struct, Name: "Value", Fields: []event.Field{
		{Name: "id", Schema: &event.Schema{Type: event.Int32}},
		{Name: "price", Schema: &event.Schema{Type: event.Bytes, Name: event.DecimalName, Params: map[string]string{"scale": "2"}}},
		{Name: "raw", Schema: &event.Schema{Type: event.Bytes, Optional: true}},
		{Name: "note", Schema: &event.Schema{Type: event.String, Optional: true}},
		{Name: "at", Schema: &event.Schema{Type: event.Int64, Name: event.MicroTimestampName}},
		{Name: "nan", Schema: &event.Schema{Type: event.Float64}},
		{Name: "inf", Schema: &event.Schema{Type: event.Float32}},
		{Name: "minf", Schema: &event.Schema{Type: event.Float64}},
		{Name: "tags", Schema: &event.Schema{Type: event.Array, Elem: &event.Schema{Type: event.String}, Optional: true}},
		{Name: "where", Schema: point},
		{Name: "none", Schema: &event.Schema{Type: event.String, Optional: true}},
		{Name: "ok", Schema: &event.Schema{Type: event.Boolean}},
		{Name: "small", Schema: &event.Schema{Type: event.Int8}},
		{Name: "f32", Schema: &event.Schema{Type: event.Float32}},
	}}
	row := event.Row{int32(7), event.Decimal{Unscaled: big.NewInt(-12345), Scale: 2}, []byte{0, 1, 255}, "a \"q\"\n\x01é\xff\u2028\\\t\r",
		int64(1700000000123456), math.NaN(), float32(math.Inf(1)), math.Inf(-1), []any{"x", "y"}, []any{1.5, -2.0}, nil, true, int8(-3), float32(0.1)}
	const common = `"raw":"AAH/","note":"a \"q\"\n\u0001é\ufffd\u2028\\\t\r","at":1700000000123456,`
	for _, tc := range []struct {
		style Style
		want  string
	}{
		{Style{}, `{"id":7,"price":-123.45,` + common + `"nan":null,"inf":null,"minf":null,"tags":["x","y"],"where":{"x":1.5,"y":-2},"none":null,"ok":true,"small":-3,"f32":0.1}`},
		{Style{DecimalStrings: true, NonFiniteStrings: true}, `{"id":7,"price":"-123.45",` + common + `"nan":"NaN","inf":"Infinity","minf":"-Infinity","tags":["x","y"],"where":{"x":1.5,"y":-2},"none":null,"ok":true,"small":-3,"f32":0.1}`},
	} {
		got, err := tc.style.AppendValue([]byte("prefix "), s, row)
		if err != nil {
			t.Fatalf("%+v: %v", tc.style, err)
		}
		if string(got) != "prefix "+tc.want {
			t.Errorf("%+v:\n got %s\nwant prefix %s", tc.style, got, tc.want)
		}
		var v map[string]any
		if err := json.Unmarshal(got[len("prefix "):], &v); err != nil {
			t.Errorf("%+v: output is not JSON: %v", tc.style, err)
		}
	}
}

func TestAppendValueRefusesWhatHasNoJSONForm(t *testing.T) {
	s := &event.Schema{Type: event.Struct, Fields: []event.Field{{Name: "a", Schema: &event.Schema{Type: event.Int32}}}}
	for _, tc := range []struct {
		s    *event.Schema
		v    any
		want string
	}{
		{nil, struct{}{}, "value of Go type struct {} has no JSON form"},
		{s, event.Row{int32(1), int32(2)}, "struct value with 2 fields does not match its schema"},
		{s, event.Row{uint(1)}, `field "a": value of Go type uint has no JSON form`},
		{&event.Schema{Type: event.Array, Elem: s}, []any{event.Row{int32(1)}, event.Row{}}, "element 1: struct value with 0 fields does not match its schema"},
	} {
		got, err := Style{}.AppendValue(nil, tc.s, tc.v)
		if err == nil || err.Error() != tc.want || got != nil {
			t.Errorf("AppendValue(%v) = %q, %v; want nil, %q", tc.v, got, err, tc.want)
		}
	}
}
