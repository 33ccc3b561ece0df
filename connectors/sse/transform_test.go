package sse_test

import (
	"testing"

	"github.com/sluice-cdc/sluice/schema/event"
)

// Subscribers of a sink with transforms get what the transforms put out:
// the routed topic (which topic filters match), the flattened row without
// the removed fields, the operation of its __op field as the event name;
// a replay after a reconnect is transformed the same way. A filter that
// keeps the envelope leaves format=flat as it is, without the records it
// drops.
func TestSubscribersGetTransformedRecords(t *testing.T) {
	e := newEnv(t, true)
	e.produce(change(event.OpCreate, 99, 1, "0.00", "creates the topic"))
	e.start("shaped", map[string]string{
		"transforms":             "route,unwrap,trim",
		"transforms.route.type":  "RegexRouter",
		"transforms.route.regex": `[^.]+\.public\.(.*)`, "transforms.route.replacement": "$1",
		"transforms.unwrap.type":                           "io.debezium.transforms.ExtractNewRecordState",
		"transforms.unwrap.delete.tombstone.handling.mode": "rewrite",
		"transforms.unwrap.add.fields":                     "op",
		"transforms.trim.type":                             "org.apache.kafka.connect.transforms.ReplaceField$Value",
		"transforms.trim.exclude":                          "note,blob",
	})
	e.start("filtered", map[string]string{
		"format":                          "flat",
		"transforms":                      "noThirteen",
		"transforms.noThirteen.type":      "io.sluice.transforms.Filter",
		"transforms.noThirteen.condition": "after.customer_id == 13",
		"transforms.noThirteen.action":    "drop",
	})
	// Orders 1 and 2 may be on different partitions: each subscriber
	// follows one, whose events come in order.
	routed, _ := e.open("/streams/shaped?topic=orders&where=id:1", nil)
	other, _ := e.open("/streams/shaped?topic=orders&where=id:2", nil)
	deletes, _ := e.open("/streams/shaped?op=d", nil)
	original, _ := e.open("/streams/shaped?topic="+e.topic, nil)
	filtered, _ := e.open("/streams/filtered", nil)

	e.produce(change(event.OpCreate, 1, 42, "12.50", "gift"), change(event.OpCreate, 2, 13, "1.00", ""),
		change(event.OpUpdate, 1, 42, "-0.05", ""), change(event.OpDelete, 1, 42, "-0.05", ""))
	shaped := []wantEvent{
		{"c", `{"id":1,"customer_id":42,"amount":"12.50","__deleted":"false","__op":"c"}`},
		{"u", `{"id":1,"customer_id":42,"amount":"-0.05","__deleted":"false","__op":"u"}`},
		{"d", `{"id":1,"customer_id":42,"amount":"-0.05","__deleted":"true","__op":"d"}`},
	}
	ids := routed.expect(shaped...)
	other.expect(wantEvent{"c", `{"id":2,"customer_id":13,"amount":"1.00","__deleted":"false","__op":"c"}`})
	deletes.expect(shaped[2])
	original.expect()
	filtered.expect(
		wantEvent{"c", `{"id":1,"customer_id":42,"amount":"12.50","note":"gift","blob":"/wA=","__op":"c","__table":"public.orders","__ts_ms":1700000000123,"__key":{"id":1}}`},
		wantEvent{"u", `{"id":1,"customer_id":42,"amount":"-0.05","note":null,"blob":"/wA=","__op":"u","__table":"public.orders","__ts_ms":1700000000123,"__key":{"id":1}}`},
		wantEvent{"d", `{"id":1,"customer_id":42,"amount":"-0.05","note":null,"blob":"/wA=","__op":"d","__table":"public.orders","__ts_ms":1700000000123,"__key":{"id":1}}`},
	)

	// A subscriber resuming after the first event is replayed the rest,
	// transformed the same way.
	resumed, _ := e.open("/streams/shaped?topic=orders&where=id:1", map[string]string{"Last-Event-ID": ids[0]})
	resumed.expect(shaped[1:]...)
}
