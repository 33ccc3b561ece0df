package faults

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// The client reads change events from envelope frames and, when the
// connection ends, connects again with the last id as Last-Event-ID.
func TestSSEClientResumes(t *testing.T) {
	var mu sync.Mutex
	var resumedFrom []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		resumedFrom = append(resumedFrom, r.Header.Get("Last-Event-ID"))
		n := len(resumedFrom)
		mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		if n == 1 {
			fmt.Fprint(w, "id: p0\n\n")
			fmt.Fprint(w, "id: p1\nevent: c\ndata: {\"op\":\"c\",\"before\":null,\"after\":{\"id\":1,\"seq\":1,\"v\":\"k1-s1\"}}\n\n")
			return // the connection ends
		}
		fmt.Fprint(w, ": heartbeat\n\n")
		fmt.Fprint(w, "id: p2\nevent: d\ndata: {\"op\":\"d\",\"before\":{\"id\":1},\"after\":null}\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	c := NewSSEClient(srv.URL)
	select {
	case <-c.Connected():
	case <-time.After(5 * time.Second):
		t.Fatal("not connected")
	}
	for deadline := time.Now().Add(5 * time.Second); len(c.Events()) < 2 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	events, connects, err := c.Stop()
	want := []Event{{Key: 1, Seq: 1, Op: 'c', V: "k1-s1", At: "sse#0"}, {Key: 1, Op: 'd', At: "sse#1"}}
	if err != nil || connects != 2 || fmt.Sprint(events) != fmt.Sprint(want) {
		t.Fatalf("events %v after %d connections (%v), want %v after 2", events, connects, err, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(resumedFrom) != "[ p1]" {
		t.Fatalf("Last-Event-ID per connection: %q, want none and then p1", resumedFrom)
	}
}
