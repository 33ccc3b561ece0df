package sse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// hub is the stream's one live reader. It reads every partition of the
// layout from the live end, decodes and renders each record once, and
// queues the frame's bytes for every matching subscriber without ever
// blocking on one: a subscriber whose queue is full is dropped. It also
// sends the heartbeats of the whole stream from one ticker.
type hub struct {
	lay       *layout
	dec       *decoder
	cl        *kgo.Client
	eventName string
	heartbeat time.Duration
	watcher   *closeWatcher
	log       *slog.Logger
	met       *sinkMetrics

	mu     sync.Mutex
	pos    position // next offset per partition, after every record handed out
	subs   map[*subscriber]struct{}
	closed bool

	// out holds the frames of one publish, and ready the subscribers it
	// must start a writer for; they are used by run's goroutine only.
	out   []outFrame
	ready []*subscriber
}

// errClosed is returned by subscribe once the hub has stopped.
var errClosed = errors.New("the stream is shutting down")

func newHub(lay *layout, start position, cl *kgo.Client, dec *decoder, cfg *Config, watcher *closeWatcher, log *slog.Logger, met *sinkMetrics) *hub {
	return &hub{lay: lay, dec: dec, cl: cl, eventName: cfg.EventName, heartbeat: cfg.Heartbeat, watcher: watcher,
		log: log, met: met, pos: start, subs: map[*subscriber]struct{}{}}
}

// subscribe adds a subscriber with the given filter and buffer size; the
// handler holds its writer role until it calls flush. release is called
// once, when the subscriber is dropped; when life is positive the
// subscriber is dropped (reason expired) after it. subscribe returns the
// hub's position at that instant: every frame the subscriber receives is
// of a record at or after it, and every matching record from it on is
// either received or the subscriber is dropped.
func (h *hub) subscribe(f *Filter, buffer int, release func(), life time.Duration) (*subscriber, position, error) {
	s := &subscriber{hub: h, filter: f, limit: buffer, release: release, writing: true}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, nil, errClosed
	}
	h.subs[s] = struct{}{}
	h.met.subscribers.Set(float64(len(h.subs)))
	if life > 0 {
		s.expiry = time.AfterFunc(life, func() { h.unsubscribe(s, reasonExpired) })
	}
	return s, h.pos.clone(), nil
}

// unsubscribe removes s for reason, if the hub has not dropped it already.
func (h *hub) unsubscribe(s *subscriber, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.drop(s, reason)
}

// drop removes s, counts why, ends its connection and releases its
// connection slot; h.mu is held.
func (h *hub) drop(s *subscriber, reason string) {
	if _, ok := h.subs[s]; !ok {
		return
	}
	delete(h.subs, s)
	h.met.subscribers.Set(float64(len(h.subs)))
	h.met.disconnected(reason)
	if s.expiry != nil {
		s.expiry.Stop()
	}
	s.end()
	s.release()
}

// run reads until ctx ends or reading fails, then drops every subscriber.
// It sends heartbeats meanwhile. It is called once, from one goroutine.
func (h *hub) run(ctx context.Context) error {
	beatCtx, stopBeats := context.WithCancel(ctx)
	var beats sync.WaitGroup
	beats.Go(func() { h.heartbeats(beatCtx) })
	defer func() {
		h.close()
		stopBeats()
		beats.Wait()
	}()
	type item struct {
		r *kgo.Record
		m *message
	}
	var items []item
	for {
		fetches := h.cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := fetchError(fetches); err != nil {
			return err
		}
		h.met.kafka.Fetched(fetches)
		items = items[:0]
		var failed error
		fetches.EachRecord(func(r *kgo.Record) {
			if failed != nil {
				return
			}
			m, err := h.dec.decode(ctx, r)
			switch {
			case skipped(err):
				h.met.badRecords.Add(1)
				h.log.Warn("skipping a record that cannot be decoded or transformed", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "error", err)
			case err != nil:
				failed = err
				return
			}
			items = append(items, item{r, m})
		})
		h.publish(len(items), func(i int) (*kgo.Record, *message) { return items[i].r, items[i].m })
		if failed != nil {
			return failed
		}
	}
}

// publish advances the position over n records and queues the frames of
// those that carry a message. Each subscriber gets all of its frames in
// one step, and writers start once every frame is queued, so that a
// subscriber gets them in one write.
func (h *hub) publish(n int, get func(int) (*kgo.Record, *message)) {
	h.mu.Lock()
	for i := 0; i < n; i++ {
		r, m := get(i)
		t, ok := h.lay.index[r.Topic]
		if !ok || int(r.Partition) >= len(h.pos[t]) {
			continue
		}
		h.pos[t][r.Partition] = r.Offset + 1
		h.met.records.Add(1)
		if m != nil {
			h.met.kafka.Written(1)
			h.out = append(h.out, outFrame{m, appendFrame(nil, h.lay.encode(h.pos), h.name(m), m.data)})
		}
	}
	if len(h.out) > 0 {
		for s := range h.subs {
			switch s.push(h.out) {
			case pushStart:
				h.ready = append(h.ready, s)
			case pushOverflow:
				h.drop(s, reasonOverflow)
			}
		}
	}
	h.mu.Unlock()
	clear(h.out)
	h.out = h.out[:0]
	for _, s := range h.ready {
		s.start()
	}
	clear(h.ready)
	h.ready = h.ready[:0]
}

// outFrame is the frame of one message, in publish.
type outFrame struct {
	m     *message
	frame []byte
}

// name is the event name of m: event.name, or its operation; none (the
// client's default, "message") for a value without an operation.
func (h *hub) name(m *message) string {
	switch {
	case h.eventName != "":
		return h.eventName
	case m.op == 0:
		return ""
	}
	return m.op.String()
}

// heartbeats ticks every half heartbeat interval until ctx ends; a
// subscriber that was written nothing for two ticks in a row gets a
// heartbeat, so that no connection stays silent longer than the interval.
func (h *hub) heartbeats(ctx context.Context) {
	t := time.NewTicker(h.heartbeat / 2)
	defer t.Stop()
	var subs []*subscriber
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		h.mu.Lock()
		for s := range h.subs {
			subs = append(subs, s)
		}
		h.mu.Unlock()
		for _, s := range subs {
			s.tick()
		}
		clear(subs)
		subs = subs[:0]
	}
}

// close drops every subscriber and refuses new ones.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		h.drop(s, reasonShutdown)
	}
}

// fetchError returns the first error of fetches that is not a
// cancellation, naming the partition.
func fetchError(fetches kgo.Fetches) error {
	var first error
	fetches.EachError(func(topic string, p int32, err error) {
		if first == nil && !errors.Is(err, context.Canceled) {
			first = fmt.Errorf("fetch %s/%d: %w", topic, p, err)
		}
	})
	return first
}
