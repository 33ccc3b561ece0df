package transforms

import (
	"math"
	"math/big"
	"testing"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

func TestCast(t *testing.T) {
	vs := structOf("v", fld("id", sch(event.Int64)), fld("score", sch(event.Float64)), fld("active", optSch(event.Boolean)),
		fld("amount", sch(event.String)), fld("blob", sch(event.Bytes)), fld("keep", sch(event.Int32)))
	in := &record.Record{Topic: "t", ValueSchema: vs, Value: event.Row{int64(300), 2.75, nil, "12.5", []byte("hi"), int32(1)}}
	c := buildOne(t, "org.apache.kafka.connect.transforms.Cast$Value", map[string]string{"spec": "id:int8,score:int32,active:string,amount:float64,blob:string,missing:int8"})
	out := structOf("v", fld("id", sch(event.Int8)), fld("score", sch(event.Int32)), fld("active", optSch(event.String)),
		fld("amount", sch(event.Float64)), fld("blob", sch(event.String)), fld("keep", sch(event.Int32)))
	runCases(t, c, []smtCase{
		{name: "fields", in: in, want: &record.Record{Topic: "t", ValueSchema: out, Value: event.Row{int8(44), int32(2), nil, 12.5, "aGk=", int32(1)}}},
		{name: "tombstone", in: &record.Record{Topic: "t"}, want: &record.Record{Topic: "t"}},
		{name: "not a struct", in: &record.Record{ValueSchema: sch(event.Int32), Value: int32(1)}, err: "transform x: cast types needs a struct value to cast fields; this record's value is int32"},
		{name: "unparsable string", in: &record.Record{ValueSchema: vs, Value: event.Row{int64(1), 1.0, true, "abc", []byte{}, int32(1)}}, err: `transform x: cast field "amount": value (abc) was out of range for requested data type float64`},
	})
	sameSchemaTwice(t, c, valueSide, in, &record.Record{ValueSchema: vs, Value: event.Row{int64(1), 1.0, true, "1", []byte{}, int32(1)}})

	// Whole values, key side, and the Java conversions.
	ts := &event.Schema{Type: event.Int64, Name: event.ConnectTimestampName, Version: 1}
	dec := &event.Schema{Type: event.Bytes, Name: event.DecimalName, Params: map[string]string{event.DecimalScaleParam: "2"}}
	for _, tc := range []struct {
		spec string
		s    *event.Schema
		v    any
		want any
		out  *event.Schema
	}{
		{"string", sch(event.Float64), 1e7, "1.0E7", sch(event.String)},
		{"string", sch(event.Float64), 0.5, "0.5", sch(event.String)},
		{"string", sch(event.Float32), float32(3), "3.0", sch(event.String)},
		{"string", ts, march1, "2024-03-01T12:34:56.789Z", sch(event.String)},
		{"string", dec, event.Decimal{Unscaled: big.NewInt(-1234), Scale: 2}, "-12.34", sch(event.String)},
		{"int64", ts, march1, march1, ts}, // the type stays, so does the name
		{"int32", dec, event.Decimal{Unscaled: big.NewInt(-1299), Scale: 2}, int32(-12), sch(event.Int32)},
		{"int32", sch(event.Float64), math.Inf(1), int32(math.MaxInt32), sch(event.Int32)},
		{"int16", sch(event.Int32), int32(70000), int16(4464), sch(event.Int16)},
		{"boolean", sch(event.Int32), int32(2), true, sch(event.Boolean)},
		{"boolean", sch(event.String), "TRUE", true, sch(event.Boolean)},
		{"boolean", sch(event.String), "yes", false, sch(event.Boolean)},
		{"float32", sch(event.Boolean), true, float32(1), sch(event.Float32)},
		{"float64", sch(event.String), " 1.5d ", 1.5, sch(event.Float64)}, // as Double.parseDouble reads it
		{"string", &event.Schema{Type: event.Bytes, Name: event.DecimalName, Params: map[string]string{event.DecimalScaleParam: "7"}},
			event.Decimal{Unscaled: big.NewInt(1), Scale: 7}, "1E-7", sch(event.String)}, // BigDecimal.toString
		{"int64", &event.Schema{Type: event.Int32, Name: "shop.Id", Doc: "d", Params: map[string]string{"k": "v"}}, int32(5), int64(5),
			&event.Schema{Type: event.Int64, Name: "shop.Id", Doc: "d", Params: map[string]string{"k": "v"}}}, // a whole value keeps its basics
		{"int64", &event.Schema{Type: event.Int32, Name: event.ConnectDateName, Version: 1}, int32(3), int64(3), sch(event.Int64)}, // but not a Date's name
		{"int64", &event.Schema{Type: event.Int64, Optional: true, Doc: "d", Name: event.TimestampName}, int64(5), int64(5), &event.Schema{Type: event.Int64, Optional: true, Doc: "d", Name: event.TimestampName}},
	} {
		c := buildOne(t, "Cast$Key", map[string]string{"spec": tc.spec})
		runCases(t, c, []smtCase{{name: tc.spec + " of " + describe(tc.s), in: &record.Record{KeySchema: tc.s, Key: tc.v}, want: &record.Record{KeySchema: tc.out, Key: tc.want}}})
	}
	runCases(t, buildOne(t, "Cast$Key", map[string]string{"spec": "int8"}), []smtCase{
		{name: "string out of range", in: &record.Record{KeySchema: sch(event.String), Key: "300"}, err: "transform x: value (300) was out of range for requested data type int8"},
		{name: "struct", in: &record.Record{KeySchema: structOf("k"), Key: event.Row{}}, err: "transform x: cast transformation does not support casting from struct k; supported types are int8, int16, int32, int64, float32, float64, boolean, string, bytes"},
		{name: "bytes", in: &record.Record{KeySchema: sch(event.Bytes), Key: []byte{1}}, err: "transform x: cannot cast bytes to int8: bytes cast only to string"},
		{name: "null key", in: &record.Record{Topic: "t"}, want: &record.Record{Topic: "t"}},
	})
	named := structOf("v", fld("at", ts), fld("n", &event.Schema{Type: event.Int32, Doc: "d"}), fld("s", &event.Schema{Type: event.Struct, Optional: true}))
	runCases(t, buildOne(t, "Cast$Value", map[string]string{"spec": "at:int64,n:int32,s:string"}), []smtCase{
		{name: "a cast field gets a plain schema; a null struct casts", in: &record.Record{ValueSchema: named, Value: event.Row{march1, int32(1), nil}},
			want: &record.Record{ValueSchema: structOf("v", fld("at", sch(event.Int64)), fld("n", sch(event.Int32)), fld("s", optSch(event.String))), Value: event.Row{march1, int32(1), nil}}},
	})
	withDefault := &event.Schema{Type: event.Int32, Optional: true, Default: int32(5)}
	runCases(t, buildOne(t, "Cast$Value", map[string]string{"spec": "n:string"}), []smtCase{
		{name: "default cast too, null replaced by it", in: &record.Record{ValueSchema: structOf("v", fld("n", withDefault)), Value: event.Row{nil}},
			want: &record.Record{ValueSchema: structOf("v", fld("n", &event.Schema{Type: event.String, Optional: true, Default: "5"})), Value: event.Row{"5"}}},
	})
}

func TestCastBadSettings(t *testing.T) {
	for spec, want := range map[string]string{
		"":                 "transforms.x.spec: missing required configuration",
		"a:int128":         "transforms.x.spec: invalid type found in casting spec: int128",
		"a:bytes":          "transforms.x.spec: cast transformation does not support casting to bytes; supported types are int8, int16, int32, int64, float32, float64, boolean, string",
		"int8,a:int16":     "transforms.x.spec: cast transformations that specify a type to cast the entire value to may only specify a single cast in their spec",
		"a:int8:int16":     "transforms.x.spec: invalid cast mapping: a:int8:int16",
		"a:INT8,b:Float64": "",
	} {
		if got := buildProblems("Cast$Value", map[string]string{"spec": spec}); got != want {
			t.Errorf("%q:\n got %s\nwant %s", spec, got, want)
		}
	}
}
