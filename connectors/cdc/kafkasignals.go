package cdc

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
)

// KafkaSignalConfig is the Kafka signal channel's configuration: the
// signal.kafka.* keys.
type KafkaSignalConfig struct {
	// Topic is signal.kafka.topic (default <topic.prefix>-signal); its
	// partition 0 is read, as Debezium reads it.
	Topic string
	// Brokers are signal.kafka.bootstrap.servers.
	Brokers []string
	// Group is signal.kafka.groupId: the consumer group whose committed
	// offset is where a source with no stored signal offset starts.
	Group string
	// Key is the record key a signal must carry: topic.prefix, Debezium's
	// logical name of the connector.
	Key string
}

// KafkaSignals reads signals from the signal topic, as Debezium's Kafka
// signal channel does: a record whose key is the connector's topic.prefix
// and whose value is {"id": …, "type": …, "data": {…}}. A record with
// another key is for another connector and skipped; a malformed one is
// logged and skipped. The offset after the last record a source acted on
// is saved with its offsets (see Incremental), so that a restarted source
// does not act on a signal twice; it is committed to the consumer group
// too when the channel closes.
//
// A goroutine of its own reads the topic; Take is safe from another.
type KafkaSignals struct {
	cfg    KafkaSignalConfig
	client *kgo.Client
	logger *slog.Logger
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	queue []kafkaSignal
	acted int64 // the offset of the last record taken; -1 for none
}

// kafkaSignal is a record of the signal topic: its signal (nil for a
// record skipped) and its offset.
type kafkaSignal struct {
	sig    *connectors.Signal
	offset int64
}

// OpenKafkaSignals starts reading the signal topic after offset after (the
// offset stored with the source's offsets; nil for none: then from the
// consumer group's committed offset, or from the topic's start). It
// returns nil, which takes no signals, when cfg is nil.
func OpenKafkaSignals(ctx context.Context, cfg *KafkaSignalConfig, after *int64, logger *slog.Logger) (*KafkaSignals, error) {
	if cfg == nil {
		return nil, nil
	}
	logger = logger.With("signal_topic", cfg.Topic)
	seed, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...))
	if err != nil {
		return nil, fmt.Errorf("signal.kafka.bootstrap.servers: %w", err)
	}
	start := kgo.NewOffset().AtStart()
	switch {
	case after != nil:
		start = kgo.NewOffset().At(*after + 1)
	default:
		committed, err := fetchCommitted(ctx, kadm.NewClient(seed), cfg.Group)
		if err != nil {
			seed.Close()
			return nil, fmt.Errorf("read the committed offset of signal.kafka.groupId %q from %v: %w", cfg.Group, cfg.Brokers, err)
		}
		if o, ok := committed.Lookup(cfg.Topic, 0); ok && o.Err == nil && o.At >= 0 {
			start = kgo.NewOffset().At(o.At)
		}
	}
	seed.Close()
	client, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{cfg.Topic: {0: start}}),
		kgo.FetchMaxWait(500*time.Millisecond))
	if err != nil {
		return nil, fmt.Errorf("signal.kafka.bootstrap.servers: %w", err)
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	k := &KafkaSignals{cfg: *cfg, client: client, logger: logger, cancel: cancel, done: make(chan struct{}), acted: -1}
	go k.read(rctx)
	logger.Info("reading signals from Kafka", "after_offset", after)
	return k, nil
}

// fetchCommitted reads group's committed offsets, retrying for up to 10 s
// while the broker answers with a retriable error (a group coordinator
// still being chosen for a new group).
func fetchCommitted(ctx context.Context, adm *kadm.Client, group string) (kadm.OffsetResponses, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		committed, err := adm.FetchOffsets(ctx, group)
		if err == nil || !kerr.IsRetriable(err) || time.Now().After(deadline) {
			return committed, err
		}
		select {
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// read polls the topic until ctx ends.
func (k *KafkaSignals) read(ctx context.Context) {
	defer close(k.done)
	for {
		fetches := k.client.PollFetches(ctx)
		if ctx.Err() != nil {
			return
		}
		fetches.EachError(func(topic string, _ int32, err error) {
			k.logger.Warn("reading the signal topic failed; retrying", "error", err)
		})
		var got []kafkaSignal
		fetches.EachRecord(func(r *kgo.Record) { got = append(got, k.parse(r)) })
		k.mu.Lock()
		k.queue = append(k.queue, got...)
		k.mu.Unlock()
	}
}

// signalRecord is the value of a signal record.
type signalRecord struct {
	ID   string          `json:"id"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// parse reads one record of the topic.
func (k *KafkaSignals) parse(r *kgo.Record) kafkaSignal {
	ks := kafkaSignal{offset: r.Offset}
	logger := k.logger.With("offset", r.Offset)
	if string(r.Key) != k.cfg.Key {
		logger.Info("signal skipped: its key is not this connector's topic.prefix", "key", string(r.Key), "topic_prefix", k.cfg.Key)
		return ks
	}
	var v signalRecord
	if err := json.Unmarshal(r.Value, &v); err != nil {
		logger.Error(`signal ignored: the record's value is not a JSON object {"id": …, "type": …, "data": {…}}: `+err.Error(), "value", string(r.Value))
		return ks
	}
	if v.Type == "" {
		logger.Error(`signal ignored: the record's value has no "type"`, "value", string(r.Value))
		return ks
	}
	if v.ID == "" {
		v.ID = fmt.Sprintf("kafka-%d", r.Offset)
	}
	ks.sig = &connectors.Signal{ID: v.ID, Type: v.Type, Data: v.Data}
	return ks
}

// take returns the signals read since the last call and the offset of the
// last record among them (ok false when none was read). A nil
// *KafkaSignals holds none.
func (k *KafkaSignals) take() (sigs []connectors.Signal, last int64, ok bool) {
	if k == nil {
		return nil, 0, false
	}
	k.mu.Lock()
	q := k.queue
	k.queue = nil
	k.mu.Unlock()
	for _, ks := range q {
		if ks.sig != nil {
			sigs = append(sigs, *ks.sig)
		}
		last, ok = ks.offset, true
	}
	if ok {
		k.mu.Lock()
		k.acted = last
		k.mu.Unlock()
	}
	return sigs, last, ok
}

// Close stops reading and commits the offset after the last record taken
// to the consumer group (signal.kafka.groupId). A nil *KafkaSignals does
// nothing.
func (k *KafkaSignals) Close() {
	if k == nil {
		return
	}
	k.cancel()
	<-k.done
	defer k.client.Close()
	k.mu.Lock()
	acted := k.acted
	k.mu.Unlock()
	if acted < 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var offsets kadm.Offsets
	offsets.Add(kadm.Offset{Topic: k.cfg.Topic, Partition: 0, At: acted + 1, LeaderEpoch: -1})
	if _, err := kadm.NewClient(k.client).CommitOffsets(ctx, k.cfg.Group, offsets); err != nil {
		k.logger.Warn("committing the signal topic's offset to signal.kafka.groupId failed; the offset stored with the source's offsets still holds", "group", k.cfg.Group, "error", err)
	}
}
