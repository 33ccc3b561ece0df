package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/singleflight"
)

// store is the registry's Kafka log: one partition of a compacted topic that every registry
// process sharing the topic reads from the start and writes to.
//
// How processes agree on ids and versions, without a leader:
//
//   - The log holds commands, not results. A command says what a process wants done
//     ("register this normalized schema under subject s", "soft-delete version 3 of s", "set
//     the level of s to FULL"). Ids and version numbers are never written by the proposer.
//   - Every process applies every command in log order with the same pure function
//     (state.apply). A new schema gets id max+1 and a new version gets last+1 at the moment
//     its command is applied, so the order of records in the partition — not which process
//     answered first — decides every id and version, and all readers compute the same ones.
//   - A write produces its command (acks=all, idempotent producer) and then waits until this
//     process's own reader has applied it, and answers with the outcome of that application.
//   - Compatibility is checked by the proposer before it writes, against the subject as it
//     saw it. The REGISTER command carries that basis (the subject's revision and the
//     effective compatibility level). If another command changed the subject or its level
//     first — two processes registering under one subject at once — the later command no
//     longer matches its basis, and every reader resolves it the same way: as a conflict that
//     changes nothing. Its proposer, whose reader has by then applied the earlier command,
//     checks again against the new state and proposes again. A register of a schema that is
//     already live under the subject resolves to the existing id and version instead.
//   - Record keys are unique per command, so compaction never drops a command and replaying
//     the log after a restart rebuilds exactly the same state. Hard deletes are commands too,
//     not tombstones; the topic is compacted so that time- or size-based retention can never
//     erase history that ids depend on.
//
// Readiness: the reader consumes from the start; the registry serves once it has applied
// every record below the partition's end offset as it was when the registry started.
type store struct {
	cl    *kgo.Client
	adm   *kadm.Client
	topic string
	log   *slog.Logger
	apply func(command) outcome

	mu       sync.Mutex
	pending  map[string]chan outcome // proposals of this process awaiting their outcome, by nonce
	position int64                   // offset after the last applied record
	advanced chan struct{}           // closed and replaced whenever position moves

	syncs singleflight.Group
}

func newStore(cl *kgo.Client, topic string, log *slog.Logger, apply func(command) outcome) *store {
	return &store{
		cl:       cl,
		adm:      kadm.NewClient(cl),
		topic:    topic,
		log:      log,
		apply:    apply,
		pending:  map[string]chan outcome{},
		advanced: make(chan struct{}),
	}
}

// ensureTopic creates the topic if it is missing (one partition, cleanup.policy=compact,
// replication factor rf) and checks that an existing topic has that shape.
func ensureTopic(ctx context.Context, adm *kadm.Client, topic string, rf int16) error {
	topics, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return fmt.Errorf("describe schema topic %q: %w", topic, err)
	}
	if d, ok := topics[topic]; !ok || errors.Is(d.Err, kerr.UnknownTopicOrPartition) {
		if rf <= 0 {
			brokers, err := adm.ListBrokers(ctx)
			if err != nil {
				return fmt.Errorf("list brokers to size schema topic %q: %w", topic, err)
			}
			rf = int16(min(3, len(brokers)))
		}
		compact := "compact"
		_, err := adm.CreateTopic(ctx, 1, rf, map[string]*string{"cleanup.policy": &compact}, topic)
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("create schema topic %q (1 partition, replication factor %d, compacted): %w", topic, rf, err)
		}
	}
	d, err := awaitTopic(ctx, adm, topic)
	if err != nil {
		return err
	}
	if n := len(d.Partitions); n != 1 {
		return fmt.Errorf("schema topic %q has %d partitions, want exactly 1", topic, n)
	}
	configs, err := adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return fmt.Errorf("describe configs of schema topic %q: %w", topic, err)
	}
	rc, err := configs.On(topic, nil)
	if err == nil {
		err = rc.Err
	}
	if err != nil {
		return fmt.Errorf("describe configs of schema topic %q: %w", topic, err)
	}
	for _, c := range rc.Configs {
		if c.Key == "cleanup.policy" && c.MaybeValue() != "compact" {
			return fmt.Errorf("schema topic %q has cleanup.policy=%q, want compact", topic, c.MaybeValue())
		}
	}
	return nil
}

