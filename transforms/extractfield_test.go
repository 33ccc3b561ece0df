package transforms

import (
	"reflect"
	"testing"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

func TestExtractField(t *testing.T) {
	addr := &event.Schema{Type: event.Struct, Name: "addr", Optional: true, Fields: []event.Field{fld("city", sch(event.String)), fld("zip.code", optSch(event.String))}}
	vs := structOf("v", fld("id", sch(event.Int32)), fld("cost", sch(event.Int32)), fld("address", addr), fld("a.b", sch(event.String)))
	in := &record.Record{Topic: "t", ValueSchema: vs, Value: event.Row{int32(42), int32(4000), event.Row{"Oslo", "0150"}, "dotted"}}
	// The Kafka documentation's example: {"id": 42, "cost": 4000} with field id gives 42.
	c := buildOne(t, "org.apache.kafka.connect.transforms.ExtractField$Value", map[string]string{"field": "id"})
	runCases(t, c, []smtCase{
		{name: "field", in: in, want: &record.Record{Topic: "t", ValueSchema: vs.Fields[0].Schema, Value: int32(42)}},
		{name: "tombstone", in: &record.Record{Topic: "t"}, want: &record.Record{Topic: "t"}},
		{name: "null struct", in: &record.Record{ValueSchema: vs}, want: &record.Record{ValueSchema: vs.Fields[0].Schema}},
		{name: "unknown field", in: &record.Record{ValueSchema: structOf("w", fld("x", sch(event.Int32))), Value: event.Row{int32(1)}}, err: "transform x: unknown field: id"},
		{name: "not a struct", in: &record.Record{ValueSchema: sch(event.Int32), Value: int32(1)}, err: "transform x: field extraction of id: the record's value is int32, not a struct"},
	})
	sameSchemaTwice(t, c, valueSide, in, &record.Record{ValueSchema: vs, Value: event.Row{int32(1), int32(2), nil, ""}})
	runCases(t, buildOne(t, "ExtractField$Value", map[string]string{"field": "a.b"}), []smtCase{
		{name: "V1 takes dots literally", in: in, want: &record.Record{Topic: "t", ValueSchema: vs.Fields[3].Schema, Value: "dotted"}},
	})
	v2 := func(field string) *Chain {
		return buildOne(t, "ExtractField$Value", map[string]string{"field": field, "field.syntax.version": "v2"})
	}
	runCases(t, v2("address.city"), []smtCase{
		{name: "V2 nested", in: in, want: &record.Record{Topic: "t", ValueSchema: addr.Fields[0].Schema, Value: "Oslo"}},
		{name: "V2 null on the path", in: &record.Record{ValueSchema: vs, Value: event.Row{int32(1), int32(2), nil, ""}}, want: &record.Record{ValueSchema: addr.Fields[0].Schema}},
		{name: "V2 through a non-struct", in: &record.Record{ValueSchema: structOf("w", fld("address", sch(event.String))), Value: event.Row{"x"}}, err: "transform x: field extraction of address.city: field address is string, not a struct"},
	})
	runCases(t, v2("address.`zip.code`"), []smtCase{{name: "V2 backticks", in: in, want: &record.Record{Topic: "t", ValueSchema: addr.Fields[1].Schema, Value: "0150"}}})
	runCases(t, v2("`a.b`"), []smtCase{{name: "V2 backticks at the root", in: in, want: &record.Record{Topic: "t", ValueSchema: vs.Fields[3].Schema, Value: "dotted"}}})

	ks := structOf("k", fld("id", sch(event.Int64)))
	key := buildOne(t, "ExtractField$Key", map[string]string{"field": "id"})
	runCases(t, key, []smtCase{
		{name: "key", in: &record.Record{KeySchema: ks, Key: event.Row{int64(9)}, ValueSchema: vs, Value: in.Value}, want: &record.Record{KeySchema: ks.Fields[0].Schema, Key: int64(9), ValueSchema: vs, Value: in.Value}},
	})
}

func TestFieldPathV2(t *testing.T) {
	for path, want := range map[string][]string{
		"a":             {"a"},
		"a.b.c":         {"a", "b", "c"},
		"`a.b`.c":       {"a.b", "c"},
		"a.`b.c`":       {"a", "b.c"},
		"`a\\`.b`.c":    {"a`.b", "c"},
		"a.":            {"a", ""},
		"`a`b`.c":       {"a`b", "c"},
		"a..b":          {"a", "", "b"},
		"`foo.bar`.baz": {"foo.bar", "baz"},
	} {
		if got, err := parseFieldPath(path); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %q (%v), want %q", path, got, err, want)
		}
	}
	if got := buildProblems("ExtractField$Value", map[string]string{"field": "`a.b", "field.syntax.version": "V2"}); got != "transforms.x.field: incomplete backtick pair in path: [`a.b], consider adding a backslash before backtick at position 0 to escape it" {
		t.Error(got)
	}
	if got := buildProblems("ExtractField$Value", map[string]string{"field": "a", "field.syntax.version": "V3"}); got != `transforms.x.field.syntax.version: invalid value "V3": must be one of V1, V2` {
		t.Error(got)
	}
	if got := buildProblems("ExtractField$Key", nil); got != "transforms.x.field: missing required configuration" {
		t.Error(got)
	}
}
