package transforms

import (
	"testing"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

func TestReplaceField(t *testing.T) {
	vs := structOf("v", fld("foo", sch(event.String)), fld("bar", sch(event.Int32)), fld("c2", sch(event.Boolean)), fld("abc", optSch(event.Int64)))
	in := &record.Record{Topic: "t", ValueSchema: vs, Value: event.Row{"f", int32(2), true, nil}}
	// The Kafka documentation's example: drop c2, rename foo to c1 and bar to c2.
	doc := buildOne(t, "org.apache.kafka.connect.transforms.ReplaceField$Value", map[string]string{"exclude": "c2", "renames": "foo:c1,bar:c2"})
	runCases(t, doc, []smtCase{
		{name: "exclude and rename", in: in, want: &record.Record{Topic: "t", ValueSchema: structOf("v", fld("c1", sch(event.String)), fld("c2", sch(event.Int32)), fld("abc", optSch(event.Int64))), Value: event.Row{"f", int32(2), nil}}},
		{name: "tombstone", in: &record.Record{Topic: "t"}, want: &record.Record{Topic: "t"}},
		{name: "no schema", in: &record.Record{Topic: "t", Value: "x"}, err: "transform x: field replacement needs a value with a schema; this record's value has none"},
	})
	sameSchemaTwice(t, doc, valueSide, in, &record.Record{ValueSchema: vs, Value: event.Row{"g", int32(3), false, int64(1)}})

	runCases(t, buildOne(t, "ReplaceField$Value", map[string]string{"include": "abc,foo,missing", "exclude": "foo"}), []smtCase{
		{name: "exclude wins, missing ignored", in: in, want: &record.Record{Topic: "t", ValueSchema: structOf("v", fld("abc", optSch(event.Int64))), Value: event.Row{nil}}},
	})
	runCases(t, buildOne(t, "ReplaceField$Value", map[string]string{"whitelist": "foo", "renames": "foo:bar"}), []smtCase{
		{name: "whitelist is include", in: in, want: &record.Record{Topic: "t", ValueSchema: structOf("v", fld("bar", sch(event.String))), Value: event.Row{"f"}}},
	})
	runCases(t, buildOne(t, "ReplaceField$Value", map[string]string{"blacklist": "c2,abc", "renames": "foo:bar"}), []smtCase{
		{name: "blacklist is exclude; a rename onto a kept name", in: in, err: `transform x: field replacement in the value schema v: cannot create field because of field name duplication "bar"`},
	})
	ks := structOf("k", fld("id", sch(event.Int32)), fld("tenant", sch(event.String)))
	key := buildOne(t, "ReplaceField$Key", map[string]string{"exclude": "tenant", "renames": "id:key_id"})
	runCases(t, key, []smtCase{
		{name: "key", in: &record.Record{KeySchema: ks, Key: event.Row{int32(1), "a"}, ValueSchema: vs, Value: in.Value},
			want: &record.Record{KeySchema: structOf("k", fld("key_id", sch(event.Int32))), Key: event.Row{int32(1)}, ValueSchema: vs, Value: in.Value}},
	})
	sameSchemaTwice(t, key, keySide, &record.Record{KeySchema: ks, Key: event.Row{int32(1), "a"}}, &record.Record{KeySchema: ks, Key: event.Row{int32(2), "b"}})
}

func TestReplaceFieldBadSettings(t *testing.T) {
	for _, tc := range []struct {
		keys map[string]string
		want string
	}{
		{map[string]string{"renames": "a:b,c"}, "transforms.x.renames: invalid rename mapping: c"},
		{map[string]string{"renames": "a:b:c"}, "transforms.x.renames: invalid rename mapping: a:b:c"},
		{map[string]string{"renames": "a:"}, "transforms.x.renames: invalid rename mapping: a:"},
		{map[string]string{"include": "a", "whitelist": "b"}, "transforms.x.whitelist: whitelist is the deprecated name of include: set only include"},
		{map[string]string{"exclude": "a", "blacklist": "b"}, "transforms.x.blacklist: blacklist is the deprecated name of exclude: set only exclude"},
		{map[string]string{"fields": "a"}, "transforms.x.fields: unknown configuration key"},
	} {
		if got := buildProblems("ReplaceField$Key", tc.keys); got != tc.want {
			t.Errorf("%v:\n got %s\nwant %s", tc.keys, got, tc.want)
		}
	}
}
