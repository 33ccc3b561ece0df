package schema

import (
	"encoding/json"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"

	"github.com/sluice-cdc/sluice/schema/event"
)

func TestConnectJSONSchemaIsKafkaConnects(t *testing.T) {
	s := &event.Schema{Type: event.Struct, Name: "p.public.t.Value", Fields: []event.Field{
		{Name: "id", Schema: prim(event.Int32)},
		{Name: "amount", Schema: opt(decimalSchema(10, 2))},
		{Name: "tags", Schema: opt(arrayOf(opt(prim(event.String))))},
		{Name: "snapshot", Schema: &event.Schema{Type: event.String, Optional: true, Name: event.EnumName, Version: 1,
			Params: map[string]string{event.AllowedParam: "true,last,false"}, Default: "false"}},
	}}
	got, err := ConnectJSON{}.AppendSchema(nil, s)
	if err != nil {
		t.Fatal(err)
	}
	// What Kafka Connect 4.3's JsonConverter writes for the same schema.
	want := `{"type":"struct","fields":[` +
		`{"type":"int32","optional":false,"field":"id"},` +
		`{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"10"},"field":"amount"},` +
		`{"type":"array","items":{"type":"string","optional":true},"optional":true,"field":"tags"},` +
		`{"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,"parameters":{"allowed":"true,last,false"},"default":"false","field":"snapshot"}` +
		`],"optional":false,"name":"p.public.t.Value"}`
	if string(got) != want {
		t.Errorf("schema\n got %s\nwant %s", got, want)
	}
	back, err := ParseConnectSchema(got)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, s) {
		t.Errorf("parsed back %+v, want %+v", back, s)
	}
}

func TestConnectJSONValues(t *testing.T) {
	dec := func(unscaled int64, scale int32) event.Decimal {
		return event.Decimal{Unscaled: big.NewInt(unscaled), Scale: scale}
	}
	snapshot := &event.Schema{Type: event.String, Optional: true, Default: "false"}
	for _, tc := range []struct {
		name  string
		style ConnectJSON
		s     *event.Schema
		v     any
		want  string
	}{
		{"int16", ConnectJSON{}, prim(event.Int16), int16(-3), `-3`},
		{"double", ConnectJSON{}, prim(event.Float64), 1.5, `1.5`},
		{"whole double", ConnectJSON{}, prim(event.Float64), 100.0, `100.0`},
		{"large double", ConnectJSON{}, prim(event.Float64), 1e7, `1.0E7`},
		{"small double", ConnectJSON{}, prim(event.Float64), 0.000123, `1.23E-4`},
		{"float", ConnectJSON{}, prim(event.Float32), float32(0.1), `0.1`},
		{"NaN", ConnectJSON{}, prim(event.Float64), math.NaN(), `"NaN"`},
		{"-Infinity", ConnectJSON{}, prim(event.Float32), float32(math.Inf(-1)), `"-Infinity"`},
		{"bytes", ConnectJSON{}, prim(event.Bytes), []byte{0, 1, 0xff}, `"AAH/"`},
		{"decimal base64", ConnectJSON{}, decimalSchema(10, 2), dec(-12345, 2), `"z8c="`},
		{"decimal numeric", ConnectJSON{DecimalNumeric: true}, decimalSchema(10, 2), dec(-12345, 2), `-123.45`},
		{"variable decimal", ConnectJSON{}, variableDecimalSchema(), dec(1050, 1), `{"scale":1,"value":"BBo="}`},
		{"null with default", ConnectJSON{}, snapshot, nil, `"false"`},
		{"null kept", ConnectJSON{KeepNulls: true}, snapshot, nil, `null`},
		{"array", ConnectJSON{}, arrayOf(opt(prim(event.Int32))), []any{int32(1), nil}, `[1,null]`},
		{"struct", ConnectJSON{}, &event.Schema{Type: event.Struct, Fields: []event.Field{
			{Name: "a", Schema: prim(event.String)}, {Name: "b", Schema: opt(prim(event.Boolean))},
		}}, event.Row{"x\"y", nil}, `{"a":"x\"y","b":null}`},
	} {
		got, err := tc.style.AppendValue(nil, tc.s, tc.v)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if string(got) != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
			continue
		}
		back, err := tc.style.DecodeValue(tc.s, got)
		if err != nil {
			t.Errorf("%s: decode: %v", tc.name, err)
			continue
		}
		if tc.v == nil || tc.name == "NaN" {
			continue
		}
		if again, _ := tc.style.AppendValue(nil, tc.s, back); string(again) != tc.want {
			t.Errorf("%s: decoded %#v writes %s", tc.name, back, again)
		}
	}
}