// awaitTopic describes the topic, waiting while a just-created topic is not yet known to the
// broker answering the metadata request.
func awaitTopic(ctx context.Context, adm *kadm.Client, topic string) (kadm.TopicDetail, error) {
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		topics, err := adm.ListTopics(ctx, topic)
		if err != nil {
			return kadm.TopicDetail{}, fmt.Errorf("describe schema topic %q: %w", topic, err)
		}
		d, ok := topics[topic]
		if ok && d.Err == nil {
			return d, nil
		}
		if ok && !errors.Is(d.Err, kerr.UnknownTopicOrPartition) && !errors.Is(d.Err, kerr.LeaderNotAvailable) {
			return d, fmt.Errorf("describe schema topic %q: %w", topic, d.Err)
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return d, fmt.Errorf("wait for schema topic %q to appear: %w", topic, ctx.Err())
		}
	}
}

// run applies records until ctx ends. It is the only goroutine that changes the state.
func (s *store) run(ctx context.Context) {
	for {
		fetches := s.cl.PollFetches(ctx)
		if ctx.Err() != nil || fetches.IsClientClosed() {
			return
		}
		fetches.EachError(func(topic string, partition int32, err error) {
			s.log.Warn("read schema topic", "topic", topic, "partition", partition, "error", err)
		})
		fetches.EachPartition(func(p kgo.FetchTopicPartition) {
			if len(p.Records) == 0 {
				return
			}
			for _, r := range p.Records {
				s.consume(r)
			}
			s.mu.Lock()
			s.position = p.Records[len(p.Records)-1].Offset + 1
			close(s.advanced)
			s.advanced = make(chan struct{})
			s.mu.Unlock()
		})
	}
}

func (s *store) consume(r *kgo.Record) {
	if r.Value == nil {
		return
	}
	nonce, c, err := decodeCommand(r.Key, r.Value)
	if err != nil {
		s.log.Warn("skip record in schema topic", "topic", s.topic, "offset", r.Offset, "error", err)
		return
	}
	out := s.apply(c)
	s.mu.Lock()
	if ch, ok := s.pending[nonce]; ok {
		ch <- out
		delete(s.pending, nonce)
	}
	s.mu.Unlock()
}

// propose writes a command and returns the outcome of applying it, once this process's reader
// has applied it. Safe for concurrent use; blocks until then or until ctx ends.
func (s *store) propose(ctx context.Context, c command) (outcome, *apiError) {
	nonce, err := newNonce()
	if err != nil {
		return outcome{}, errStore("%v", err)
	}
	key, value, err := encodeCommand(nonce, c)
	if err != nil {
		return outcome{}, errStore("%v", err)
	}
	ch := make(chan outcome, 1)
	s.mu.Lock()
	s.pending[nonce] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pending, nonce)
		s.mu.Unlock()
	}()
	rec := &kgo.Record{Topic: s.topic, Partition: 0, Key: key, Value: value}
	if err := s.cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
		if ctx.Err() != nil {
			return outcome{}, errTimeout("Write of %s for subject '%s' to topic '%s' timed out", c.Op, c.Subject, s.topic)
		}
		return outcome{}, errStore("Write of %s for subject '%s' to topic '%s' failed: %v", c.Op, c.Subject, s.topic, err)
	}
	select {
	case out := <-ch:
		return out, nil
	case <-ctx.Done():
		return outcome{}, errTimeout("Timed out waiting for %s of subject '%s' to be read back from topic '%s' at offset %d",
			c.Op, c.Subject, s.topic, rec.Offset)
	}
}

// endOffset returns the partition's current end offset (high watermark).
func (s *store) endOffset(ctx context.Context) (int64, error) {
	offsets, err := s.adm.ListEndOffsets(ctx, s.topic)
	if err != nil {
		return 0, fmt.Errorf("list end offset of schema topic %q: %w", s.topic, err)
	}
	o, ok := offsets.Lookup(s.topic, 0)
	if !ok {
		return 0, fmt.Errorf("list end offset of schema topic %q: partition 0 missing", s.topic)
	}
	if o.Err != nil {
		return 0, fmt.Errorf("list end offset of schema topic %q: %w", s.topic, o.Err)
	}
	return o.Offset, nil
}

// catchUp blocks until the reader has applied every record written before the call.
// Concurrent callers share one end-offset request.
func (s *store) catchUp(ctx context.Context) error {
	v, err, _ := s.syncs.Do("end", func() (any, error) { return s.endOffset(ctx) })
	if err != nil {
		return err
	}
	target := v.(int64)
	for {
		s.mu.Lock()
		pos, advanced := s.position, s.advanced
		s.mu.Unlock()
		if pos >= target {
			return nil
		}
		select {
		case <-advanced:
		case <-ctx.Done():
			return fmt.Errorf("read schema topic %q up to offset %d (at %d): %w", s.topic, target, pos, ctx.Err())
		}
	}
}
