package sse_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/schema/event"
)

func TestStalledSubscriberIsDroppedWhileOthersKeepReceiving(t *testing.T) {
	e := newEnv(t, false)
	e.produce(change(event.OpCreate, 99, 1, "0.00", ""))
	e.start("orders", map[string]string{"format": "flat", "subscriber.buffer.size": "128", "write.timeout.ms": "30000"})

	// The stalled subscriber sends its request and never reads.
	stalled, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	stalled.(*net.TCPConn).SetReadBuffer(4 << 10)
	fmt.Fprintf(stalled, "GET /streams/orders?op=u HTTP/1.1\r\nHost: x\r\n\r\n")

	// Subscribers with many different filters: every event, creates and
	// updates of the table, one key's updates (every fifth event), one
	// customer (customer_id j is event j's alone) or one note.
	const subscribers, n = 1000, 600
	clients := make([]*client, subscribers)
	wants := make([]int, subscribers)
	for i := range clients {
		var filter string
		switch i % 5 {
		case 0:
			filter, wants[i] = "", n
		case 1:
			filter, wants[i] = "?table=public.orders&op=c,u", n
		case 2:
			filter, wants[i] = fmt.Sprintf("?where=customer_id:%d", i/5), 1
		case 3:
			filter, wants[i] = fmt.Sprintf("?op=u&where=id:%d", i/5%5), n/5
		default:
			filter, wants[i] = "?where=note:n7", 1
		}
		var resp *http.Response
		if clients[i], resp = e.open("/streams/orders"+filter, nil); clients[i] == nil {
			t.Fatalf("subscriber %d (%s): status %d %s", i, filter, resp.StatusCode, body(resp))
		}
	}
	pad := strings.Repeat("x", 256)
	var evs []*event.Event
	for i := range n {
		ev := numbered(i)
		if i != 7 {
			ev.After[3] = fmt.Sprintf("n%d", i) + pad
		}
		evs = append(evs, ev)
	}
	began := time.Now()
	for i := 0; i < n; i += 10 { // a steady flow, not one burst
		e.produce(evs[i : i+10]...)
		time.Sleep(20 * time.Millisecond)
	}

	var wg sync.WaitGroup
	for i, c := range clients {
		want := wants[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := 0
			deadline := time.After(60 * time.Second)
			for got < want {
				select {
				case f, ok := <-c.frames:
					if !ok {
						t.Errorf("subscriber %d: stream ended after %d events", i, got)
						return
					}
					if f.event != "" {
						got++
					}
				case <-deadline:
					t.Errorf("subscriber %d: %d events of %d", i, got, want)
					return
				}
			}
		}()
	}
	produced := time.Since(began)
	wg.Wait()
	total := 0
	for _, w := range wants {
		total += w
	}
	t.Logf("%d subscribers received their %d events %v after the first was produced; producing took %v",
		subscribers, total, time.Since(began), produced)

	// The stalled subscriber was dropped: the server closed its connection,
	// which ends the response (it is delimited by the connection's close).
	stalled.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(stalled), nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(resp.Body)
	var m strings.Builder
	e.metrics.WritePrometheus(&m)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the stalled subscriber's stream was not cut: %v\n%s", err, m.String())
	}
	if !strings.Contains(m.String(), `sluice_sse_disconnects_total{connector="orders",reason="overflow"} 1`+"\n") {
		t.Errorf("metrics:\n%s", m.String())
	}
	// It resumes from the last id of the last whole frame it got, and
	// receives the rest, exactly.
	var lastID string
	var got []string
	blocks := strings.Split(string(raw), "\n\n")
	for _, block := range blocks[:len(blocks)-1] {
		for _, line := range strings.Split(block, "\n") {
			if id, ok := strings.CutPrefix(line, "id: "); ok {
				lastID = id
			}
			if data, ok := strings.CutPrefix(line, "data: "); ok {
				note, _, _ := strings.Cut(strings.SplitN(data, `"note":"`, 2)[1], `"`)
				got = append(got, strings.TrimSuffix(note, pad))
			}
		}
	}
	if lastID == "" || len(got) >= n {
		t.Fatalf("stalled subscriber got %d events, last id %q", len(got), lastID)
	}
	c, _ := e.open("/streams/orders?op=u", map[string]string{"Last-Event-ID": lastID})
	for len(got) < n {
		f := c.nextEvent(10 * time.Second)
		note, _, _ := strings.Cut(strings.SplitN(f.data, `"note":"`, 2)[1], `"`)
		got = append(got, strings.TrimSuffix(note, pad))
	}
	checkExactlyOnce(t, got, n)
}
