package sse_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/schema/event"
)

// rawSubscriber is an SSE client on a plain connection that runs no
// goroutine, so that the goroutines of the process are the server's.
type rawSubscriber struct {
	t    *testing.T
	conn net.Conn
	resp *http.Response
	body *bufio.Reader
}

// dial subscribes over a new connection; it fails the test unless the
// answer is 200.
func (e *env) dial(pathQuery string, header map[string]string) *rawSubscriber {
	e.t.Helper()
	s, resp := e.tryDial(pathQuery, header)
	if s == nil {
		e.t.Fatalf("GET %s: status %d %s", pathQuery, resp.StatusCode, body(resp))
	}
	return s
}

// tryDial subscribes over a new connection; it returns the response when
// the status is not 200.
func (e *env) tryDial(pathQuery string, header map[string]string) (*rawSubscriber, *http.Response) {
	e.t.Helper()
	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { conn.Close() })
	req, err := http.NewRequest(http.MethodGet, "http://sluice"+pathQuery, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if err := req.Write(conn); err != nil {
		e.t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		e.t.Fatalf("read the response to GET %s: %v", pathQuery, err)
	}
	if resp.StatusCode != http.StatusOK {
		conn.Close()
		return nil, resp
	}
	return &rawSubscriber{t: e.t, conn: conn, resp: resp, body: bufio.NewReader(resp.Body)}, nil
}

// frame returns the raw text of the next frame, failing the test if none
// ends within timeout.
func (s *rawSubscriber) frame(timeout time.Duration) string {
	s.t.Helper()
	s.conn.SetReadDeadline(time.Now().Add(timeout))
	var b strings.Builder
	for {
		line, err := s.body.ReadString('\n')
		if err != nil {
			s.t.Fatalf("read a frame: %v (read %q)", err, b.String()+line)
		}
		b.WriteString(line)
		if line == "\n" {
			return b.String()
		}
	}
}

// begun reads the frames that start a stream at the live end: the retry
// field, then the id to resume from.
func (s *rawSubscriber) begun() {
	s.t.Helper()
	if f := s.frame(5 * time.Second); f != "retry: 3000\n\n" {
		s.t.Fatalf("first frame %q, want the retry field", f)
	}
	if f := s.frame(5 * time.Second); !strings.HasPrefix(f, "id: ") || strings.Count(f, "\n") != 2 {
		s.t.Fatalf("second frame %q, want an id alone", f)
	}
}

