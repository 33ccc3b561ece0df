package smtjava

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

func dec(s string) event.Decimal {
	d, err := event.ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

// everyType is a record with a value of each type Encode knows, nulls,
// defaults, parameters and headers.
func everyType() *record.Record {
	opt := func(t event.Type) *event.Schema { return &event.Schema{Type: t, Optional: true} }
	decimal := &event.Schema{Type: event.Bytes, Name: event.DecimalName, Version: 1, Params: map[string]string{"scale": "2"}}
	variable := &event.Schema{Type: event.Struct, Name: event.VariableDecimalName, Optional: true, Doc: "Variable scaled decimal", Fields: []event.Field{
		{Name: "scale", Schema: &event.Schema{Type: event.Int32}}, {Name: "value", Schema: &event.Schema{Type: event.Bytes}}}}
	inner := &event.Schema{Type: event.Struct, Name: "inner", Optional: true, Fields: []event.Field{{Name: "x", Schema: opt(event.Int64)}}}
	value := &event.Schema{Type: event.Struct, Name: "every.Value", Version: 3, Doc: "all of them", Fields: []event.Field{
		{Name: "b", Schema: &event.Schema{Type: event.Boolean}},
		{Name: "i8", Schema: &event.Schema{Type: event.Int8}},
		{Name: "i16", Schema: &event.Schema{Type: event.Int16}},
		{Name: "i32", Schema: &event.Schema{Type: event.Int32, Default: int32(7)}},
		{Name: "i64", Schema: &event.Schema{Type: event.Int64}},
		{Name: "f32", Schema: &event.Schema{Type: event.Float32}},
		{Name: "f64", Schema: &event.Schema{Type: event.Float64}},
		{Name: "s", Schema: &event.Schema{Type: event.String, Optional: true, Default: "dflt"}},
		{Name: "raw", Schema: &event.Schema{Type: event.Bytes}},
		{Name: "price", Schema: decimal},
		{Name: "neg", Schema: decimal},
		{Name: "var", Schema: variable},
		{Name: "day", Schema: &event.Schema{Type: event.Int32, Name: event.ConnectDateName, Version: 1}},
		{Name: "at", Schema: &event.Schema{Type: event.Int64, Name: event.ConnectTimestampName, Version: 1}},
		{Name: "tags", Schema: &event.Schema{Type: event.Array, Elem: opt(event.String)}},
		{Name: "inner", Schema: inner},
		{Name: "none", Schema: inner},
		{Name: "e", Schema: &event.Schema{Type: event.String, Name: event.EnumName, Params: map[string]string{"allowed": "a,b"}}},
	}}
	return &record.Record{
		Topic:       "t",
		KeySchema:   &event.Schema{Type: event.Struct, Name: "every.Key", Fields: []event.Field{{Name: "id", Schema: &event.Schema{Type: event.Int32}}}},
		Key:         event.Row{int32(1)},
		ValueSchema: value,
		Value: event.Row{true, int8(-8), int16(300), int32(-70000), int64(1) << 40, float32(0.1), 1e300, nil, []byte{0, 1, 255},
			dec("12345.67"), dec("-1.28"), dec("-0.000129"), int32(19000), int64(1_700_000_000_123), []any{"a", nil},
			event.Row{int64(-3)}, nil, "a"},
		Headers: []record.Header{
			{Key: "n", Schema: &event.Schema{Type: event.Int64}, Value: int64(5)},
			{Key: "null"},
			{Key: "opt", Schema: opt(event.String)},
		},
		Timestamp: 1_700_000_000_000,
	}
}

func TestEncodeDecode(t *testing.T) {
	in := everyType()
	b, err := Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"topic":"t","key":{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],"optional":false,"name":"every.Key"},"payload":{"id":1}}`,
		`"price":"EtaH"`, `"neg":"gA=="`, `"var":{"scale":6,"value":"/38="}`, `"f32":0.1`, `"f64":1.0E300`, `"s":null`,
		`{"type":"int32","optional":false,"default":7,"field":"i32"}`, `"parameters":{"scale":"2"}`,
		`{"key":"null","value":null}`, `{"key":"opt","value":{"schema":{"type":"string","optional":true},"payload":null}}`,
		`"timestamp":1700000000000}`,
	} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("Encode lacks %s:\n%s", want, b)
		}
	}
	out, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Errorf("Decode(Encode(r)) differs:\n got %#v\nwant %#v", out, in)
	}
}

// TestJavaReadsWhatEncodeWrites sends records through no transform: Kafka
// Connect's JsonConverter reads them and writes back the same.
func TestJavaReadsWhatEncodeWrites(t *testing.T) {
	tombstone := &record.Record{Topic: "t", KeySchema: &event.Schema{Type: event.String}, Key: "k"}
	cases := []Case{{Config: map[string]string{}, Record: everyType()}, {Config: map[string]string{}, Record: tombstone}}
	for i, res := range Run(t, cases) {
		if res.Err != "" {
			t.Fatalf("case %d: %s (%s)", i, res.Err, res.Phase)
		}
		if !reflect.DeepEqual(res.Record, cases[i].Record) {
			got, _ := Encode(res.Record)
			want, _ := Encode(cases[i].Record)
			t.Errorf("case %d came back changed:\n got %s\nwant %s", i, got, want)
		}
	}
}
