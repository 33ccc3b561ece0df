package sse_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/schema/event"
)

func TestStreamSendsHeadersRetryIDAndEvents(t *testing.T) {
	e := newEnv(t, false)
	e.produce(change(event.OpCreate, 99, 1, "0.00", "before the sink")) // creates the topic
	e.start("orders", map[string]string{"format": "flat"})
	c, resp := e.open("/streams/orders", nil)
	if c == nil {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for k, want := range map[string]string{"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"} {
		if got := c.resp.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if f, _ := c.next(5 * time.Second); f.raw != "retry: 3000\n\n" {
		t.Errorf("first frame %q, want the retry frame", f.raw)
	}
	start, _ := c.next(5 * time.Second)
	if !start.hasID || start.id == "" || start.event != "" || start.raw != "id: "+start.id+"\n\n" {
		t.Errorf("second frame %q, want an id-only frame", start.raw)
	}

	e.produce(change(event.OpCreate, 1, 42, "12.50", "line one\nline two"), change(event.OpUpdate, 1, 42, "-0.05", ""), change(event.OpDelete, 1, 42, "-0.05", ""))
	want := []struct{ event, data string }{
		{"c", `{"id":1,"customer_id":42,"amount":"12.50","note":"line one\nline two","blob":"/wA=","__op":"c","__table":"public.orders","__ts_ms":1700000000123,"__key":{"id":1}}`},
		{"u", `{"id":1,"customer_id":42,"amount":"-0.05","note":null,"blob":"/wA=","__op":"u","__table":"public.orders","__ts_ms":1700000000123,"__key":{"id":1}}`},
		{"d", `{"id":1,"customer_id":42,"amount":"-0.05","note":null,"blob":"/wA=","__op":"d","__table":"public.orders","__ts_ms":1700000000123,"__key":{"id":1}}`},
	}
	var ids []string
	for i, w := range want {
		f := c.nextEvent(5 * time.Second)
		if f.raw != "id: "+f.id+"\nevent: "+w.event+"\ndata: "+w.data+"\n\n" {
			t.Errorf("event %d:\n%q\nwant event %s data %s", i, f.raw, w.event, w.data)
		}
		ids = append(ids, f.id)
	}
	if ids[0] == start.id || ids[0] == ids[1] || ids[1] == ids[2] {
		t.Errorf("ids do not advance: %q then %v", start.id, ids)
	}
	// The tombstone after the delete is not sent.
	if evs, _ := c.drain(300 * time.Millisecond); len(evs) != 0 {
		t.Errorf("extra events after the delete: %v", evs)
	}
}

func TestEnvelopeFormatIsDebeziumEnvelopeAsJSON(t *testing.T) {
	e := newEnv(t, false)
	e.produce(change(event.OpCreate, 99, 1, "0.00", ""))
	e.start("orders", nil)
	c, _ := e.open("/streams/orders", nil)
	e.produce(change(event.OpUpdate, 7, 42, "3.10", "x"))
	f := c.nextEvent(5 * time.Second)
	var env map[string]json.RawMessage
	if err := json.Unmarshal([]byte(f.data), &env); err != nil {
		t.Fatalf("data is not JSON: %v\n%s", err, f.data)
	}
	if got := string(env["after"]); got != `{"id":7,"customer_id":42,"amount":"3.10","note":"x","blob":"/wA="}` {
		t.Errorf("after: %s", got)
	}
	if string(env["before"]) != "null" || string(env["op"]) != `"u"` || string(env["ts_ms"]) != "1700000000123" {
		t.Errorf("before %s op %s ts_ms %s", env["before"], env["op"], env["ts_ms"])
	}
	var src map[string]any
	json.Unmarshal(env["source"], &src)
	if src["connector"] != "postgresql" || src["schema"] != "public" || src["table"] != "orders" || src["db"] != "shop" {
		t.Errorf("source: %s", env["source"])
	}
}

func TestFiltersSelectEventsAndBadFiltersAre400(t *testing.T) {
	e := newEnv(t, false)
	e.produce(change(event.OpCreate, 99, 1, "0.00", ""))
	e.start("orders", map[string]string{"format": "flat"})
	byOp, _ := e.open("/streams/orders?op=u,d", nil)
	byField, _ := e.open("/streams/orders?table=public.orders&where=customer_id:42&where=amount:1.00", nil)
	otherTable, _ := e.open("/streams/orders?table=public.users", nil)
	e.produce(change(event.OpCreate, 1, 42, "1.00", ""), change(event.OpCreate, 2, 43, "1.00", ""),
		change(event.OpUpdate, 1, 42, "2.00", ""), change(event.OpDelete, 2, 43, "1.00", ""))
	keys := func(c *client) string {
		evs, _ := c.drain(500 * time.Millisecond)
		var out []string
		for _, f := range evs {
			var m map[string]any
			json.Unmarshal([]byte(f.data), &m)
			out = append(out, f.event+":"+strings.TrimSpace(jsonNumber(m["id"])))
		}
		return strings.Join(out, " ")
	}
	if got := keys(byOp); got != "u:1 d:2" {
		t.Errorf("op=u,d got %q", got)
	}
	if got := keys(byField); got != "c:1" {
		t.Errorf("where customer_id:42, amount:1.00 got %q", got)
	}
	if got := keys(otherTable); got != "" {
		t.Errorf("table=public.users got %q", got)
	}

	for _, tc := range []struct{ query, want string }{
		{"op=x", `invalid parameter op: unknown operation "x": want one of c, u, d, r, t`},
		{"table=orders", `invalid parameter table: "orders" is not schema.table`},
		{"where=customer_id", `invalid parameter where: "customer_id" is not field:value`},
		{"from=yesterday", `invalid parameter from: want earliest or an RFC 3339 time such as 2024-05-01T12:00:00Z, got "yesterday"`},
		{"limit=3", `unknown query parameter "limit"`},
		{"lastEventId=abc%0D%0Aevent:%20x", "invalid lastEventId: an event id is at most 4096 characters of A-Z, a-z, 0-9, - and _"},
		{"lastEventId=" + strings.Repeat("A", 4097), "invalid lastEventId: an event id is at most 4096 characters of A-Z, a-z, 0-9, - and _"},
	} {
		_, resp := e.open("/streams/orders?"+tc.query, nil)
		if resp.StatusCode != http.StatusBadRequest || body(resp) != tc.want {
			t.Errorf("%s: %d %q, want 400 %q", tc.query, resp.StatusCode, body(resp), tc.want)
		}
	}
}

func jsonNumber(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func body(resp *http.Response) string {
	if resp.Body == nil {
		return ""
	}
	b := make([]byte, 8192)
	n, _ := resp.Body.Read(b)
	resp.Body.Close()
	if n == 0 {
		return resp.Header.Get("X-Test-Body")
	}
	resp.Header.Set("X-Test-Body", strings.TrimSpace(string(b[:n])))
	return strings.TrimSpace(string(b[:n]))
}
