package kafka

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Topics creates missing topics with the configured partitions and
// replication factor. It is safe for concurrent use.
type Topics struct {
	admin             *kadm.Client
	partitions        int32
	replicationFactor int16 // -1: the broker's default
	configs           map[string]*string

	mu    sync.Mutex
	known map[string]bool
}

// NewTopics returns a TopicEnsurer creating topics with partitions and
// replicationFactor (-1 for the broker's default) and the given topic configs.
func NewTopics(admin *kadm.Client, partitions int32, replicationFactor int16, configs map[string]*string) *Topics {
	return &Topics{admin: admin, partitions: partitions, replicationFactor: replicationFactor, configs: configs, known: map[string]bool{}}
}

// EnsureTopic creates topic unless it exists. A topic created concurrently by
// someone else counts as existing.
func (t *Topics) EnsureTopic(ctx context.Context, topic string) error {
	t.mu.Lock()
	known := t.known[topic]
	t.mu.Unlock()
	if known {
		return nil
	}
	resp, err := t.admin.CreateTopic(ctx, t.partitions, t.replicationFactor, t.configs, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("create topic %q: %w", topic, err)
	}
	t.mu.Lock()
	t.known[topic] = true
	t.mu.Unlock()
	return nil
}
