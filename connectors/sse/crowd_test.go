package sse_test

import (
	"bytes"
	"net"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/schema/event"
)

// Thousands of idle subscribers: each costs the server a few kilobytes of
// heap and no goroutine, the gauge counts them, and one over
// max.connections is refused with 503 and Retry-After; each still gets the
// next event. The clients are bare connections whose own memory is a
// small fraction of the server's, so the heap they free on leaving is the
// server's.
func TestThousandsOfSubscribersStayWithinTheirBounds(t *testing.T) {
	const n = 4000
	e := newEnv(t, false)
	e.produce(change(event.OpCreate, 99, 1, "0.00", ""))
	e.start("orders", map[string]string{"format": "flat", "max.connections": strconv.Itoa(n)})
	warm := e.dial("/streams/orders", nil)
	warm.begun()
	warm.conn.Close()
	if !waitFor(5*time.Second, func() bool { return e.subscribers("orders") == "0" }) {
		t.Fatalf("the warm-up subscriber is still counted: %s", e.subscribers("orders"))
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	goroutines := runtime.NumGoroutine()

	addr := e.srv.Listener.Addr().String()
	subscribe := func() (net.Conn, string) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write([]byte("GET /streams/orders HTTP/1.1\r\nHost: sluice\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		var head []byte
		buf := make([]byte, 512)
		for !bytes.Contains(head, []byte("\r\n\r\n")) {
			k, err := c.Read(buf)
			if err != nil {
				t.Fatalf("read the answer: %v (%q so far)", err, head)
			}
			head = append(head, buf[:k]...)
		}
		c.SetDeadline(time.Time{})
		return c, string(head)
	}
	conns := make([]net.Conn, n)
	for i := range conns {
		c, head := subscribe()
		if !bytes.HasPrefix([]byte(head), []byte("HTTP/1.1 200 ")) {
			t.Fatalf("subscriber %d: %q, want 200", i, head)
		}
		conns[i] = c
	}
	if !waitFor(10*time.Second, func() bool { return e.subscribers("orders") == strconv.Itoa(n) }) {
		t.Fatalf("subscribers gauge %s, want %d", e.subscribers("orders"), n)
	}
	_, refused := subscribe()
	if !bytes.HasPrefix([]byte(refused), []byte("HTTP/1.1 503 ")) || !bytes.Contains([]byte(refused), []byte("\r\nRetry-After: ")) {
		t.Fatalf("subscriber %d over max.connections: %q, want 503 with Retry-After", n+1, refused)
	}
	crowded := heap()
	if got := runtime.NumGoroutine(); got > goroutines+50 {
		t.Fatalf("%d goroutines with %d idle subscribers, %d before", got, n, goroutines)
	}

	e.produce(change(event.OpCreate, 1, 42, "12.50", "crowd"))
	buf := make([]byte, 4096)
	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		var got []byte
		for !bytes.Contains(got, []byte(`"note":"crowd"`)) {
			k, err := c.Read(buf)
			if err != nil {
				t.Fatalf("subscriber %d: %v before the event (%q)", i, err, got)
			}
			got = append(got, buf[:k]...)
		}
	}
	// The heap with the subscribers, against the heap once they left.
	for _, c := range conns {
		c.Close()
	}
	if !waitFor(10*time.Second, func() bool { return e.subscribers("orders") == "0" }) {
		t.Fatalf("subscribers gauge %s after every client left, want 0", e.subscribers("orders"))
	}
	perSub := (int64(crowded) - int64(heap())) / n
	if perSub > 8<<10 {
		t.Fatalf("%d bytes of heap per idle subscriber, want at most 8 KiB", perSub)
	}
	t.Logf("%d idle subscribers: %d bytes of heap each, %d goroutines (%d before); the next one refused with 503; the event reached all",
		n, perSub, runtime.NumGoroutine(), goroutines)
}
