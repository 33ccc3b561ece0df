package transforms

import (
	"reflect"
	"testing"

	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

// outboxTable is the outbox table of Debezium's documentation.
var outboxTable = &event.Table{
	ID: event.TableID{Database: "orders", Schema: "public", Table: "outbox"},
	Columns: []event.Column{
		{Name: "id", Schema: &event.Schema{Type: event.String, Name: event.UUIDName, Version: 1}},
		{Name: "aggregatetype", Schema: &event.Schema{Type: event.String}},
		{Name: "aggregateid", Schema: &event.Schema{Type: event.String}},
		{Name: "type", Schema: &event.Schema{Type: event.String}},
		{Name: "payload", Schema: &event.Schema{Type: event.String, Name: event.JSONName, Version: 1, Optional: true}},
		{Name: "created_at", Schema: &event.Schema{Type: event.Int64, Name: event.MicroTimestampName, Version: 1, Optional: true}},
		{Name: "version", Schema: &event.Schema{Type: event.Int32, Optional: true}},
	},
	Key: []int{0},
}

var outboxSchemas = mustSchemas(outboxTable)

func outboxRow(id, aggregateType, aggregateID, typ string, payload any) event.Row {
	return event.Row{id, aggregateType, aggregateID, typ, payload, int64(1700000000123456), int32(3)}
}

var orderCreated = outboxRow("406c07f3-26f0-4eea-a50c-109940064b8f", "Order", "1", "OrderCreated", `{"id": 1, "lineItems": [{"item": "Debezium in Action"}]}`)

func TestOutboxRoutesCreates(t *testing.T) {
	chain := build(t, "io.debezium.transforms.outbox.EventRouter")
	for _, op := range []event.Op{event.OpCreate, event.OpRead} {
		in := change(t, outboxSchemas, op, nil, orderCreated)
		in.Headers = []record.Header{{Key: "traceparent", Value: "00-abc"}}
		out, err := chain.Apply(in)
		if err != nil {
			t.Fatal(err)
		}
		want := &record.Record{
			Topic:     "outbox.event.Order",
			KeySchema: outboxTable.Columns[2].Schema, Key: "1",
			ValueSchema: outboxTable.Columns[4].Schema, Value: orderCreated[4],
			Headers:   []record.Header{{Key: "traceparent", Value: "00-abc"}, {Key: "id", Schema: outboxTable.Columns[0].Schema, Value: orderCreated[0]}},
			Timestamp: 1559033904863, // the event's ts_ms
		}
		if !reflect.DeepEqual(out, want) {
			t.Errorf("%s: got\n%+v\nwant\n%+v", op, out, want)
		}
	}
}

func TestOutboxSkipsAndDrops(t *testing.T) {
	chain := build(t, "EventRouter")
	del := change(t, outboxSchemas, event.OpDelete, orderCreated, nil)
	heartbeat := &record.Record{Topic: "hb", ValueSchema: &event.Schema{Type: event.Struct, Name: "io.debezium.connector.common.Heartbeat"}, Value: event.Row{}}
	for what, in := range map[string]*record.Record{
		"update":    change(t, outboxSchemas, event.OpUpdate, orderCreated, orderCreated),
		"delete":    del,
		"tombstone": tombstone(del),
		"truncate":  change(t, outboxSchemas, event.OpTruncate, nil, nil),
	} {
		if out, err := chain.Apply(in); out != nil || err != nil {
			t.Errorf("%s: %+v (%v), want it dropped", what, out, err)
		}
	}
	if out, err := chain.Apply(heartbeat); out != heartbeat || err != nil {
		t.Errorf("a record that is not an envelope became %+v (%v)", out, err)
	}
	fatal := build(t, "EventRouter", "table.op.invalid.behavior", "fatal")
	_, err := fatal.Apply(change(t, outboxSchemas, event.OpUpdate, orderCreated, orderCreated))
	if err == nil || err.Error() != "transform t: unexpected update of the outbox table on dbserver1.public.outbox (key [406c07f3-26f0-4eea-a50c-109940064b8f]); table.op.invalid.behavior=fatal" {
		t.Errorf("fatal: %v", err)
	}
}

func TestOutboxPlacementsAndOptions(t *testing.T) {
	cases := []struct {
		name        string
		keys        []string
		row         event.Row
		topic       string
		value       any
		valueFields []string
		valueName   string
		version     int
		headers     map[string]any
		timestamp   int64
	}{
		{"type in a header, aliased", []string{"table.fields.additional.placement", "type:header:eventType"}, orderCreated,
			"outbox.event.Order", orderCreated[4], nil, event.JSONName, 1, map[string]any{"id": orderCreated[0], "eventType": "OrderCreated"}, 1559033904863},
		{"envelope placement makes a struct", []string{"table.fields.additional.placement", "type:envelope:eventType,aggregateid:envelope"}, orderCreated,
			"outbox.event.Order", event.Row{orderCreated[4], "OrderCreated", "1"}, []string{"payload", "eventType", "aggregateid"}, "dbserver1.public.outbox.Order.Value", 0,
			map[string]any{"id": orderCreated[0]}, 1559033904863},
		{"schema version", []string{"table.fields.additional.placement", "type:envelope", "table.field.event.schema.version", "version"}, orderCreated,
			"outbox.event.Order", event.Row{orderCreated[4], "OrderCreated"}, []string{"payload", "type"}, "dbserver1.public.outbox.Order.Value", 3,
			map[string]any{"id": orderCreated[0]}, 1559033904863},
		{"custom columns, regex and timestamp", []string{"table.field.event.key", "type", "route.by.field", "type", "route.topic.regex", "(?<kind>[A-Z][a-z]+)(Created|Cancelled)",
			"route.topic.replacement", "events.${kind}.$2", "table.field.event.timestamp", "created_at"}, orderCreated,
			"events.Order.Created", orderCreated[4], nil, event.JSONName, 1, map[string]any{"id": orderCreated[0]}, 1700000000123},
		{"a null payload stays a null value", nil, outboxRow("e1", "Order", "1", "OrderDeleted", nil),
			"outbox.event.Order", nil, nil, event.JSONName, 1, map[string]any{"id": "e1"}, 1559033904863},
		{"a blank payload becomes a tombstone", []string{"route.tombstone.on.empty.payload", "true"}, outboxRow("e2", "Order", "1", "OrderDeleted", "  "),
			"outbox.event.Order", nil, nil, "", 0, map[string]any{"id": "e2"}, 1559033904863},
		{"a missing placed column ignored", []string{"table.fields.additional.placement", "tenant:header", "table.field.additional.missing", "ignore"}, orderCreated,
			"outbox.event.Order", orderCreated[4], nil, event.JSONName, 1, map[string]any{"id": orderCreated[0]}, 1559033904863},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			chain := build(t, "EventRouter", tc.keys...)
			out, err := chain.Apply(change(t, outboxSchemas, event.OpCreate, nil, tc.row))
			if err != nil {
				t.Fatal(err)
			}
			var name string
			var version int
			if out.ValueSchema != nil {
				name, version = out.ValueSchema.Name, out.ValueSchema.Version
			}
			if out.Topic != tc.topic || !reflect.DeepEqual(out.Value, tc.value) || !reflect.DeepEqual(fieldNames(out.ValueSchema), tc.valueFields) ||
				name != tc.valueName || version != tc.version || !reflect.DeepEqual(headerMap(out), tc.headers) || out.Timestamp != tc.timestamp {
				t.Errorf("got %s %v %v %s v%d %v ts %d\nwant %s %v %v %s v%d %v ts %d", out.Topic, out.Value, fieldNames(out.ValueSchema), name, version, headerMap(out), out.Timestamp,
					tc.topic, tc.value, tc.valueFields, tc.valueName, tc.version, tc.headers, tc.timestamp)
			}
			again, _ := chain.Apply(change(t, outboxSchemas, event.OpCreate, nil, tc.row))
			if again.ValueSchema != out.ValueSchema {
				t.Error("the value schema was derived twice")
			}
		})
	}
}

