package sse_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/connectors/sse"
	"github.com/sluice-cdc/sluice/schema/event"
)

// TestSubscriberBeforeTheTopicExists: a sink whose topic does not exist yet
// serves its path at once, holds an early subscriber with heartbeats, and
// delivers the topic's records from the first one when it appears (real
// Kafka). The Kafka Connect figures count them exactly.
func TestSubscriberBeforeTheTopicExists(t *testing.T) {
	e := newEnv(t, true)
	_, h := e.launch("orders", map[string]string{"format": "flat", "heartbeat.interval.ms": "1000"})
	ready, _ := sse.StreamState(h)
	c, resp := e.open("/streams/orders", nil)
	if c == nil {
		t.Fatalf("status %d before the topic exists, want 200", resp.StatusCode)
	}
	select {
	case <-ready:
		t.Fatal("the stream is up before its topic exists")
	default:
	}
	if ct := c.resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	if f, _ := c.next(5 * time.Second); f.raw != "retry: 3000\n\n" {
		t.Errorf("first frame %q, want the retry frame", f.raw)
	}
	for i := range 2 {
		if f, _ := c.next(2 * time.Second); f.raw != ": heartbeat\n\n" {
			t.Errorf("frame %d while waiting: %q, want a heartbeat", i, f.raw)
		}
	}
	if text := e.prometheus(); !strings.Contains(text, "\n"+`sluice_sse_subscribers_waiting{connector="orders"} 1`+"\n") {
		t.Errorf("the held subscriber is not counted as waiting:\n%s", text)
	}

	// The first records create the topic.
	e.produce(change(event.OpCreate, 1, 42, "12.50", "first"), change(event.OpUpdate, 1, 42, "1.00", ""), change(event.OpDelete, 1, 42, "1.00", ""))
	c.expect(
		wantEvent{"c", `{"id":1,"customer_id":42,"amount":"12.50","note":"first","blob":"/wA=","__op":"c","__table":"public.orders","__ts_ms":1700000000123,"__key":{"id":1}}`},
		wantEvent{"u", `{"id":1,"customer_id":42,"amount":"1.00","note":null,"blob":"/wA=","__op":"u","__table":"public.orders","__ts_ms":1700000000123,"__key":{"id":1}}`},
		wantEvent{"d", `{"id":1,"customer_id":42,"amount":"1.00","note":null,"blob":"/wA=","__op":"d","__table":"public.orders","__ts_ms":1700000000123,"__key":{"id":1}}`},
	)
	select {
	case <-ready:
	default:
		t.Error("the stream delivered events but is not up")
	}

	// Four records read (the delete's tombstone too), three sent; the one
	// partition they are in has no lag.
	text := e.prometheus()
	for _, line := range []string{`sluice_connector_records_polled_total{connector="orders"} 4`, `sluice_connector_records_written_total{connector="orders"} 3`,
		`sluice_sse_subscribers_waiting{connector="orders"} 0`, `sluice_sse_subscribers{connector="orders"} 1`} {
		if !strings.Contains(text, "\n"+line+"\n") {
			t.Errorf("no %s in the metrics", line)
		}
	}
	lags := regexp.MustCompile(`(?m)^sluice_sink_consumer_lag_records\{connector="orders",partition="[01]",topic="`+regexp.QuoteMeta(e.topic)+`"\} (\S+)$`).FindAllStringSubmatch(text, -1)
	if len(lags) != 1 || lags[0][1] != "0" {
		t.Errorf("consumer lag series %v, want one partition with lag 0", lags)
	}
}

// A subscriber who comes while the sink starts, its topic existing, starts
// no later than when it came: a record produced after it connected, before
// the sink went on to read the topic, is delivered to it (real Kafka).
func TestSubscriberWhileTheSinkStartsMissesNothing(t *testing.T) {
	e := newEnv(t, true)
	e.produce(change(event.OpCreate, 1, 42, "1.00", "before"))
	var c *client
	e.onServe = func() {
		c, _ = e.open("/streams/orders", nil)
		e.produce(change(event.OpCreate, 2, 42, "2.00", "after"))
	}
	e.start("orders", map[string]string{"format": "flat"})
	if c == nil {
		t.Fatal("the subscriber who came while the sink started was refused")
	}
	c.expect(wantEvent{"c", `{"id":2,"customer_id":42,"amount":"2.00","note":"after","blob":"/wA=","__op":"c","__table":"public.orders","__ts_ms":1700000000123,"__key":{"id":2}}`})
}
