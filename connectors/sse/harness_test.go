package sse_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/kafka"
	"github.com/sluice-cdc/sluice/connectors/metrics"
	"github.com/sluice-cdc/sluice/connectors/sse"
	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/registry"
	"github.com/sluice-cdc/sluice/testenv"
	"github.com/sluice-cdc/sluice/testenv/kafkatest"
	"github.com/sluice-cdc/sluice/testenv/registrytest"
	"github.com/sluice-cdc/sluice/transforms"
)

var orders = &event.Table{
	ID: event.TableID{Database: "shop", Schema: "public", Table: "orders"},
	Columns: []event.Column{
		{Name: "id", Schema: &event.Schema{Type: event.Int32}},
		{Name: "customer_id", Schema: &event.Schema{Type: event.Int64}},
		{Name: "amount", Schema: &event.Schema{Type: event.Bytes, Name: event.DecimalName, Optional: true,
			Params: map[string]string{event.DecimalScaleParam: "2", event.DecimalPrecisionParam: "10"}}},
		{Name: "note", Schema: &event.Schema{Type: event.String, Optional: true}},
		{Name: "blob", Schema: &event.Schema{Type: event.Bytes, Optional: true}},
	},
	Key: []int{0},
}

// change builds an event of orders; note "" is NULL.
func change(op event.Op, id int32, customer int64, amount, note string) *event.Event {
	e := &event.Event{Op: op, Table: orders, TsMs: 1700000000123,
		Source: event.Source{Connector: "postgresql", Name: "p", Snapshot: event.SnapshotFalse, DB: "shop", Schema: "public", Table: "orders", TsUs: 1700000000000_000}}
	var n any
	if note != "" {
		n = note
	}
	d, _ := event.ParseDecimal(amount)
	row := event.Row{id, customer, d, n, []byte{0xff, 0x00}}
	if op == event.OpDelete {
		e.Before = row
	} else {
		e.After = row
	}
	return e
}

// env is Kafka (in-process or the real one), a registry, a producer of
// orders events and an HTTP server on which sinks register their streams.
type env struct {
	t       *testing.T
	brokers []string
	reg     *registry.Client
	w       *kafka.Writer
	prefix  string
	topic   string
	router  *connectors.Routes // the daemon's SSE listener's table
	srv     *httptest.Server
	metrics *metrics.Registry
	// onServe, when set, runs once a launched sink serves its path, before
	// the sink goes on.
	onServe func()
}

func newEnv(t *testing.T, real bool) *env {
	t.Helper()
	e := &env{t: t, router: connectors.NewRoutes(), metrics: metrics.NewRegistry(), prefix: "p"}
	if real {
		e.brokers = testenv.KafkaBrokers(t)
		e.prefix = testenv.Name(t, "sse")
	} else {
		cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cluster.Close)
		e.brokers = cluster.ListenAddrs()
	}
	e.topic = e.prefix + ".public.orders"
	e.reg = registrytest.Start(t, e.brokers, "_schemas_"+e.prefix).Client
	pc := kafka.ProducerConfig{Compression: "none", Partitions: 2, ReplicationFactor: -1}
	cl := kafkatest.NewClient(t, e.brokers, pc.ClientOpts()...)
	e.w = kafka.NewWriter(cl, e.reg, pc.Topics(cl), schema.Options{Prefix: e.prefix, Connector: "postgresql"})
	// Small socket buffers, so that a client that stops reading blocks
	// the server's writes quickly.
	e.srv = httptest.NewUnstartedServer(e.router)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.srv.Listener = smallBufferListener{ln.(*net.TCPListener)}
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	return e
}

type smallBufferListener struct{ *net.TCPListener }

func (l smallBufferListener) Accept() (net.Conn, error) {
	c, err := l.AcceptTCP()
	if err != nil {
		return nil, err
	}
	c.SetWriteBuffer(16 << 10)
	return c, nil
}

// produce writes events to Kafka and waits for their acknowledgement.
func (e *env) produce(evs ...*event.Event) {
	e.t.Helper()
	ctx := context.Background()
	if err := e.w.Emit(ctx, connectors.Batch{Events: evs}); err != nil {
		e.t.Fatal(err)
	}
	if err := e.w.Flush(ctx); err != nil {
		e.t.Fatal(err)
	}
}

// start runs an SSE sink named name with the given configuration on top
// of the defaults (transforms included), and waits until its stream is up:
// its topics exist and it reads them. The returned function stops it.
func (e *env) start(name string, extra map[string]string) (stop func()) {
	e.t.Helper()
	stop, h := e.launch(name, extra)
	ready, stopped := sse.StreamState(h)
	select {
	case <-ready:
	case <-stopped:
		e.t.Fatal("sink stopped before its stream was up")
	case <-time.After(20 * time.Second):
		e.t.Fatal("stream not up within 20s")
	}
	return stop
}

