package transforms

import (
	"testing"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

func TestFlatten(t *testing.T) {
	name := &event.Schema{Type: event.Struct, Name: "name", Optional: true, Fields: []event.Field{fld("first", sch(event.String)), fld("middle", optSch(event.String)), fld("last", sch(event.String))}}
	content := structOf("content", fld("id", sch(event.Int32)), fld("name", name))
	tags := &event.Schema{Type: event.Array, Elem: sch(event.String)}
	vdec := &event.Schema{Type: event.Struct, Name: event.VariableDecimalName, Fields: []event.Field{fld("scale", sch(event.Int32)), fld("value", sch(event.Bytes))}}
	vs := structOf("v", fld("content", content), fld("tags", tags), fld("amount", vdec))
	dec := event.Decimal{Unscaled: nil, Scale: 0}
	// The Kafka documentation's example: {"content": {"id": 42, "name": {"first": "David", "middle": null, "last": "Wong"}}},
	// and a VariableScaleDecimal, a struct of scale and unscaled bytes to Kafka Connect.
	in := &record.Record{Topic: "t", ValueSchema: vs, Value: event.Row{event.Row{int32(42), event.Row{"David", nil, "Wong"}}, []any{"x"}, dec}}
	flat := structOf("v", fld("content.id", sch(event.Int32)), fld("content.name.first", optSch(event.String)), fld("content.name.middle", optSch(event.String)),
		fld("content.name.last", optSch(event.String)), fld("tags", tags), fld("amount.scale", sch(event.Int32)), fld("amount.value", sch(event.Bytes)))
	c := buildOne(t, "org.apache.kafka.connect.transforms.Flatten$Value", nil)
	runCases(t, c, []smtCase{
		{name: "nested structs; optional below an optional struct; arrays kept", in: in, want: &record.Record{Topic: "t", ValueSchema: flat, Value: event.Row{int32(42), "David", nil, "Wong", []any{"x"}, int32(0), []byte{0}}}},
		{name: "null nested struct", in: &record.Record{ValueSchema: vs, Value: event.Row{event.Row{int32(1), nil}, nil, dec}}, want: &record.Record{ValueSchema: flat, Value: event.Row{int32(1), nil, nil, nil, nil, int32(0), []byte{0}}}},
		{name: "tombstone", in: &record.Record{Topic: "t"}, want: &record.Record{Topic: "t"}},
		{name: "null struct gets the flat schema", in: &record.Record{ValueSchema: vs}, want: &record.Record{ValueSchema: flat}},
		{name: "not a struct", in: &record.Record{ValueSchema: sch(event.String), Value: "s"}, err: "transform x: flattening needs a struct value; this record's value is string"},
		{name: "names collide", in: &record.Record{ValueSchema: structOf("w", fld("a.b", sch(event.Int32)), fld("a", structOf("a", fld("b", sch(event.Int32))))), Value: event.Row{int32(1), event.Row{int32(2)}}},
			err: `transform x: flattening the value schema w: cannot create field because of field name duplication "a.b"`},
	})
	sameSchemaTwice(t, c, valueSide, in, &record.Record{ValueSchema: vs, Value: event.Row{event.Row{int32(1), nil}, nil, dec}})

	ks := structOf("k", fld("pk", structOf("pk", fld("a", sch(event.Int32)), fld("b", &event.Schema{Type: event.String, Default: "d"}))))
	runCases(t, buildOne(t, "Flatten$Key", map[string]string{"delimiter": "_"}), []smtCase{
		{name: "key with a delimiter", in: &record.Record{KeySchema: ks, Key: event.Row{event.Row{int32(1), nil}}},
			want: &record.Record{KeySchema: structOf("k", fld("pk_a", sch(event.Int32)), fld("pk_b", ks.Fields[0].Schema.Fields[1].Schema)), Key: event.Row{int32(1), "d"}}},
	})
	if got := buildProblems("Flatten$Key", map[string]string{"delim": "_"}); got != "transforms.x.delim: unknown configuration key" {
		t.Error(got)
	}
}
