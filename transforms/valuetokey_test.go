package transforms

import (
	"testing"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

func TestValueToKey(t *testing.T) {
	vs := structOf("v", fld("userId", sch(event.Int64)), fld("city", sch(event.String)), fld("state", &event.Schema{Type: event.String, Optional: true, Default: "CA"}), fld("x", sch(event.Int32)))
	row := event.Row{int64(7), "Austin", nil, int32(1)}
	// The Kafka documentation's example: userId, city and state become the key.
	c := buildOne(t, "org.apache.kafka.connect.transforms.ValueToKey", map[string]string{"fields": "userId,city,state"})
	ks := &event.Schema{Type: event.Struct, Fields: []event.Field{vs.Fields[0], vs.Fields[1], vs.Fields[2]}}
	in := &record.Record{Topic: "t", KeySchema: sch(event.String), Key: "old", ValueSchema: vs, Value: row}
	runCases(t, c, []smtCase{
		{name: "fields to key, null replaced by default", in: in, want: &record.Record{Topic: "t", KeySchema: ks, Key: event.Row{int64(7), "Austin", "CA"}, ValueSchema: vs, Value: row}},
		{name: "tombstone keeps its key", in: &record.Record{Topic: "t", KeySchema: sch(event.String), Key: "old"}, want: &record.Record{Topic: "t", KeySchema: sch(event.String), Key: "old"}},
		{name: "missing field", in: &record.Record{ValueSchema: structOf("w", fld("userId", sch(event.Int64))), Value: event.Row{int64(1)}}, err: `transform x: copying fields from value to key: field "city" does not exist in the value schema w`},
		{name: "no schema", in: &record.Record{Value: map[string]any{}}, err: "transform x: copying fields from value to key needs a value with a schema; this record's value has none"},
	})
	sameSchemaTwice(t, c, keySide, in, &record.Record{ValueSchema: vs, Value: event.Row{int64(8), "Paris", "TX", int32(2)}})
	runCases(t, buildOne(t, "ValueToKey", map[string]string{"fields": "state", "replace.null.with.default": "false"}), []smtCase{
		{name: "null kept", in: in, want: &record.Record{Topic: "t", KeySchema: &event.Schema{Type: event.Struct, Fields: []event.Field{vs.Fields[2]}}, Key: event.Row{nil}, ValueSchema: vs, Value: row}},
	})
	if got := buildProblems("ValueToKey", nil); got != "transforms.x.fields: missing required configuration" {
		t.Error(got)
	}
	if got := buildProblems("ValueToKey", map[string]string{"fields": ","}); got != "transforms.x.fields: empty list" {
		t.Error(got)
	}
}