// JsonConverter refuses these values (a DataException); ConnectJSON refuses
// them too rather than write what reads back as another value.
func TestConnectJSONRefusesWhatJsonConverterDoes(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    *event.Schema
		v    any
		err  string
	}{
		{"int64 for an int32", prim(event.Int32), int64(1), "want int32, got int64"},
		{"Date as an int64", &event.Schema{Type: event.Int64, Name: event.ConnectDateName}, int64(1), "org.apache.kafka.connect.data.Date is a int32 schema, not a int64 one"},
		{"null for a required value", prim(event.String), nil, "null for a required value"},
		{"decimal of another scale", decimalSchema(10, 2), event.Decimal{Unscaled: big.NewInt(15), Scale: 1}, "decimal 1.5 has scale 1, the schema's scale is 2"},
		{"struct short of a value", &event.Schema{Type: event.Struct, Fields: []event.Field{{Name: "a", Schema: prim(event.Int8)}}}, event.Row{}, "0 values for 1 fields"},
	} {
		_, err := ConnectJSON{}.AppendValue(nil, tc.s, tc.v)
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
		}
	}
}

func TestJavaFloatMatchesJava(t *testing.T) {
	// Java 17: Double.toString and Float.toString of these values.
	for _, tc := range []struct {
		f    float64
		bits int
		want string
	}{
		{0, 64, "0.0"}, {math.Copysign(0, -1), 64, "-0.0"}, {1, 64, "1.0"}, {-2.5, 64, "-2.5"},
		{0.001, 64, "0.001"}, {0.0009, 64, "9.0E-4"}, {9999999, 64, "9999999.0"}, {1e7, 64, "1.0E7"},
		{123456789.125, 64, "1.23456789125E8"}, {1.7976931348623157e308, 64, "1.7976931348623157E308"},
		{float64(float32(3.4028235e38)), 32, "3.4028235E38"}, {float64(float32(1.1)), 32, "1.1"},
	} {
		if got := string(AppendJavaFloat(nil, tc.f, tc.bits)); got != tc.want {
			t.Errorf("%v (%d bits): got %s, want %s", tc.f, tc.bits, got, tc.want)
		}
	}
}

func TestConnectTextIsStringConverters(t *testing.T) {
	key := &event.Schema{Type: event.Struct, Name: "p.public.t.Key", Fields: []event.Field{
		{Name: "id", Schema: prim(event.Int64)}, {Name: "code", Schema: opt(prim(event.String))}, {Name: "amount", Schema: decimalSchema(10, 7)},
	}}
	for _, tc := range []struct {
		v    event.Row
		want string
	}{
		{event.Row{int64(7), "a", event.Decimal{Unscaled: big.NewInt(125), Scale: 2}}, "Struct{id=7,code=a,amount=1.25}"},
		{event.Row{int64(7), nil, event.Decimal{Unscaled: big.NewInt(1), Scale: 7}}, "Struct{id=7,amount=1E-7}"},
	} {
		got, err := AppendConnectText(nil, key, tc.v)
		if err != nil || string(got) != tc.want {
			t.Errorf("got %s (%v), want %s", got, err, tc.want)
		}
	}
}

// The envelope of a representative table renders as JSON that parses.
func TestConnectJSONEnvelopeIsJSON(t *testing.T) {
	ts, err := ForTable(ordersTable(), Options{Prefix: "dbz", Connector: "postgresql"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := ConnectJSON{}.AppendSchema(nil, ts.Envelope.Schema())
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b) {
		t.Fatalf("invalid JSON: %s", b)
	}
	back, err := ParseConnectSchema(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, ts.Envelope.Schema()) {
		t.Errorf("the envelope schema does not parse back to itself")
	}
}
