package transforms

import (
	"testing"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

func TestHoistField(t *testing.T) {
	// The Kafka documentation's example: the string "hello" becomes {"line": "hello"}.
	c := buildOne(t, "org.apache.kafka.connect.transforms.HoistField$Value", map[string]string{"field": "line"})
	s := sch(event.String)
	hoisted := &event.Schema{Type: event.Struct, Fields: []event.Field{fld("line", s)}}
	opt := optSch(event.String)
	runCases(t, c, []smtCase{
		{name: "value", in: &record.Record{Topic: "t", ValueSchema: s, Value: "hello"}, want: &record.Record{Topic: "t", ValueSchema: hoisted, Value: event.Row{"hello"}}},
		{name: "null with a schema", in: &record.Record{ValueSchema: opt}, want: &record.Record{ValueSchema: &event.Schema{Type: event.Struct, Fields: []event.Field{fld("line", opt)}}, Value: event.Row{nil}}},
		{name: "tombstone", in: &record.Record{Topic: "t"}, want: &record.Record{Topic: "t"}},
		{name: "no schema", in: &record.Record{Value: "x"}, err: "transform x: hoisting a field needs a value with a schema; this record's value has none"},
	})
	sameSchemaTwice(t, c, valueSide, &record.Record{ValueSchema: s, Value: "a"}, &record.Record{ValueSchema: s, Value: "b"})
	ks := structOf("k", fld("id", sch(event.Int32)))
	runCases(t, buildOne(t, "HoistField$Key", map[string]string{"field": "pk"}), []smtCase{
		{name: "key", in: &record.Record{KeySchema: ks, Key: event.Row{int32(1)}}, want: &record.Record{KeySchema: &event.Schema{Type: event.Struct, Fields: []event.Field{fld("pk", ks)}}, Key: event.Row{event.Row{int32(1)}}}},
	})
	if got := buildProblems("HoistField$Key", nil); got != "transforms.x.field: missing required configuration" {
		t.Error(got)
	}
}