// waitFor polls cond every 10 ms until it holds or timeout passes, and
// reports whether it held.
func waitFor(timeout time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(timeout); ; time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

func (e *env) subscribers(name string) string {
	for _, line := range strings.Split(e.prometheus(), "\n") {
		if v, ok := strings.CutPrefix(line, `sluice_sse_subscribers{connector="`+name+`"} `); ok {
			return v
		}
	}
	return ""
}

func TestIdleSubscribersHoldNoGoroutine(t *testing.T) {
	e := newEnv(t, false)
	e.produce(change(event.OpCreate, 99, 1, "0.00", ""))
	e.start("orders", map[string]string{"format": "flat"})
	// Settle the background goroutines of Kafka clients and the server.
	warm := e.dial("/streams/orders", nil)
	warm.begun()
	warm.conn.Close()
	if !waitFor(5*time.Second, func() bool { return e.subscribers("orders") == "0" }) {
		t.Fatalf("the warm-up subscriber is still counted: %s", e.subscribers("orders"))
	}
	time.Sleep(200 * time.Millisecond)
	before := runtime.NumGoroutine()

	const n, margin = 200, 40 // one goroutine per subscriber would be 200 more
	subs := make([]*rawSubscriber, n)
	for i := range subs {
		subs[i] = e.dial("/streams/orders", nil)
		subs[i].begun()
	}
	if got := e.subscribers("orders"); got != fmt.Sprint(n) {
		t.Fatalf("subscribers gauge %s, want %d", got, n)
	}
	if !waitFor(5*time.Second, func() bool { return runtime.NumGoroutine() < before+margin }) {
		t.Fatalf("%d goroutines with %d idle subscribers, %d before", runtime.NumGoroutine(), n, before)
	}
	t.Logf("%d goroutines before, %d with %d idle subscribers", before, runtime.NumGoroutine(), n)
	// The response is delimited by the connection's close.
	r := subs[0].resp
	if !r.Close || len(r.TransferEncoding) != 0 || r.ContentLength != -1 ||
		r.Header.Get("Content-Type") != "text/event-stream" || r.Header.Get("Cache-Control") != "no-cache" || r.Header.Get("X-Accel-Buffering") != "no" {
		t.Errorf("response head: %s %v, transfer encoding %v, length %d", r.Status, r.Header, r.TransferEncoding, r.ContentLength)
	}

	// Each still gets every event, then holds no goroutine again.
	e.produce(change(event.OpCreate, 1, 42, "12.50", "one"), change(event.OpUpdate, 1, 42, "1.00", "two"))
	for i, s := range subs {
		for _, note := range []string{"one", "two"} {
			if f := s.frame(10 * time.Second); !strings.Contains(f, `"note":"`+note+`"`) {
				t.Fatalf("subscriber %d: frame %q, want the event with note %s", i, f, note)
			}
		}
	}
	if !waitFor(5*time.Second, func() bool { return runtime.NumGoroutine() < before+margin }) {
		t.Fatalf("%d goroutines after the events reached %d subscribers, %d before", runtime.NumGoroutine(), n, before)
	}
}

func TestHeartbeatsReachIdleTakenOverConnections(t *testing.T) {
	e := newEnv(t, false)
	e.produce(change(event.OpCreate, 99, 1, "0.00", ""))
	e.start("orders", map[string]string{"heartbeat.interval.ms": "200"})
	s := e.dial("/streams/orders", nil)
	s.begun()
	last := time.Now()
	var gaps []time.Duration
	for range 5 {
		if f := s.frame(2 * time.Second); f != ": heartbeat\n\n" {
			t.Fatalf("frame %q, want a heartbeat", f)
		}
		gaps = append(gaps, time.Since(last))
		last = time.Now()
	}
	for _, g := range gaps {
		// Every 200 ms; the scheduling of a busy test machine may delay one.
		if g < 50*time.Millisecond || g > 600*time.Millisecond {
			t.Errorf("heartbeats %v apart, want every 200ms", gaps)
			break
		}
	}
	// While events flow, more often than the interval, no heartbeat is
	// written between them. A heartbeat follows at least half an interval
	// of silence (two ticks of half an interval), which a busy machine may
	// still cause by delaying an event; one sooner is an error.
	e.start("busy", map[string]string{"heartbeat.interval.ms": "2000"})
	b := e.dial("/streams/busy", nil)
	b.begun()
	prev, events, beats := time.Now(), 0, 0
	for i, began := 0, time.Now(); time.Since(began) < 5*time.Second; i++ {
		e.produce(change(event.OpCreate, int32(i), 1, "0.00", ""))
		for {
			f := b.frame(5 * time.Second)
			silence := time.Since(prev)
			prev = time.Now()
			if f == ": heartbeat\n\n" {
				beats++
				if silence < time.Second {
					t.Fatalf("heartbeat %v after the previous frame while events flow, want none before 1s of silence", silence)
				}
				continue
			}
			if !strings.Contains(f, "event: c\n") {
				t.Fatalf("frame %q, want the event", f)
			}
			events++
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("busy stream: %d events, %d heartbeats after a delayed event", events, beats)
}

func TestClosedClientsAreRemovedAtOnce(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("clients' closes are watched with epoll on Linux; elsewhere a write finds them")
	}
	e := newEnv(t, false)
	e.produce(change(event.OpCreate, 99, 1, "0.00", ""))
	e.start("orders", map[string]string{"heartbeat.interval.ms": "60000"})
	subs := make([]*rawSubscriber, 5)
	for i := range subs {
		subs[i] = e.dial("/streams/orders", nil)
		subs[i].begun()
	}
	if got := e.subscribers("orders"); got != "5" {
		t.Fatalf("subscribers gauge %s, want 5", got)
	}
	for _, s := range subs[:3] {
		s.conn.Close()
	}
	// Long before the first heartbeat would find them gone.
	if !waitFor(2*time.Second, func() bool { return e.subscribers("orders") == "2" }) {
		t.Fatalf("subscribers gauge %s 2s after 3 of 5 clients closed, want 2", e.subscribers("orders"))
	}
	if want := `sluice_sse_disconnects_total{connector="orders",reason="client"} 3` + "\n"; !strings.Contains(e.prometheus(), want) {
		t.Errorf("metrics lack %q:\n%s", want, e.prometheus())
	}
	// The others still receive events.
	e.produce(change(event.OpCreate, 1, 42, "1.00", "still here"))
	for _, s := range subs[3:] {
		if f := s.frame(5 * time.Second); !strings.Contains(f, "still here") {
			t.Fatalf("frame %q, want the event", f)
		}
	}
}

func TestConnectionCapsAreReleasedWhenTakenOverSubscribersLeave(t *testing.T) {
	e := newEnv(t, false)
	e.produce(change(event.OpCreate, 99, 1, "0.00", ""))
	e.start("orders", map[string]string{
		"auth.type":                 "token,jwt",
		"auth.tokens":               "a:a-secret-0123456789;b:b-secret-0123456789",
		"auth.jwt.algorithms":       "HS256",
		"auth.jwt.hmac.secret":      hmacSecret,
		"auth.jwt.clock.skew.ms":    "0",
		"max.connections":           "3",
		"max.connections.per.token": "2",
	})
	tokenA := map[string]string{"Authorization": "Bearer a-secret-0123456789"}
	tokenB := map[string]string{"Authorization": "Bearer b-secret-0123456789"}
	refused := func(header map[string]string, why string) {
		t.Helper()
		s, resp := e.tryDial("/streams/orders", header)
		if s != nil {
			t.Fatalf("%s: a connection over the cap was accepted", why)
		}
		if resp.StatusCode != http.StatusServiceUnavailable || body(resp) != "too many subscribers: try again later" {
			t.Fatalf("%s: status %d %q, want 503", why, resp.StatusCode, body(resp))
		}
	}
	a1 := e.dial("/streams/orders", tokenA)
	e.dial("/streams/orders", tokenA)
	refused(tokenA, "third connection of token a")
	e.dial("/streams/orders", tokenB)
	refused(tokenB, "fourth connection in all")

	// A client that leaves gives its slot and its token's slot back.
	a1.conn.Close()
	var again *rawSubscriber
	if !waitFor(5*time.Second, func() bool { again, _ = e.tryDial("/streams/orders", tokenA); return again != nil }) {
		t.Fatal("the slot of a closed connection was not released")
	}
	refused(tokenA, "third connection of token a after one left")

	// So does a subscriber the sink drops: here, when its token expires.
	again.conn.Close()
	if !waitFor(5*time.Second, func() bool { return e.subscribers("orders") == "2" }) {
		t.Fatalf("subscribers gauge %s, want 2", e.subscribers("orders"))
	}
	soon := float64(time.Now().Add(1500 * time.Millisecond).Unix())
	jwt := map[string]string{"Authorization": "Bearer " + jwtToken(t, "HS256", []byte(hmacSecret), map[string]any{"sub": "carol", "exp": soon, "streams": []string{"orders"}})}
	short := e.dial("/streams/orders", jwt)
	refused(tokenB, "fourth connection in all, with a JWT's")
	short.begun()
	short.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := short.body.ReadString('\n'); err == nil || strings.Contains(err.Error(), "timeout") {
		t.Fatalf("the stream of an expired token did not end: %v", err)
	}
	if !waitFor(5*time.Second, func() bool { s, _ := e.tryDial("/streams/orders", tokenB); return s != nil }) {
		t.Fatal("the slot of an expired subscriber was not released")
	}
	if want := `sluice_sse_disconnects_total{connector="orders",reason="expired"} 1` + "\n"; !strings.Contains(e.prometheus(), want) {
		t.Errorf("metrics lack %q:\n%s", want, e.prometheus())
	}
}

func TestHTTP2SubscribersAreServedByTheHandler(t *testing.T) {
	e := newEnv(t, false)
	e.produce(change(event.OpCreate, 99, 1, "0.00", ""))
	e.start("orders", map[string]string{"format": "flat", "heartbeat.interval.ms": "200"})
	srv := httptest.NewUnstartedServer(e.router)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/streams/orders")
	if err != nil {
		t.Fatal(err)
	}
	if resp.ProtoMajor != 2 || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" || resp.Header.Get("Cache-Control") != "no-cache" {
		resp.Body.Close()
		t.Fatalf("%s %s %v", resp.Proto, resp.Status, resp.Header)
	}
	c := &client{t: t, resp: resp, frames: make(chan frame, 1000), cancel: func() {}}
	go c.read()
	defer c.close()
	if f, _ := c.next(5 * time.Second); f.raw != "retry: 3000\n\n" {
		t.Fatalf("first frame %q", f.raw)
	}
	if f, _ := c.next(5 * time.Second); !f.hasID || f.event != "" {
		t.Fatalf("second frame %q, want an id alone", f.raw)
	}
	if f, _ := c.next(2 * time.Second); f.raw != ": heartbeat\n\n" {
		t.Fatalf("frame %q, want a heartbeat", f.raw)
	}
	e.produce(change(event.OpCreate, 1, 42, "12.50", "over h2"))
	if f := c.nextEvent(5 * time.Second); !strings.Contains(f.data, `"note":"over h2"`) {
		t.Fatalf("event %q", f.raw)
	}
	c.close()
	if !waitFor(5*time.Second, func() bool { return e.subscribers("orders") == "0" }) {
		t.Fatalf("subscribers gauge %s after the client left, want 0", e.subscribers("orders"))
	}
}
