package elasticsearch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/conf"
)

func init() {
	connectors.Register(connectors.Class{
		Name:    "elasticsearch",
		Aliases: []string{"io.confluent.connect.elasticsearch.ElasticsearchSinkConnector"},
		Kind:    connectors.KindSink,
		Spec:    Spec,
		NewSink: func(c *conf.Config, env connectors.Env) (connectors.Sink, error) {
			cfg, err := ParseConfig(c)
			if err != nil {
				return nil, err
			}
			return New(cfg, env), nil
		},
	})
}

// Sink keeps Elasticsearch indices equal to the change topics it consumes.
type Sink struct {
	cfg *Config
	env connectors.Env
	log *slog.Logger
	m   *sinkMetrics
}

var _ connectors.Sink = (*Sink)(nil)

// New returns a sink for cfg; nothing is contacted until Run.
func New(cfg *Config, env connectors.Env) *Sink {
	log := env.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Sink{cfg: cfg, env: env, log: log, m: newSinkMetrics(env.Metrics, env.Name)}
}

// GroupID is the consumer group of a sink connector, named as Kafka Connect
// names it, so that existing tooling (and existing committed offsets) apply.
func GroupID(connector string) string { return "connect-" + connector }

// Run consumes the topics in the consumer group connect-<name> and writes
// them to Elasticsearch, batch after batch: poll up to max.buffered.records
// records, write them (retrying while Elasticsearch is unavailable, without
// reading more), send skipped records to the dead-letter topic, and only
// then commit the batch's offsets. Rebalances wait for the batch in hand to
// be committed. Run returns ctx's error when ctx ends, leaving the
// uncommitted batch to be replayed; replays are harmless because writes
// carry the source position as external version. When a topic is deleted
// and recreated, Run goes on with a new consumer (a Kafka client never
// consumes a recreated topic), from the group's offsets for the new topic.
func (s *Sink) Run(ctx context.Context, k connectors.Kafka) error {
	esc, err := newClient(s.cfg)
	if err != nil {
		return connectors.Permanent(err)
	}
	w := &writer{es: esc, cfg: s.cfg, m: s.m, log: s.log}
	for {
		err := s.consume(ctx, k, w)
		if !errors.Is(err, errTopicRecreated) {
			return err
		}
		s.log.Warn("topic deleted or recreated; consuming with a new client", "error", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// errTopicRecreated ends a consumer that fetched from a topic that no longer
// exists under the id it knew.
var errTopicRecreated = errors.New("topic deleted or recreated")

// consume runs one consumer group client until ctx ends, a failure, or a
// topic is recreated (errTopicRecreated, after the batch in hand was
// committed).
func (s *Sink) consume(ctx context.Context, k connectors.Kafka, w *writer) error {
	opts := append(slices.Clone(k.Opts),
		kgo.SeedBrokers(k.Brokers...),
		kgo.ConsumerGroup(GroupID(s.env.Name)),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	if s.cfg.TopicsRegex != nil {
		opts = append(opts, kgo.ConsumeRegex(), kgo.ConsumeTopics(s.cfg.TopicsRegex.String()))
	} else {
		opts = append(opts, kgo.ConsumeTopics(s.cfg.Topics...))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return connectors.Permanent(fmt.Errorf("create Kafka consumer for group %q: %w", GroupID(s.env.Name), err))
	}
	// Closing leaves the group, which needs rebalances allowed even when a
	// batch was polled and not finished.
	defer cl.CloseAllowingRebalance()
	b := &batcher{s: s, cl: cl, w: w, conv: newConverter(k.Registry, s.cfg), dlq: newDeadLetters(cl, s.cfg, s.env.Name), lag: map[partition]int64{}}
	for {
		recs, err := b.poll(ctx)
		if err != nil {
			return err
		}
		if len(recs) > 0 {
			if err := b.process(ctx, recs); err != nil {
				return err
			}
		}
		cl.AllowRebalance()
	}
}

// batcher runs the consume-write-commit loop of one Run.
type batcher struct {
	s    *Sink
	cl   *kgo.Client
	w    *writer
	conv *converter
	dlq  *deadLetters
	lag  map[partition]int64
}

// poll returns the next batch: what the client has, then more for up to
// linger.ms while fewer than a full round of bulk requests are at hand.
func (b *batcher) poll(ctx context.Context) ([]*kgo.Record, error) {
	cfg := b.s.cfg
	recs, err := b.fetch(ctx, ctx, cfg.MaxBuffered)
	if err != nil || cfg.Linger == 0 {
		return recs, err
	}
	lctx, cancel := context.WithTimeout(ctx, cfg.Linger)
	defer cancel()
	for len(recs) < cfg.MaxBuffered && len(recs) < cfg.BatchSize*cfg.InFlight && lctx.Err() == nil {
		more, err := b.fetch(ctx, lctx, cfg.MaxBuffered-len(recs))
		if err != nil {
			return nil, err
		}
		recs = append(recs, more...)
	}
	return recs, nil
}

// fetch polls once with pctx; errors end the sink only when ctx ends or
// the client is closed, and the client when a topic was recreated (others,
// such as a leader moving, the client retries by itself).
func (b *batcher) fetch(ctx, pctx context.Context, n int) ([]*kgo.Record, error) {
	fs := b.cl.PollRecords(pctx, n)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var fatal error
	fs.EachError(func(topic string, part int32, err error) {
		switch {
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		case errors.Is(err, kgo.ErrClientClosed):
			fatal = err
		case errors.Is(err, kerr.UnknownTopicID):
			// The client holds the id of a deleted topic and never adopts
			// the id of one recreated under the same name.
			fatal = fmt.Errorf("consume %s/%d: %w: %w", topic, part, errTopicRecreated, err)
		default:
			b.s.log.Warn("consume failed; the client retries", "topic", topic, "partition", part, "error", err)
		}
	})
	if fatal != nil {
		return nil, fatal
	}
	fs.EachPartition(func(p kgo.FetchTopicPartition) {
		if n := len(p.Records); n > 0 {
			b.lag[partition{p.Topic, p.Partition}] = p.HighWatermark - p.Records[n-1].Offset - 1
		}
	})
	var lag int64
	for _, l := range b.lag {
		lag += l
	}
	b.s.m.lag.Set(float64(lag))
	return fs.Records(), nil
}

// process writes a batch and commits its offsets once every record of it
// is written, deliberately skipped, or in the dead-letter topic.
func (b *batcher) process(ctx context.Context, recs []*kgo.Record) error {
	cfg := b.s.cfg
	ctx, cancel := context.WithTimeoutCause(ctx, cfg.FlushTime, fmt.Errorf("writing a batch of %d records took longer than flush.timeout.ms (%s)", len(recs), cfg.FlushTime))
	defer cancel()
	acts := make([]*action, 0, len(recs))
	var skipped []*rejection
	for _, r := range recs {
		a, rej, err := b.conv.convert(ctx, r)
		if err != nil {
			return cause(ctx, err)
		}
		if rej != nil {
			skipped = append(skipped, rej)
			continue
		}
		if a.op != opSkip {
			acts = append(acts, &a)
		}
	}
	if err := b.check(skipped); err != nil {
		return err
	}
	start := 0
	var rejected []*rejection
	for i, a := range acts {
		if a.op != opTruncate {
			continue
		}
		rej, err := b.w.write(ctx, acts[start:i])
		if err != nil {
			return cause(ctx, err)
		}
		rejected = append(rejected, rej...)
		if rej, err = b.w.truncate(ctx, a); err != nil {
			return cause(ctx, err)
		}
		rejected = append(rejected, rej...)
		b.s.log.Info("truncated index", "index", a.index, "topic", a.rec.Topic, "partition", a.rec.Partition, "offset", a.rec.Offset)
		start = i + 1
	}
	rej, err := b.w.write(ctx, acts[start:])
	if err != nil {
		return cause(ctx, err)
	}
	rejected = append(rejected, rej...)
	if err := b.check(rejected); err != nil {
		return err
	}
	skipped = append(skipped, rejected...)
	b.s.m.skipped.Add(uint64(len(skipped)))
	if err := b.dlq.send(ctx, skipped); err != nil {
		return cause(ctx, err)
	}
	if b.dlq != nil {
		b.s.m.dlq.Add(uint64(len(skipped)))
	}
	if pts := b.commitPoints(recs); len(pts) > 0 {
		if err := b.cl.CommitRecords(ctx, pts...); err != nil {
			// The batch is written; its records are replayed after a restart
			// or rebalance, which the external versions make harmless.
			b.s.log.Warn("commit offsets failed", "error", err)
		}
	}
	return nil
}

// check fails the sink for rejections that are not tolerated and logs the
// ones configured to warn.
func (b *batcher) check(rejs []*rejection) error {
	cfg := b.s.cfg
	for _, rj := range rejs {
		switch {
		case rj.malformed && cfg.OnMalformed == "fail":
			return connectors.Permanent(fmt.Errorf("%w (behavior.on.malformed.documents=fail)", rj))
		case !rj.malformed && !cfg.TolerateAll:
			return connectors.Permanent(fmt.Errorf("%w (errors.tolerance=none)", rj))
		case !rj.malformed || cfg.OnMalformed == "warn":
			b.s.log.Warn("record skipped", "topic", rj.rec.Topic, "partition", rj.rec.Partition, "offset", rj.rec.Offset, "error", rj.class, "reason", rj.reason)
		}
	}
	return nil
}

// cause replaces a context error by the reason the context ended (the
// flush timeout).
func cause(ctx context.Context, err error) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		if c := context.Cause(ctx); c != nil {
			return c
		}
	}
	return err
}

// commitPoints returns, for each partition in recs, the last record whose
// offset can be committed: the partition's last record, except that a
// versioned delete ending it is held back (with nothing to commit when it
// is the partition's only record). A consumer starting from the committed
// offset then reads the delete before the tombstone that follows it; a
// tombstone read first would be an unversioned delete, removing a document
// that a later event recreated, whose replay Elasticsearch then refuses as
// stale. Held back, a delete not followed by a tombstone
// (tombstones.on.delete=false) stays uncommitted until the next record.
func (b *batcher) commitPoints(recs []*kgo.Record) []*kgo.Record {
	type ends struct{ last, prev *kgo.Record }
	byPart := map[partition]*ends{}
	var order []partition
	for _, r := range recs {
		p := partition{r.Topic, r.Partition}
		e := byPart[p]
		if e == nil {
			e = &ends{}
			byPart[p] = e
			order = append(order, p)
		}
		e.prev, e.last = e.last, r
	}
	var out []*kgo.Record
	for _, p := range order {
		e := byPart[p]
		if d, ok := b.conv.lastDelete[p]; ok && d.offset == e.last.Offset {
			if e.prev != nil {
				out = append(out, e.prev)
			}
			continue
		}
		out = append(out, e.last)
	}
	return out
}
