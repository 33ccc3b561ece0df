package sse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// hub is the stream's one live reader. It reads every partition of the
// layout from the live end, decodes and renders each record once, and hands
// the frame's bytes to every matching subscriber without ever blocking on
// one: a subscriber whose buffer is full is dropped.
type hub struct {
	lay       *layout
	dec       *decoder
	cl        *kgo.Client
	eventName string
	log       *slog.Logger
	met       *sinkMetrics

	mu     sync.Mutex
	pos    position // next offset per partition, after every record handed out
	subs   map[*subscriber]struct{}
	closed bool
}

// subscriber is one connected client as the hub sees it.
type subscriber struct {
	filter *Filter
	ch     chan []byte   // frames, in order
	done   chan struct{} // closed when the hub drops the subscriber
	// kick, when set, unblocks a write in progress; the hub calls it when
	// it drops the subscriber, under its lock, so it must not block.
	kick func()
}

// errClosed is returned by subscribe once the hub has stopped.
var errClosed = errors.New("the stream is shutting down")

func newHub(lay *layout, start position, cl *kgo.Client, dec *decoder, eventName string, log *slog.Logger, met *sinkMetrics) *hub {
	return &hub{lay: lay, dec: dec, cl: cl, eventName: eventName, log: log, met: met, pos: start, subs: map[*subscriber]struct{}{}}
}

// subscribe adds a subscriber with the given filter and buffer size. It
// returns the hub's position at that instant: every frame the subscriber
// receives is of a record at or after it, and every matching record from it
// on is either received or the subscriber is dropped.
func (h *hub) subscribe(f *Filter, buffer int, kick func()) (*subscriber, position, error) {
	s := &subscriber{filter: f, ch: make(chan []byte, buffer), done: make(chan struct{}), kick: kick}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, nil, errClosed
	}
	h.subs[s] = struct{}{}
	h.met.subscribers.Set(float64(len(h.subs)))
	return s, h.pos.clone(), nil
}

// unsubscribe removes s for reason, if the hub has not dropped it already.
func (h *hub) unsubscribe(s *subscriber, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.drop(s, reason)
}

// drop removes s; h.mu is held.
func (h *hub) drop(s *subscriber, reason string) {
	if _, ok := h.subs[s]; !ok {
		return
	}
	delete(h.subs, s)
	close(s.done)
	if s.kick != nil && reason != reasonClient {
		s.kick()
	}
	h.met.subscribers.Set(float64(len(h.subs)))
	h.met.disconnected(reason)
}

// run reads until ctx ends or reading fails, then drops every subscriber.
// It is called once, from one goroutine.
func (h *hub) run(ctx context.Context) error {
	defer h.close()
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
		items = items[:0]
		var failed error
		fetches.EachRecord(func(r *kgo.Record) {
			if failed != nil {
				return
			}
			m, err := h.dec.decode(ctx, r)
			var bad *badRecordError
			switch {
			case errors.As(err, &bad):
				h.met.badRecords.Add(1)
				h.log.Warn("skipping a record that cannot be decoded", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "error", err)
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

// publish advances the position over n records and fans out the frames of
// those that carry a message.
func (h *hub) publish(n int, get func(int) (*kgo.Record, *message)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := 0; i < n; i++ {
		r, m := get(i)
		t, ok := h.lay.index[r.Topic]
		if !ok || int(r.Partition) >= len(h.pos[t]) {
			continue
		}
		h.pos[t][r.Partition] = r.Offset + 1
		h.met.records.Add(1)
		if m == nil {
			continue
		}
		frame := appendFrame(nil, h.lay.encode(h.pos), h.name(m), m.data)
		for s := range h.subs {
			if !s.filter.match(m) {
				continue
			}
			select {
			case s.ch <- frame:
			default:
				h.drop(s, reasonOverflow)
			}
		}
	}
}

func (h *hub) name(m *message) string {
	if h.eventName != "" {
		return h.eventName
	}
	return m.op.String()
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
