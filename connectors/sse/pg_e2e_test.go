package sse_test

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestPostgresChangesReachSubscribersWithinASecond(t *testing.T) {
	p := newPipeline(t)
	p.start("orders", map[string]string{"format": "flat"})
	c, resp := p.open("/streams/orders", nil)
	if c == nil {
		t.Fatalf("status %d %s", resp.StatusCode, body(resp))
	}
	if f, _ := c.next(5 * time.Second); f.retry != "3000" {
		t.Fatalf("first frame %q, want retry", f.raw)
	}
	for _, tc := range []struct {
		sql, event, data string
	}{
		{"INSERT INTO orders VALUES (1, 42, 12.50, 'first')", "c",
			`{"id":1,"customer_id":42,"amount":"12.50","note":"first","__op":"c","__table":"public.orders","__ts_ms":0,"__key":{"id":1}}`},
		{"UPDATE orders SET amount = -0.05, note = NULL WHERE id = 1", "u",
			`{"id":1,"customer_id":42,"amount":"-0.05","note":null,"__op":"u","__table":"public.orders","__ts_ms":0,"__key":{"id":1}}`},
		{"DELETE FROM orders WHERE id = 1", "d",
			`{"id":1,"customer_id":42,"amount":"-0.05","note":null,"__op":"d","__table":"public.orders","__ts_ms":0,"__key":{"id":1}}`},
	} {
		time.Sleep(200 * time.Millisecond) // each change on its own, not in one fetch
		sent := time.Now()
		p.exec(tc.sql)
		f := c.nextEvent(5 * time.Second)
		delay := time.Since(sent)
		t.Logf("%s: %v from commit to client", tc.event, delay)
		if delay >= time.Second {
			t.Errorf("%s: %v from commit to client, want < 1s", tc.sql, delay)
		}
		if got := normalizeTs(t, f.data, sent); f.event != tc.event || got != tc.data || f.id == "" {
			t.Errorf("%s:\ngot  id %q event %q data %s\nwant event %q data %s", tc.sql, f.id, f.event, got, tc.event, tc.data)
		}
	}
	// The tombstone that follows the delete in Kafka is not sent.
	if evs, _ := c.drain(500 * time.Millisecond); len(evs) != 0 {
		t.Errorf("extra events: %v", evs)
	}
}

// changeSQL is change k of a steady flow of changes: the rows i = k/3 + 1
// are inserted, updated and deleted in turn, each in a transaction of its
// own. label names the event it gives: its operation and row.
func changeSQL(k int) (sql, label string) {
	i := k/3 + 1
	switch k % 3 {
	case 0:
		return fmt.Sprintf("INSERT INTO orders VALUES (%d, %d, 1.00, 'n%d')", i, k, k), fmt.Sprintf("c%d", i)
	case 1:
		return fmt.Sprintf("UPDATE orders SET note = 'n%d', amount = 2.50 WHERE id = %d", k, i), fmt.Sprintf("u%d", i)
	default:
		return fmt.Sprintf("DELETE FROM orders WHERE id = %d", i), fmt.Sprintf("d%d", i)
	}
}

// flatData is the data of the event of change k, with __ts_ms 0.
func flatData(k int) string {
	i, first := k/3+1, k-k%3
	switch k % 3 {
	case 0:
		return fmt.Sprintf(`{"id":%d,"customer_id":%d,"amount":"1.00","note":"n%d","__op":"c","__table":"public.orders","__ts_ms":0,"__key":{"id":%d}}`, i, first, k, i)
	case 1:
		return fmt.Sprintf(`{"id":%d,"customer_id":%d,"amount":"2.50","note":"n%d","__op":"u","__table":"public.orders","__ts_ms":0,"__key":{"id":%d}}`, i, first, k, i)
	default:
		return fmt.Sprintf(`{"id":%d,"customer_id":%d,"amount":"2.50","note":"n%d","__op":"d","__table":"public.orders","__ts_ms":0,"__key":{"id":%d}}`, i, first, k-1, i)
	}
}

func TestPostgresResumeAfterDisconnectAndSinkRestart(t *testing.T) {
	p := newPipeline(t)
	began := time.Now()
	stop := p.start("orders", map[string]string{"format": "flat"})
	c1, _ := p.open("/streams/orders", nil)

	// Changes go on, 2 ms apart, while the client comes and goes.
	var wg sync.WaitGroup
	changes := func(from, to int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := from; k < to; k++ {
				sql, _ := changeSQL(k)
				p.exec(sql)
				time.Sleep(2 * time.Millisecond)
			}
		}()
	}
	var got []frame
	read := func(c *client, n int) {
		for len(got) < n {
			got = append(got, c.nextEvent(10*time.Second))
		}
	}
	lastID := func() string { return got[len(got)-1].id }

	changes(0, 90)
	read(c1, 20)
	c1.close()
	wg.Wait()
	// The missed changes are in Kafka, so they come from a replay: each
	// change is a record, and each delete one more, its tombstone (3
	// records before: the setup row's create, delete and tombstone).
	p.waitRecords(3 + 90 + 30)

	// Back while changes continue, with lastEventId as a query parameter.
	changes(90, 150)
	c2, resp := p.open("/streams/orders?lastEventId="+lastID(), nil)
	if c2 == nil {
		t.Fatalf("resume: status %d %s", resp.StatusCode, body(resp))
	}
	read(c2, 120)
	c2.close()
	wg.Wait()

	// The sink stops and starts again while the client is away and the
	// source keeps running; then the client resumes with Last-Event-ID.
	stop()
	changes(150, 180)
	wg.Wait()
	p.waitRecords(3 + 180 + 60)
	p.start("orders", map[string]string{"format": "flat"})
	changes(180, 240)
	c3, resp := p.open("/streams/orders", map[string]string{"Last-Event-ID": lastID()})
	if c3 == nil {
		t.Fatalf("resume after restart: status %d %s", resp.StatusCode, body(resp))
	}
	read(c3, 240)
	wg.Wait()
	if extra, _ := c3.drain(500 * time.Millisecond); len(extra) != 0 {
		t.Errorf("%d events beyond the 240 changes, first %q", len(extra), extra[0].raw)
	}

	replayed := regexp.MustCompile(`sluice_sse_replay_records_total\{connector="orders"\} (\d+)`).FindStringSubmatch(p.prometheus())
	t.Logf("%d events; %s records (tombstones included) read back from Kafka for the resuming client", len(got), replayed[1])
	// The restarted sink's live reader starts at the end of the topic, so
	// the 60 changes missed before the last resume can only come from a
	// replay. Before the first resume the live reader may lag (on a busy
	// machine) and hand over more of the missed changes itself.
	if n, _ := strconv.Atoi(replayed[1]); n < 180-120 {
		t.Errorf("%d records read back, want at least the %d changes missed while the sink was restarted", n, 180-120)
	}

	var gotLabels, wantLabels []string
	for k, f := range got {
		_, label := changeSQL(k)
		wantLabels = append(wantLabels, label)
		gotLabels = append(gotLabels, f.event+fmt.Sprint(k/3+1))
		if data := normalizeTs(t, f.data, began); data != flatData(k) {
			t.Errorf("event %d:\ngot  %s %s\nwant %s", k, f.event, data, flatData(k))
		}
	}
	if !slices.Equal(gotLabels, wantLabels) {
		t.Errorf("events in this order:\n%v\nwant\n%v", gotLabels, wantLabels)
	}
	ids := map[string]bool{}
	for _, f := range got {
		if ids[f.id] {
			t.Errorf("id %s given twice", f.id)
		}
		ids[f.id] = true
	}
}
