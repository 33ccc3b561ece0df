package kafka

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"
)

// DeadLetter produces one record to topic, creating the topic first when it
// is missing, and waits until Kafka has it. A source calls it for a change
// it drops (cdc.Failures, event.processing.failure.handling.mode warn or
// skip with errors.deadletterqueue.topic.name), from its reading
// goroutine, before handing on anything after that change: so the dead
// letter is durable before any later position is acknowledged. It is safe
// to call while Emit runs on another goroutine.
func (w *Writer) DeadLetter(ctx context.Context, topic string, key, value []byte) error {
	if err := w.topics.EnsureTopic(ctx, topic); err != nil {
		return err
	}
	done := make(chan error, 1)
	w.producer.Produce(ctx, &kgo.Record{Topic: topic, Key: key, Value: value}, func(_ *kgo.Record, err error) { done <- err })
	if err := <-done; err != nil {
		return fmt.Errorf("produce to topic %q: %w", topic, err)
	}
	return nil
}
