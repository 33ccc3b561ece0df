package elasticsearch

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors/kafka"
)

// deadLetters sends skipped records, unchanged, to the dead-letter topic,
// with Kafka Connect's __connect.errors.* headers saying where each came
// from and why it was skipped.
// Safe for concurrent use.
type deadLetters struct {
	mu        sync.Mutex // guards ensured
	cl        *kgo.Client
	topic     string
	connector string
	headers   bool
	topics    *kafka.Topics
	ensured   bool
}

func newDeadLetters(cl *kgo.Client, cfg *Config, connector string) *deadLetters {
	if cfg.DLQTopic == "" {
		return nil
	}
	return &deadLetters{
		cl: cl, topic: cfg.DLQTopic, connector: connector, headers: cfg.DLQContextHeads,
		topics: kafka.NewTopics(kadm.NewClient(cl), 1, cfg.DLQReplication, nil),
	}
}

// send produces the records of rejs and waits until Kafka has them.
func (d *deadLetters) send(ctx context.Context, rejs []*rejection) error {
	if d == nil || len(rejs) == 0 {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.ensured {
		if err := d.topics.EnsureTopic(ctx, d.topic); err != nil {
			return fmt.Errorf("create dead-letter topic %q: %w", d.topic, err)
		}
		d.ensured = true
	}
	recs := make([]*kgo.Record, len(rejs))
	for i, rj := range rejs {
		r := rj.rec
		out := &kgo.Record{Topic: d.topic, Key: r.Key, Value: r.Value, Headers: append([]kgo.RecordHeader(nil), r.Headers...)}
		if d.headers {
			for _, h := range [][2]string{
				{"__connect.errors.topic", r.Topic},
				{"__connect.errors.partition", strconv.Itoa(int(r.Partition))},
				{"__connect.errors.offset", strconv.FormatInt(r.Offset, 10)},
				{"__connect.errors.connector.name", d.connector},
				{"__connect.errors.task.id", "0"},
				{"__connect.errors.stage", rj.stage},
				{"__connect.errors.exception.class.name", rj.class},
				{"__connect.errors.exception.message", rj.reason},
			} {
				out.Headers = append(out.Headers, kgo.RecordHeader{Key: h[0], Value: []byte(h[1])})
			}
		}
		recs[i] = out
	}
	if err := d.cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("send %d records to dead-letter topic %q: %w", len(recs), d.topic, err)
	}
	return nil
}