// launch runs an SSE sink as start does, but returns as soon as it serves
// its path, with its handler.
func (e *env) launch(name string, extra map[string]string) (stop func(), h http.Handler) {
	e.t.Helper()
	raw := map[string]string{"connector.class": "sse", "topics": e.topic}
	for k, v := range extra {
		raw[k] = v
	}
	class, ok := connectors.Lookup("sse")
	if !ok {
		e.t.Fatal("class sse is not registered")
	}
	c, err := class.Spec.Parse(raw)
	if err != nil {
		e.t.Fatal(err)
	}
	handler := make(chan http.Handler, 1)
	sink, err := class.NewSink(c, connectors.Env{Name: name, SSE: routerFunc(func(path string, h http.Handler) (func(), error) {
		handler <- h
		remove, err := e.router.Handle(path, h)
		if err == nil && e.onServe != nil {
			e.onServe()
		}
		return remove, err
	}), Metrics: e.metrics})
	if err != nil {
		e.t.Fatal(err)
	}
	// The transforms are plugged in as the daemon does.
	chain, ps := transforms.Build(raw)
	if ps != nil {
		e.t.Fatal(ps)
	}
	if chain != nil {
		sink.(interface{ SetStage(connectors.Stage) }).SetStage(chain)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- sink.Run(ctx, connectors.Kafka{Brokers: e.brokers, Registry: e.reg})
	}()
	path := "/streams/" + name
	if p := raw["sse.path"]; p != "" {
		path = p
	}
	deadline := time.Now().Add(20 * time.Second)
	for !e.router.Has(path) {
		select {
		case err := <-done:
			e.t.Fatalf("sink stopped: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			e.t.Fatal("sink did not serve its path within 20s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				e.t.Errorf("sink Run: %v", err)
			}
		})
	}
	e.t.Cleanup(stop)
	return stop, <-handler
}

// routerFunc is a connectors.Router.
type routerFunc func(path string, h http.Handler) (func(), error)

func (f routerFunc) Handle(path string, h http.Handler) (func(), error) { return f(path, h) }

// frame is one SSE block as a client parses it, with its raw text.
type frame struct {
	id, event, data, retry, comment string
	hasID                           bool
	raw                             string
}

// client is one SSE subscriber.
type client struct {
	t      *testing.T
	resp   *http.Response
	frames chan frame
	cancel context.CancelFunc
}

// open subscribes with the given path and query and headers; it returns
// the response for statuses other than 200 (body read into the error text).
func (e *env) open(pathQuery string, header map[string]string) (*client, *http.Response) {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+pathQuery, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		e.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		cancel()
		return nil, resp
	}
	c := &client{t: e.t, resp: resp, frames: make(chan frame, 100000), cancel: cancel}
	go c.read()
	e.t.Cleanup(c.close)
	return c, resp
}

func (c *client) close() { c.cancel(); c.resp.Body.Close() }

func (c *client) read() {
	defer close(c.frames)
	br := bufio.NewReader(c.resp.Body)
	var f frame
	var raw strings.Builder
	var data []string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		raw.WriteString(line)
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			f.data = strings.Join(data, "\n")
			f.raw = raw.String()
			c.frames <- f
			f, data = frame{}, nil
			raw.Reset()
			continue
		}
		name, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch name {
		case "":
			f.comment = value
		case "id":
			f.id, f.hasID = value, true
		case "event":
			f.event = value
		case "data":
			data = append(data, value)
		case "retry":
			f.retry = value
		}
	}
}

// next returns the next frame, failing after timeout; ok is false when the
// stream ended.
func (c *client) next(timeout time.Duration) (frame, bool) {
	c.t.Helper()
	select {
	case f, ok := <-c.frames:
		return f, ok
	case <-time.After(timeout):
		c.t.Fatalf("no frame within %v", timeout)
		return frame{}, false
	}
}

// nextEvent skips heartbeats and id-only frames and returns the next event.
func (c *client) nextEvent(timeout time.Duration) frame {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		f, ok := c.next(time.Until(deadline))
		if !ok {
			c.t.Fatal("stream ended")
		}
		if f.event != "" {
			return f
		}
	}
}

// lastID reads events until none arrives for quiet, returning the events
// and the last id seen (also from id-only frames).
func (c *client) drain(quiet time.Duration) (events []frame, lastID string) {
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				return events, lastID
			}
			if f.hasID {
				lastID = f.id
			}
			if f.event != "" {
				events = append(events, f)
			}
		case <-time.After(quiet):
			return events, lastID
		}
	}
}

// wantEvent is an event as a subscriber reads it.
type wantEvent struct{ event, data string }

// expect reads len(want) events from c and compares them, then checks that
// nothing else comes; it returns the events' ids.
func (c *client) expect(want ...wantEvent) []string {
	c.t.Helper()
	var ids []string
	for i, w := range want {
		f := c.nextEvent(10 * time.Second)
		if f.raw != "id: "+f.id+"\nevent: "+w.event+"\ndata: "+w.data+"\n\n" {
			c.t.Errorf("event %d:\n%q\nwant event %s data %s", i, f.raw, w.event, w.data)
		}
		ids = append(ids, f.id)
	}
	if evs, _ := c.drain(500 * time.Millisecond); len(evs) != 0 {
		c.t.Errorf("unexpected events: %+v", evs)
	}
	return ids
}