func TestOutboxProblems(t *testing.T) {
	_, ps := Build(map[string]string{"transforms": "outbox", "transforms.outbox.type": "EventRouter",
		"transforms.outbox.table.expand.json.payload":         "true",
		"transforms.outbox.table.fields.additional.placement": "type:partition",
		"transforms.outbox.route.topic.regex":                 "(",
	})
	want := conf.Problems{
		{Key: "transforms.outbox.route.topic.regex", Message: "invalid regular expression \"(\": error parsing regexp: missing closing ): `(`"},
		{Key: "transforms.outbox.table.expand.json.payload", Message: "not supported: the payload is sent as the column holds it (a JSON string for json, jsonb or text); leave it false"},
		{Key: "transforms.outbox.table.fields.additional.placement", Message: `invalid placement "type:partition": sluice's records carry no partition; use header or envelope`},
	}
	if !reflect.DeepEqual(ps, want) {
		t.Errorf("problems\n%v\nwant\n%v", ps, want)
	}
	for keys, want := range map[[2]string]string{
		{"table.field.event.payload", "body"}:             `transform t: table.field.event.payload: the outbox table dbserver1.public.outbox.Value has no column "body"`,
		{"table.fields.additional.placement", "x:header"}: `transform t: table.fields.additional.placement: the outbox table dbserver1.public.outbox.Value has no column "x"`,
		{"table.field.event.timestamp", "type"}:           `transform t: table.field.event.timestamp: column "type" is a string, not a timestamp (io.debezium.time.Timestamp, MicroTimestamp or NanoTimestamp)`,
	} {
		_, err := build(t, "EventRouter", keys[0], keys[1]).Apply(change(t, outboxSchemas, event.OpCreate, nil, orderCreated))
		if err == nil || err.Error() != want {
			t.Errorf("%s=%s: %v, want %s", keys[0], keys[1], err, want)
		}
	}
}

// Java replacements name groups as ${name}, as the outbox router's default does.
func TestJavaNamedGroupReplacement(t *testing.T) {
	if got := javaReplacement("outbox.event.${routedByValue}"); got != "outbox.event.${routedByValue}" {
		t.Errorf("got %q", got)
	}
	chain := build(t, "RegexRouter", "regex", `(?<db>[^.]+)\.(?<table>.+)`, "replacement", "${table}-from-${db}")
	out, _ := chain.Apply(&record.Record{Topic: "shop.orders"})
	if out.Topic != "orders-from-shop" {
		t.Errorf("routed to %q", out.Topic)
	}
}
