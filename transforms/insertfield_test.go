package transforms

import (
	"testing"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

func TestInsertField(t *testing.T) {
	vs := structOf("line", fld("line", sch(event.String)))
	in := &record.Record{Topic: "connect-test", ValueSchema: vs, Value: event.Row{"hello"}, Timestamp: march1}
	// The Kafka quickstart's example: a static field naming the source.
	quickstart := buildOne(t, "org.apache.kafka.connect.transforms.InsertField$Value", map[string]string{"static.field": "data_source", "static.value": "test-file-source"})
	runCases(t, quickstart, []smtCase{
		{name: "static field", in: in, want: &record.Record{Topic: "connect-test", Timestamp: march1,
			ValueSchema: structOf("line", fld("line", sch(event.String)), fld("data_source", optSch(event.String))), Value: event.Row{"hello", "test-file-source"}}},
		{name: "tombstone", in: &record.Record{Topic: "connect-test", Key: "k", KeySchema: sch(event.String)}, want: &record.Record{Topic: "connect-test", Key: "k", KeySchema: sch(event.String)}},
		{name: "no schema", in: &record.Record{Topic: "t", Value: map[string]any{"a": 1}}, err: "transform x: field insertion needs a value with a schema; this record's value has none"},
		{name: "not a struct", in: &record.Record{Topic: "t", ValueSchema: sch(event.String), Value: "s"}, err: "transform x: field insertion needs a struct value; this record's value is string"},
		{name: "an optional struct comes out required, as copySchemaBasics builds it", in: &record.Record{Topic: "t", ValueSchema: &event.Schema{Type: event.Struct, Name: "line", Optional: true, Fields: vs.Fields}, Value: event.Row{"x"}},
			want: &record.Record{Topic: "t", ValueSchema: structOf("line", fld("line", sch(event.String)), fld("data_source", optSch(event.String))), Value: event.Row{"x", "test-file-source"}}},
	})
	sameSchemaTwice(t, quickstart, valueSide, in, &record.Record{Topic: "other", ValueSchema: vs, Value: event.Row{"bye"}})

	ts := &event.Schema{Type: event.Int64, Name: event.ConnectTimestampName, Version: 1}
	optTS := &event.Schema{Type: event.Int64, Name: event.ConnectTimestampName, Version: 1, Optional: true}
	all := buildOne(t, "InsertField$Value", map[string]string{"topic.field": "topic!", "partition.field": "part?", "timestamp.field": "ts", "static.field": "s!", "static.value": ""})
	outSchema := structOf("line", fld("line", sch(event.String)), fld("topic", sch(event.String)), fld("part", optSch(event.Int32)), fld("ts", optTS), fld("s", sch(event.String)))
	runCases(t, all, []smtCase{
		{name: "every field, ! and ?", in: in, want: &record.Record{Topic: "connect-test", Timestamp: march1, ValueSchema: outSchema, Value: event.Row{"hello", "connect-test", nil, march1, ""}}},
		{name: "no timestamp gives null", in: &record.Record{Topic: "t", ValueSchema: vs, Value: event.Row{"x"}}, want: &record.Record{Topic: "t", ValueSchema: outSchema, Value: event.Row{"x", "t", nil, nil, ""}}},
	})
	req := buildOne(t, "InsertField$Value", map[string]string{"timestamp.field": "ts!"})
	runCases(t, req, []smtCase{
		{name: "required timestamp", in: in, want: &record.Record{Topic: "connect-test", Timestamp: march1, ValueSchema: structOf("line", fld("line", sch(event.String)), fld("ts", ts)), Value: event.Row{"hello", march1}}},
		{name: "required timestamp missing", in: &record.Record{Topic: "t", ValueSchema: vs, Value: event.Row{"x"}}, err: `transform x: field insertion: the record has no timestamp for the required field "ts"`},
		{name: "field exists", in: &record.Record{Topic: "t", ValueSchema: structOf("v", fld("ts", sch(event.Int64))), Value: event.Row{int64(1)}}, err: `transform x: field insertion into the value schema v: cannot create field because of field name duplication "ts"`},
	})

	// Key variant, and replace.null.with.default.
	ks := structOf("k", fld("id", &event.Schema{Type: event.Int32, Optional: true, Default: int32(7)}))
	key := buildOne(t, "InsertField$Key", map[string]string{"topic.field": "t"})
	runCases(t, key, []smtCase{
		{name: "key", in: &record.Record{Topic: "a", KeySchema: ks, Key: event.Row{nil}, ValueSchema: vs, Value: event.Row{"v"}},
			want: &record.Record{Topic: "a", KeySchema: structOf("k", ks.Fields[0], fld("t", optSch(event.String))), Key: event.Row{int32(7), "a"}, ValueSchema: vs, Value: event.Row{"v"}}},
		{name: "null key", in: &record.Record{Topic: "a", ValueSchema: vs, Value: event.Row{"v"}}, want: &record.Record{Topic: "a", ValueSchema: vs, Value: event.Row{"v"}}},
	})
	keepNull := buildOne(t, "InsertField$Key", map[string]string{"topic.field": "t", "replace.null.with.default": "false"})
	runCases(t, keepNull, []smtCase{
		{name: "null kept", in: &record.Record{Topic: "a", KeySchema: ks, Key: event.Row{nil}},
			want: &record.Record{Topic: "a", KeySchema: structOf("k", ks.Fields[0], fld("t", optSch(event.String))), Key: event.Row{nil, "a"}}},
	})
	sameSchemaTwice(t, key, keySide, &record.Record{KeySchema: ks, Key: event.Row{int32(1)}}, &record.Record{KeySchema: ks, Key: event.Row{int32(2)}})
}

func TestInsertFieldBadSettings(t *testing.T) {
	for _, tc := range []struct {
		keys map[string]string
		want string
	}{
		{map[string]string{}, "transforms.x: no field insertion configured: set topic.field, partition.field, timestamp.field or static.field"},
		{map[string]string{"static.field": "s"}, `transforms.x.static.value: no value specified for static field "s"`},
		{map[string]string{"offset.field": "o"}, "transforms.x.offset.field: records have an offset only once a sink reads them; sluice's records carry none"},
		{map[string]string{"partition.field": "p!"}, "transforms.x.partition.field: sluice's records have no partition before they are produced, so the field cannot be required: drop the '!'"},
		{map[string]string{"topic.field": "t", "replace.null.with.default": "yes"}, `transforms.x.replace.null.with.default: invalid value "yes": not a boolean (true or false)`},
	} {
		if got := buildProblems("InsertField$Value", tc.keys); got != tc.want {
			t.Errorf("%v:\n got %s\nwant %s", tc.keys, got, tc.want)
		}
	}
}
