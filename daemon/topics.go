package daemon

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/sluice-cdc/sluice/daemon/store"
)

// topicSet is a connector's active topics (Kafka Connect's KIP-558): the
// topics it produced to or consumed from since they were last reset. It is
// read without locking on every batch, and changed, rarely, under mu.
type topicSet struct {
	mu   sync.Mutex // serializes changes and their writes to the store
	seen atomic.Pointer[map[string]bool]
}

func (t *topicSet) load(topics []string) {
	m := make(map[string]bool, len(topics))
	for _, tp := range topics {
		m[tp] = true
	}
	t.seen.Store(&m)
}

func (t *topicSet) has(topic string) bool {
	m := t.seen.Load()
	return m != nil && (*m)[topic]
}

func (t *topicSet) list() []string {
	out := []string{}
	if m := t.seen.Load(); m != nil {
		out = append(out, slices.Sorted(maps.Keys(*m))...)
	}
	return out
}

// Topics returns the topics a connector produced to (a source) or consumed
// from (a sink) since they were last reset, sorted.
func (s *Supervisor) Topics(name string) ([]string, error) {
	s.mu.Lock()
	c, ok := s.conns[name]
	s.mu.Unlock()
	if !ok {
		return nil, notFound(name)
	}
	return c.topics.list(), nil
}

// ResetTopics forgets a connector's active topics; a running connector
// records each again as it next uses it.
func (s *Supervisor) ResetTopics(ctx context.Context, name string) error {
	s.mu.Lock()
	c, ok := s.conns[name]
	s.mu.Unlock()
	if !ok {
		return notFound(name)
	}
	c.topics.mu.Lock()
	defer c.topics.mu.Unlock()
	if err := s.opts.Store.SetTopics(ctx, name, nil); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound(name)
		}
		return fmt.Errorf("reset the active topics of connector %s: %w", name, err)
	}
	c.topics.load(nil)
	s.log.Info("connector active topics reset", "connector", name)
	return nil
}

// recordTopic adds topic to the connector's active topics and stores them,
// unless it is there already. It is Env.RecordTopic: called by the runtime
// for each batch, from its clients' goroutines.
func (s *Supervisor) recordTopic(name string, c *conn, topic string) {
	if c.topics.has(topic) {
		return
	}
	c.topics.mu.Lock()
	defer c.topics.mu.Unlock()
	if c.topics.has(topic) {
		return
	}
	s.mu.Lock()
	deleted := c.deleted
	s.mu.Unlock()
	if deleted {
		return
	}
	next := append(c.topics.list(), topic)
	slices.Sort(next)
	if err := s.opts.Store.SetTopics(context.Background(), name, next); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Warn("could not store the connector's active topics; they are kept until the daemon stops", "connector", name, "topic", topic, "error", err.Error())
	}
	c.topics.load(next)
}
