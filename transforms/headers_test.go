package transforms

import (
	"testing"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

func TestInsertHeader(t *testing.T) {
	// The Kafka documentation's example.
	c := buildOne(t, "org.apache.kafka.connect.transforms.InsertHeader", map[string]string{"header": "MessageSource", "value.literal": "Kafka Connect Framework"})
	old := record.Header{Key: "h", Schema: sch(event.String), Value: "v"}
	runCases(t, c, []smtCase{
		{name: "string literal", in: &record.Record{Topic: "t", Headers: []record.Header{old}}, want: &record.Record{Topic: "t", Headers: []record.Header{old, {Key: "MessageSource", Schema: sch(event.String), Value: "Kafka Connect Framework"}}}},
	})
	for lit, want := range map[string]record.Header{
		"42":         {Key: "n", Schema: sch(event.Int8), Value: int8(42)},
		"-300":       {Key: "n", Schema: sch(event.Int16), Value: int16(-300)},
		"1e3":        {Key: "n", Schema: sch(event.Int16), Value: int16(1000)},
		"1.5":        {Key: "n", Schema: sch(event.Float32), Value: float32(1.5)},
		"true":       {Key: "n", Schema: sch(event.Boolean), Value: true},
		"TRUE":       {Key: "n", Schema: sch(event.String), Value: "TRUE"},
		"null":       {Key: "n"},
		"12:30":      {Key: "n", Schema: sch(event.Int8), Value: int8(12)}, // Kafka Connect reads the first token
		"2024-01-15": {Key: "n", Schema: &event.Schema{Type: event.Int32, Name: event.ConnectDateName, Version: 1}, Value: int32(19737)},
		"":           {Key: "n", Schema: sch(event.String), Value: ""},
		"1<<40":      {Key: "n", Schema: sch(event.String), Value: "1<<40"},
	} {
		runCases(t, buildOne(t, "InsertHeader", map[string]string{"header": "n", "value.literal": lit}), []smtCase{
			{name: "literal " + lit, in: &record.Record{}, want: &record.Record{Headers: []record.Header{want}}},
		})
	}
	if got := buildProblems("InsertHeader", map[string]string{"header": "h"}); got != "transforms.x.value.literal: missing required configuration" {
		t.Error(got)
	}
}

func TestDropHeaders(t *testing.T) {
	h := func(k string) record.Header { return record.Header{Key: k, Schema: sch(event.String), Value: k} }
	// The Kafka documentation's example.
	c := buildOne(t, "org.apache.kafka.connect.transforms.DropHeaders", map[string]string{"headers": "source,format"})
	runCases(t, c, []smtCase{
		{name: "every header of the names", in: &record.Record{Headers: []record.Header{h("source"), h("keep"), h("format"), h("source")}}, want: &record.Record{Headers: []record.Header{h("keep")}}},
		{name: "none", in: &record.Record{Topic: "t"}, want: &record.Record{Topic: "t"}},
	})
	if got := buildProblems("DropHeaders", nil); got != "transforms.x.headers: missing required configuration" {
		t.Error(got)
	}
}

func TestHeaderFrom(t *testing.T) {
	vs := structOf("v", fld("id", sch(event.Int32)), fld("ts", sch(event.Int64)), fld("name", &event.Schema{Type: event.String, Optional: true, Default: "anon"}))
	row := event.Row{int32(1), int64(99), nil}
	in := &record.Record{Topic: "t", ValueSchema: vs, Value: row}
	// The Kafka documentation's example: move id and ts into headers.
	move := buildOne(t, "org.apache.kafka.connect.transforms.HeaderFrom$Value", map[string]string{"fields": "id,ts", "headers": "record_id,event_timestamp", "operation": "move"})
	runCases(t, move, []smtCase{
		{name: "move", in: in, want: &record.Record{Topic: "t", ValueSchema: structOf("v", vs.Fields[2]), Value: event.Row{"anon"},
			Headers: []record.Header{{Key: "record_id", Schema: vs.Fields[0].Schema, Value: int32(1)}, {Key: "event_timestamp", Schema: vs.Fields[1].Schema, Value: int64(99)}}}},
		{name: "tombstone", in: &record.Record{Topic: "t"}, want: &record.Record{Topic: "t"}},
		{name: "missing field", in: &record.Record{ValueSchema: structOf("w", fld("id", sch(event.Int32))), Value: event.Row{int32(1)}}, err: `transform x: header move: field "ts" does not exist in the value schema w`},
	})
	sameSchemaTwice(t, move, valueSide, in, &record.Record{ValueSchema: vs, Value: event.Row{int32(2), int64(3), "x"}})
	copyKey := buildOne(t, "HeaderFrom$Key", map[string]string{"fields": "name", "headers": "who", "operation": "copy", "replace.null.with.default": "false"})
	runCases(t, copyKey, []smtCase{
		{name: "copy from the key", in: &record.Record{KeySchema: vs, Key: row}, want: &record.Record{KeySchema: vs, Key: row, Headers: []record.Header{{Key: "who", Schema: vs.Fields[2].Schema}}}},
	})
	for _, tc := range []struct {
		keys map[string]string
		want string
	}{
		{map[string]string{"fields": "a,b", "headers": "x", "operation": "copy"}, "transforms.x.headers: 'fields' config must have the same number of elements as 'headers' config"},
		{map[string]string{"fields": "a", "headers": "x", "operation": "Move"}, `transforms.x.operation: invalid value "Move": must be one of move, copy`},
		{map[string]string{"fields": "a", "headers": " "}, "transforms.x.headers: missing required configuration; transforms.x.operation: missing required configuration"},
	} {
		if got := buildProblems("HeaderFrom$Value", tc.keys); got != tc.want {
			t.Errorf("%v:\n got %s\nwant %s", tc.keys, got, tc.want)
		}
	}
}

// Every Kafka Connect built-in is known by its short name and class name.
func TestKafkaConnectNamesRegistered(t *testing.T) {
	for _, n := range []string{"TimestampRouter", "ValueToKey", "InsertHeader", "DropHeaders"} {
		for _, name := range []string{n, kafkaTransforms + n} {
			if _, ok := lookupType(name); !ok {
				t.Errorf("%s is not registered", name)
			}
		}
	}
	for _, n := range []string{"InsertField", "ReplaceField", "MaskField", "Cast", "TimestampConverter", "ExtractField", "Flatten", "HoistField", "HeaderFrom"} {
		for _, v := range []string{"$Key", "$Value"} {
			for _, name := range []string{n + v, kafkaTransforms + n + v} {
				if _, ok := lookupType(name); !ok {
					t.Errorf("%s is not registered", name)
				}
			}
		}
	}
}
