package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// ensureTopic creates a storage topic if it is missing (compacted, with
// partitions and replication factor rf, -1 for the broker's default),
// checks that it is compacted, and returns its number of partitions.
func ensureTopic(ctx context.Context, adm *kadm.Client, topic string, partitions int32, rf int16) (int32, error) {
	topics, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("describe storage topic %q: %w", topic, err)
	}
	if d, ok := topics[topic]; !ok || errors.Is(d.Err, kerr.UnknownTopicOrPartition) {
		compact := "compact"
		_, err := adm.CreateTopic(ctx, partitions, rf, map[string]*string{"cleanup.policy": &compact}, topic)
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return 0, fmt.Errorf("create storage topic %q (%d partitions, replication factor %d, compacted): %w", topic, partitions, rf, err)
		}
	}
	d, err := awaitTopic(ctx, adm, topic)
	if err != nil {
		return 0, err
	}
	configs, err := adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("describe configs of storage topic %q: %w", topic, err)
	}
	rc, err := configs.On(topic, nil)
	if err == nil {
		err = rc.Err
	}
	if err != nil {
		return 0, fmt.Errorf("describe configs of storage topic %q: %w", topic, err)
	}
	for _, c := range rc.Configs {
		if c.Key == "cleanup.policy" && c.MaybeValue() != "compact" {
			return 0, fmt.Errorf("storage topic %q has cleanup.policy=%q, want compact (it would lose connectors and offsets)", topic, c.MaybeValue())
		}
	}
	return int32(len(d.Partitions)), nil
}

// awaitTopic describes the topic, waiting while a just-created topic is not
// yet known to the broker answering.
func awaitTopic(ctx context.Context, adm *kadm.Client, topic string) (kadm.TopicDetail, error) {
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		topics, err := adm.ListTopics(ctx, topic)
		if err != nil {
			return kadm.TopicDetail{}, fmt.Errorf("describe storage topic %q: %w", topic, err)
		}
		d, ok := topics[topic]
		if ok && d.Err == nil && len(d.Partitions) > 0 {
			return d, nil
		}
		if ok && d.Err != nil && !errors.Is(d.Err, kerr.UnknownTopicOrPartition) && !errors.Is(d.Err, kerr.LeaderNotAvailable) {
			return d, fmt.Errorf("describe storage topic %q: %w", topic, d.Err)
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return d, fmt.Errorf("wait for storage topic %q to appear: %w", topic, ctx.Err())
		}
	}
}
