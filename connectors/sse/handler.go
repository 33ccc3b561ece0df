package sse

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/sluice-cdc/sluice/schema/jsontext"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// stream serves one SSE sink's endpoint. ServeHTTP is called concurrently,
// once per subscriber. Over HTTP/1.x it returns once the stream has begun,
// having taken the connection over from net/http (see takeOver); over
// HTTP/2 it returns when the subscriber is gone.
type stream struct {
	cfg       *Config
	admin     *kadm.Client
	kafkaOpts []kgo.Opt // with the seed brokers, for replay readers
	met       *sinkMetrics
	log       *slog.Logger
	now       func() time.Time
	watcher   *closeWatcher

	// ready is closed once the topics exist and the fields below are set;
	// they are read only after it is. stopped is closed when the sink stops.
	ready, stopped chan struct{}
	lay            *layout
	hub            *hub
	dec            *decoder
	start          position // where the hub started reading

	connMu   sync.Mutex
	conns    int
	perToken map[string]int
}

// queryParams are the query parameters a request may carry.
var queryParams = append([]string{"lastEventId", "from", "access_token"}, filterParams...)

// heartbeatFrame is the comment that keeps idle connections alive.
var heartbeatFrame = []byte(": heartbeat\n\n")

func (st *stream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !st.cors(w, r) {
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET, OPTIONS")
		http.Error(w, "method not allowed: use GET", http.StatusMethodNotAllowed)
		return
	}
	g, err := st.cfg.Auth.authenticate(r, st.cfg.Name, st.now())
	if err != nil {
		var ae *authError
		errors.As(err, &ae)
		if ae.status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="sluice", error="invalid_token"`)
		}
		http.Error(w, ae.msg, ae.status)
		return
	}
	q := r.URL.Query()
	for name := range q {
		if !slices.Contains(queryParams, name) || (name == "access_token" && !st.cfg.Auth.QueryToken) {
			http.Error(w, "unknown query parameter "+strconv.Quote(name), http.StatusBadRequest)
			return
		}
	}
	asked, err := ParseFilter(q)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	filter, err := narrow(g.filter, asked)
	if err != nil {
		http.Error(w, err.Error(), err.(*authError).status)
		return
	}
	id := r.Header.Get("Last-Event-ID")
	idParam := "Last-Event-ID"
	if id == "" {
		id, idParam = q.Get("lastEventId"), "lastEventId"
	}
	if id != "" && !validIDChars(id) {
		http.Error(w, "invalid "+idParam+": an event id is at most 4096 characters of A-Z, a-z, 0-9, - and _", http.StatusBadRequest)
		return
	}
	earliest, fromTime, err := parseFrom(q.Get("from"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if !st.acquire(g.subject) {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int((st.cfg.Retry+time.Second-1)/time.Second))))
		http.Error(w, "too many subscribers: try again later", http.StatusServiceUnavailable)
		return
	}
	release := func() { st.release(g.subject) }
	ctx := r.Context()
	// A subscriber who comes before the topics exist is answered at once
	// and held; every record is after it, so it starts at the first one.
	var early output
	var earlyWake chan struct{}
	select {
	case <-st.ready:
	default:
		early, earlyWake = st.takeOver(w)
		st.met.waiting.Add(1)
		up := st.await(ctx, early)
		st.met.waiting.Add(-1)
		if !up {
			early.close()
			release()
			return
		}
	}
	var life time.Duration
	if !g.expires.IsZero() {
		life = max(g.expires.Sub(st.now()), time.Nanosecond)
	}
	sub, to, err := st.hub.subscribe(filter, st.cfg.BufferSize, release, life)
	if err != nil {
		release()
		if early != nil {
			early.close()
			return
		}
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}

	// Decide where the subscriber starts before answering, so that Kafka
	// failures are still an HTTP error.
	var from position
	var reset string
	switch {
	case early != nil:
		from = st.start
	case id != "":
		var derr error
		if from, derr = st.lay.decode(id); derr != nil {
			reset = derr.Error()
		} else if reset, err = st.resetReason(ctx, from, to); err != nil {
			st.hub.unsubscribe(sub, reasonClient)
			st.log.Warn("cannot check a resume position", "error", err)
			http.Error(w, "cannot reach Kafka to resume: try again later", http.StatusServiceUnavailable)
			return
		}
	case earliest || !fromTime.IsZero():
		if from, err = st.startAt(ctx, earliest, fromTime, to); err != nil {
			st.hub.unsubscribe(sub, reasonClient)
			st.log.Warn("cannot find a start position", "error", err)
			http.Error(w, "cannot reach Kafka to find the start: try again later", http.StatusServiceUnavailable)
			return
		}
	}

	out, wake := early, earlyWake
	if out == nil {
		out, wake = st.takeOver(w)
	}
	unwatch := func() {}
	if c, ok := out.(*rawConn); ok {
		unwatch = st.watcher.watch(c.c, func() { st.hub.unsubscribe(sub, reasonClient) })
	}
	if !sub.attach(out, wake, unwatch) { // dropped meanwhile: expired, or the sink stopped
		unwatch()
		out.close()
		return
	}
	if reason := st.begin(ctx, out, filter, from, to, reset); reason != "" {
		st.hub.unsubscribe(sub, reason)
		return
	}
	sub.flush() // what the hub queued meanwhile; then the hub's writers take over
	if wake != nil {
		st.serve(ctx, sub, out.(*respConn), wake)
	}
}

// await holds a subscriber who came before the stream's topics existed: it
// sends the retry field, then a heartbeat every heartbeat.interval.ms,
// until the stream is up (true), or the client or the sink goes away.
func (st *stream) await(ctx context.Context, out output) bool {
	if out.send([]byte("retry: "+strconv.FormatInt(st.cfg.Retry.Milliseconds(), 10)+"\n\n")) != nil || out.flush() != nil {
		return false
	}
	t := time.NewTicker(st.cfg.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-st.ready:
			return true
		case <-st.stopped:
			return false
		case <-ctx.Done():
			return false
		case <-t.C:
			if out.send(heartbeatFrame) != nil || out.flush() != nil {
				return false
			}
		}
	}
}

// begin writes the start of the stream: the retry field, then either a
// reset, or the replay from the client's position and the id of the live
// position, or that id alone. The handler holds the writer role. begin
// returns the reason to drop the subscriber when it fails, else "".
func (st *stream) begin(ctx context.Context, out frameSink, filter *Filter, from, to position, reset string) string {
	start := []byte("retry: " + strconv.FormatInt(st.cfg.Retry.Milliseconds(), 10) + "\n\n")
	switch {
	case reset != "":
		st.met.resets.Add(1)
		data := append(jsontext.AppendString([]byte(`{"reason":`), reset), '}')
		if out.send(appendFrame(start, st.lay.encode(to), "reset", data)) != nil {
			return reasonWrite
		}
	case from != nil:
		if out.send(start) != nil {
			return reasonWrite
		}
		if err := st.replay(ctx, from, to, filter, out); err != nil {
			if ctx.Err() != nil {
				return reasonClient
			}
			st.log.Warn("replay failed; the subscriber will resume", "error", err)
			return reasonReplay
		}
		if out.send(appendIDFrame(nil, st.lay.encode(to))) != nil {
			return reasonWrite
		}
	default:
		if out.send(appendIDFrame(start, st.lay.encode(to))) != nil {
			return reasonWrite
		}
	}
	if out.flush() != nil {
		return reasonWrite
	}
	return ""
}

// serve is the handler's loop for a response net/http keeps serving: it
// writes what the hub queues, each time it is woken, until the hub drops
// the subscriber or the client goes away.
func (st *stream) serve(ctx context.Context, sub *subscriber, out *respConn, wake chan struct{}) {
	for {
		select {
		case <-wake:
			sub.flush()
		case <-out.done: // dropped by the hub, which counted the reason
			return
		case <-ctx.Done():
			st.hub.unsubscribe(sub, reasonClient)
			return
		}
	}
}

// cors applies the origin allow-list: a request from an origin not on it is
// refused with 403; preflight requests are answered here. It reports
// whether the request goes on.
func (st *stream) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		if r.Method == http.MethodOptions {
			w.Header().Set("Allow", "GET, OPTIONS")
			w.WriteHeader(http.StatusNoContent)
			return false
		}
		return true
	}
	if !slices.Contains(st.cfg.CORSOrigins, origin) && !slices.Contains(st.cfg.CORSOrigins, "*") {
		http.Error(w, "origin "+strconv.Quote(origin)+" is not allowed (cors.allowed.origins)", http.StatusForbidden)
		return false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Add("Vary", "Origin")
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "GET")
		h.Set("Access-Control-Allow-Headers", "Authorization, Last-Event-ID, Cache-Control")
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return false
	}
	return true
}

// acquire takes a connection slot for subject, or reports that the total or
// per-token cap is reached. Anonymous subscribers have only the total cap.
func (st *stream) acquire(subject string) bool {
	st.connMu.Lock()
	defer st.connMu.Unlock()
	if st.conns >= st.cfg.MaxConns || (subject != anonymous && st.perToken[subject] >= st.cfg.MaxPerToken) {
		return false
	}
	st.conns++
	st.perToken[subject]++
	return true
}

func (st *stream) release(subject string) {
	st.connMu.Lock()
	defer st.connMu.Unlock()
	st.conns--
	if st.perToken[subject]--; st.perToken[subject] == 0 {
		delete(st.perToken, subject)
	}
}

// parseFrom parses the from parameter: empty, earliest, or an RFC 3339 time.
func parseFrom(v string) (earliest bool, at time.Time, err error) {
	switch v {
	case "":
		return false, time.Time{}, nil
	case "earliest":
		return true, time.Time{}, nil
	}
	at, err = time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return false, time.Time{}, &FilterError{"from", "want earliest or an RFC 3339 time such as 2024-05-01T12:00:00Z, got " + strconv.Quote(v)}
	}
	return false, at, nil
}

var _ http.Handler = (*stream)(nil)
