package transforms

import (
	"math/big"
	"testing"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

func TestMaskField(t *testing.T) {
	dec := &event.Schema{Type: event.Bytes, Name: event.DecimalName, Params: map[string]string{event.DecimalScaleParam: "2"}}
	ts := &event.Schema{Type: event.Int64, Name: event.ConnectTimestampName, Version: 1}
	vs := structOf("v", fld("id", sch(event.Int32)), fld("name", sch(event.String)), fld("active", sch(event.Boolean)),
		fld("score", sch(event.Float64)), fld("tags", &event.Schema{Type: event.Array, Elem: sch(event.String)}),
		fld("price", dec), fld("at", ts), fld("note", optSch(event.String)), fld("blob", sch(event.Bytes)))
	row := event.Row{int32(42), "Ann", true, 9.5, []any{"a"}, event.Decimal{Unscaled: big.NewInt(1234), Scale: 2}, march1, nil, []byte{1}}
	in := &record.Record{Topic: "t", ValueSchema: vs, Value: row}

	// The Kafka documentation's example masks fields with their type's null value.
	nulls := buildOne(t, "org.apache.kafka.connect.transforms.MaskField$Value", map[string]string{"fields": "id,name,active,score,tags,price,at,note,missing"})
	runCases(t, nulls, []smtCase{
		{name: "null values of each type", in: in, want: &record.Record{Topic: "t", ValueSchema: vs,
			Value: event.Row{int32(0), "", false, 0.0, []any{}, event.Decimal{Unscaled: new(big.Int), Scale: 2}, int64(0), nil, []byte{1}}}},
		{name: "tombstone", in: &record.Record{Topic: "t"}, want: &record.Record{Topic: "t"}},
	})
	sameSchemaTwice(t, nulls, valueSide, in, &record.Record{ValueSchema: vs, Value: row})
	runCases(t, buildOne(t, "MaskField$Value", map[string]string{"fields": "blob"}), []smtCase{
		{name: "bytes cannot be masked", in: in, err: `transform x: mask field "blob": cannot mask value of type bytes`},
	})

	repl := buildOne(t, "MaskField$Value", map[string]string{"fields": "id,name,score,price", "replacement": "10"})
	runCases(t, repl, []smtCase{
		{name: "replacement converted to each type", in: in, want: &record.Record{Topic: "t", ValueSchema: vs,
			Value: event.Row{int32(10), "10", true, 10.0, []any{"a"}, event.Decimal{Unscaled: big.NewInt(1000), Scale: 2}, march1, nil, []byte{1}}}},
	})
	for fields, want := range map[string]string{
		"active": `transform x: mask field "active": cannot mask value of type boolean with custom replacement`,
		"at":     `transform x: mask field "at": cannot mask value of type int64 org.apache.kafka.connect.data.Timestamp with custom replacement`,
	} {
		runCases(t, buildOne(t, "MaskField$Value", map[string]string{"fields": fields, "replacement": "10"}), []smtCase{{name: fields, in: in, err: want}})
	}
	small := structOf("s", fld("n", sch(event.Int8)), fld("m", sch(event.Int64)))
	runCases(t, buildOne(t, "MaskField$Value", map[string]string{"fields": "n,m", "replacement": " 300.9 "}), []smtCase{
		{name: "replacement narrowed as Java narrows", in: &record.Record{ValueSchema: small, Value: event.Row{int8(1), int64(2)}},
			want: &record.Record{ValueSchema: small, Value: event.Row{int8(44), int64(300)}}},
	})
	runCases(t, buildOne(t, "MaskField$Value", map[string]string{"fields": "id", "replacement": "****"}), []smtCase{
		{name: "replacement not a number", in: in, err: `transform x: mask field "id": unable to convert **** to int32`},
	})

	ks := structOf("k", fld("ssn", sch(event.String)), fld("id", sch(event.Int64)))
	runCases(t, buildOne(t, "MaskField$Key", map[string]string{"fields": "ssn", "replacement": "***-**-****"}), []smtCase{
		{name: "key", in: &record.Record{KeySchema: ks, Key: event.Row{"123-45-6789", int64(1)}}, want: &record.Record{KeySchema: ks, Key: event.Row{"***-**-****", int64(1)}}},
		{name: "null key", in: &record.Record{Topic: "t"}, want: &record.Record{Topic: "t"}},
	})
}

func TestMaskFieldBadSettings(t *testing.T) {
	for _, tc := range []struct {
		keys map[string]string
		want string
	}{
		{map[string]string{}, "transforms.x.fields: missing required configuration"},
		{map[string]string{"fields": " , "}, "transforms.x.fields: empty list"},
		{map[string]string{"fields": "a", "replacement": ""}, "transforms.x.replacement: string must be non-empty"},
	} {
		if got := buildProblems("MaskField$Value", tc.keys); got != tc.want {
			t.Errorf("%v:\n got %s\nwant %s", tc.keys, got, tc.want)
		}
	}
}
