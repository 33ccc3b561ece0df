package sse_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/schema/event"
)

// seq returns the events' "note" values, which the producer numbers.
func notes(t *testing.T, evs []frame) []string {
	var out []string
	for _, f := range evs {
		var m map[string]any
		if err := json.Unmarshal([]byte(f.data), &m); err != nil {
			t.Fatalf("data %q: %v", f.data, err)
		}
		out = append(out, fmt.Sprint(m["note"]))
	}
	return out
}

// checkExactlyOnce checks that got holds every note of 0..n-1 once, and in
// order per key (the producer updates key i%5 with increasing numbers).
func checkExactlyOnce(t *testing.T, got []string, n int) {
	t.Helper()
	seen := map[string]bool{}
	last := map[int]int{}
	for _, s := range got {
		if seen[s] {
			t.Errorf("duplicate event %s", s)
		}
		seen[s] = true
		var i int
		fmt.Sscanf(s, "n%d", &i)
		if prev, ok := last[i%5]; ok && prev > i {
			t.Errorf("event %d after %d on key %d", i, prev, i%5)
		}
		last[i%5] = i
	}
	for i := range n {
		if !seen[fmt.Sprintf("n%d", i)] {
			t.Errorf("missing event n%d", i)
		}
	}
	if len(got) != n {
		t.Errorf("%d events, want %d", len(got), n)
	}
}

func numbered(i int) *event.Event {
	return change(event.OpUpdate, int32(i%5), int64(i), "1.00", fmt.Sprintf("n%d", i))
}

func TestResumeGetsExactlyTheMissedEventsWhileChangesContinue(t *testing.T) {
	for _, real := range []bool{false, true} {
		t.Run(map[bool]string{false: "kfake", true: "kafka"}[real], func(t *testing.T) {
			e := newEnv(t, real)
			e.produce(change(event.OpCreate, 99, 1, "0.00", "")) // creates the topic
			stop := e.start("orders", map[string]string{"format": "flat"})
			c, _ := e.open("/streams/orders?op=u", nil)

			const n = 300
			var wg sync.WaitGroup
			produce := func(from, to int) { // changes continue while clients come and go
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := from; i < to; i++ {
						e.produce(numbered(i))
					}
				}()
			}
			produce(0, 150)
			var got []frame
			for len(got) < 50 {
				got = append(got, c.nextEvent(10*time.Second))
			}
			c.close()
			wg.Wait()

			// lastEventId as a query parameter, for clients that cannot set headers.
			produce(150, 200)
			c2, resp := e.open("/streams/orders?op=u&lastEventId="+got[len(got)-1].id, nil)
			if c2 == nil {
				t.Fatalf("resume: %d %s", resp.StatusCode, body(resp))
			}
			for len(got) < 120 {
				got = append(got, c2.nextEvent(10*time.Second))
			}
			c2.close()
			wg.Wait()

			// sluice restarts while the client is away and changes go on.
			stop()
			produce(200, 250)
			wg.Wait()
			e.start("orders", map[string]string{"format": "flat"})
			produce(250, n)
			c3, resp := e.open("/streams/orders?op=u", map[string]string{"Last-Event-ID": got[len(got)-1].id})
			if c3 == nil {
				t.Fatalf("resume: %d %s", resp.StatusCode, body(resp))
			}
			for len(got) < n {
				got = append(got, c3.nextEvent(10*time.Second))
			}
			wg.Wait()
			checkExactlyOnce(t, notes(t, got), n)
			if extra, _ := c3.drain(300 * time.Millisecond); len(extra) != 0 {
				t.Errorf("%d extra events", len(extra))
			}
		})
	}
}

func TestUnknownOrTooOldIDsGetReset(t *testing.T) {
	e := newEnv(t, false)
	e.produce(change(event.OpCreate, 99, 1, "0.00", ""))
	e.start("orders", map[string]string{"replay.max.records": "3"})
	c, _ := e.open("/streams/orders", nil)
	c.next(5 * time.Second)
	startFrame, _ := c.next(5 * time.Second)
	for i := range 5 {
		e.produce(numbered(i))
	}
	c.drain(300 * time.Millisecond)
	raw, _ := base64.RawURLEncoding.DecodeString(startFrame.id)
	otherTopics := append([]byte{raw[0], raw[1] ^ 0xff}, raw[2:]...)
	ahead := append(append([]byte{}, raw[:len(raw)-1]...), 0x7f)

	for _, tc := range []struct{ name, id, reason string }{
		{"too far behind", startFrame.id, "the id is 5 records behind, more than replay.max.records (3)"},
		{"garbage", "bm90LWFuLWlk", "unknown event id: not an id of this stream"},
		{"other topics", base64.RawURLEncoding.EncodeToString(otherTopics), "unknown event id: the stream's topics changed"},
		{"truncated", base64.RawURLEncoding.EncodeToString(raw[:len(raw)-1]), "unknown event id: truncated"},
		{"ahead", base64.RawURLEncoding.EncodeToString(ahead), "the id points past the stream's position in " + e.topic + "/1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, resp := e.open("/streams/orders?lastEventId="+url.QueryEscape(tc.id), nil)
			if c == nil {
				t.Fatalf("status %d %s", resp.StatusCode, body(resp))
			}
			c.next(5 * time.Second)
			f := c.nextEvent(5 * time.Second)
			if f.event != "reset" || f.data != `{"reason":"`+tc.reason+`"}` || f.id == "" {
				t.Errorf("got %q, want a reset with reason %q", f.raw, tc.reason)
			}
			// The stream goes on from the live end.
			e.produce(numbered(7))
			if g := c.nextEvent(5 * time.Second); g.event != "u" || !strings.Contains(g.data, `"n7"`) {
				t.Errorf("after the reset: %q", g.raw)
			}
		})
	}
}

func TestFromEarliestReplaysTheTopic(t *testing.T) {
	e := newEnv(t, false)
	for i := range 10 {
		e.produce(numbered(i))
	}
	e.start("orders", map[string]string{"format": "flat"})
	c, _ := e.open("/streams/orders?from=earliest", nil)
	var got []frame
	for len(got) < 10 {
		got = append(got, c.nextEvent(5*time.Second))
	}
	e.produce(numbered(10))
	got = append(got, c.nextEvent(5*time.Second))
	checkExactlyOnce(t, notes(t, got), 11)
}
