package elasticsearch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/connectors/kafka"
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
		Group: GroupID,
		Probe: probe,
		Tasks: true,
	})
}

// Sink keeps Elasticsearch indices equal to the change topics it consumes.
type Sink struct {
	cfg   *Config
	env   connectors.Env
	log   *slog.Logger
	m     *sinkMetrics
	stage connectors.Stage // the connector's transforms; nil when it has none
	// joined is the member id the sink's consumer last joined its group
	// with, for leaveGroup; set and read by Run's goroutine.
	joined string
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

// SetStage makes the sink pass every record it consumes through stage (the
// connector's transforms, which the daemon plugs in) after decoding it:
// the index and document come from what the stage puts out. It must be
// called before Run.
func (s *Sink) SetStage(stage connectors.Stage) { s.stage = stage }

// GroupID is the consumer group of a sink connector, named as Kafka Connect
// names it, so that existing tooling (and existing committed offsets) apply.
func GroupID(connector string) string { return "connect-" + connector }

// Run consumes the topics in the consumer group connect-<name> (a static
// member named by Env.GroupInstanceID, or else when the sink has a state
// directory, see instanceID), one member of the group for each task of
// the connector, and writes
// them to Elasticsearch continuously: the consumer reads and converts
// records while max.in.flight.requests lanes write bulk requests (see
// lanes), with at most max.buffered.records records between being read and
// being written, and consumption paused while that many are (when
// Elasticsearch is slow or away). Offsets are committed every second and
// on a rebalance, only up to records whose writes, and every earlier
// record's of the partition, Elasticsearch acknowledged (see tracker). A
// rebalance waits until the records in flight are written and committed.
// When ctx ends Run stops reading, lets the writes in flight finish (for
// up to drainTimeout), commits and returns ctx's error; what was not
// acknowledged is replayed after a restart, which is harmless because
// writes carry the source position as external version. When a topic is deleted and recreated, Run
// goes on with a new consumer (a Kafka client never consumes a recreated
// topic), from the group's offsets for the new topic.
func (s *Sink) Run(ctx context.Context, k connectors.Kafka) error {
	esc, err := newClient(s.cfg)
	if err != nil {
		return connectors.Permanent(err)
	}
	member := s.env.GroupInstanceID
	if member == "" {
		if member, err = instanceID(s.env.StateDir, s.env.Name); err != nil {
			return err
		}
	}
	// This task's share of the connector's gauges goes when it stops.
	defer s.m.lag.Set(0)
	defer s.m.inFlight.Set(0)
	w := &writer{es: esc, cfg: s.cfg, m: s.m, log: s.log}
	for {
		err := s.consume(ctx, k, w, member)
		if !errors.Is(err, errTopicRecreated) {
			s.leaveGroup(k, member)
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

// commitInterval is how often acknowledged offsets are committed.
const commitInterval = time.Second

// drainTimeout bounds how long a stopping sink waits for its writes in
// flight.
const drainTimeout = 5 * time.Second

var errDrainTimeout = fmt.Errorf("writes in flight did not finish within %s", drainTimeout)

// consume runs one consumer group client until ctx ends, a failure, or a
// topic is recreated (errTopicRecreated, after the records in flight were
// written and committed).
func (s *Sink) consume(ctx context.Context, k connectors.Kafka, w *writer, member string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	b := &batcher{s: s, w: w, ctx: ctx, track: newTracker(s.cfg.MaxBuffered, s.m.inFlight), lag: map[partition]int64{}}
	opts := append(slices.Clone(k.Opts),
		kgo.SeedBrokers(k.Brokers...),
		kgo.ConsumerGroup(GroupID(s.env.Name)),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.OnPartitionsRevoked(b.revoked),
		kgo.OnPartitionsLost(b.lost),
	)
	if member != "" {
		opts = append(opts, kgo.InstanceID(member))
	}
	if s.cfg.TopicsRegex != nil {
		opts = append(opts, kgo.ConsumeRegex(), kgo.ConsumeTopics(s.cfg.TopicsRegex.String()))
	} else {
		opts = append(opts, kgo.ConsumeTopics(s.cfg.Topics...))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return connectors.Permanent(fmt.Errorf("create Kafka consumer for group %q: %w", GroupID(s.env.Name), err))
	}
	b.cl, b.conv, b.dlq = cl, newConverter(kafka.NewSinkDecoder(k.Registry, s.stage, kafka.WithSinkConverters(s.cfg.Converters)), s.cfg), newDeadLetters(cl, s.cfg, s.env.Name)
	// The lanes outlive ctx by up to drainTimeout, so that a stopped sink
	// finishes the writes in flight and commits them.
	lanesCtx, stopLanes := context.WithCancel(context.WithoutCancel(ctx))
	defer stopLanes()
	b.lanes = startLanes(lanesCtx, b)
	committer := make(chan struct{})
	go func() {
		defer close(committer)
		b.commitEvery(ctx, commitInterval)
	}()
	defer func() {
		// Let the lanes write what they hold (unless one failed), stop
		// them and the committer, commit what Elasticsearch acknowledged,
		// then leave the group (whose revocation finds nothing left to
		// wait for).
		if err := b.track.waitIdle(lanesCtx, drainTimeout, errDrainTimeout); errors.Is(err, errDrainTimeout) {
			s.log.Warn("stopping with writes still in flight; they will be replayed", "error", err)
		}
		stopLanes()
		<-b.lanes.done
		cancel()
		<-committer
		b.commit()
		s.joined, _ = cl.GroupMetadata()
		cl.CloseAllowingRebalance()
	}()
	timeout := fmt.Errorf("no room for more records: the %d records read and not yet written (max.buffered.records) were not written within flush.timeout.ms (%s)", s.cfg.MaxBuffered, s.cfg.FlushTime)
	for {
		room, err := b.track.waitRoom(ctx, s.cfg.FlushTime, timeout)
		if err != nil {
			return err
		}
		recs, err := b.fetch(ctx, room)
		if errors.Is(err, errTopicRecreated) {
			if werr := b.track.waitIdle(ctx, s.cfg.FlushTime, timeout); werr != nil {
				return werr
			}
		}
		if err != nil {
			return err
		}
		if err := b.dispatch(ctx, recs); err != nil {
			return err
		}
		cl.AllowRebalance()
	}
}

// batcher reads, converts and dispatches the records of one consume, and
// commits their offsets.
type batcher struct {
	s     *Sink
	ctx   context.Context // the consume's
	cl    *kgo.Client
	w     *writer
	conv  *converter
	dlq   *deadLetters
	track *tracker
	lanes *lanes

	lagMu sync.Mutex // the rebalance callbacks run on the client's goroutine
	lag   map[partition]int64
}

// fetch polls up to n records; errors end the sink only when ctx ends or
// the client is closed, and the client when a topic was recreated (others,
// such as a leader moving, the client retries by itself).
func (b *batcher) fetch(ctx context.Context, n int) ([]*kgo.Record, error) {
	fs := b.cl.PollRecords(ctx, n)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var fatal error
	fs.EachError(func(topic string, part int32, err error) {
		switch {
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		case errors.Is(err, kgo.ErrClientClosed):
			fatal = err
		case kafka.Denied(err):
			fatal = fmt.Errorf("consume %s/%d: %w", topic, part, err)
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
	b.s.m.kafka.Fetched(fs)
	b.lagMu.Lock()
	fs.EachPartition(func(p kgo.FetchTopicPartition) {
		if n := len(p.Records); n > 0 {
			b.lag[partition{p.Topic, p.Partition}] = p.HighWatermark - p.Records[n-1].Offset - 1
		}
	})
	b.lagMu.Unlock()
	b.reportLag()
	return fs.Records(), nil
}

// reportLag sets the sink's lag: the records after the last one read, over
// the partitions it reads.
func (b *batcher) reportLag() {
	b.lagMu.Lock()
	defer b.lagMu.Unlock()
	var lag int64
	for _, l := range b.lag {
		lag += l
	}
	b.s.m.lag.Set(float64(lag))
}

// forgetLag drops the lag of partitions no longer read, from the sink's
// total and from the per-partition series.
func (b *batcher) forgetLag(parts map[string][]int32) {
	b.lagMu.Lock()
	for topic, ps := range parts {
		for _, p := range ps {
			delete(b.lag, partition{topic, p})
		}
	}
	b.lagMu.Unlock()
	b.reportLag()
	b.s.m.kafka.Forget(parts)
}

// dispatch converts records and hands each to its lane; a truncate waits
// for every earlier record to be written, since it scans the index. Records
// that cannot be written are dealt with (see reject) before dispatch
// returns.
func (b *batcher) dispatch(ctx context.Context, recs []*kgo.Record) error {
	var rejected []*rejection
	var rejTracked []*tracked
	flushRejected := func() error {
		if err := b.reject(ctx, rejected); err != nil {
			return err
		}
		b.track.done(rejTracked...)
		rejected, rejTracked = nil, nil
		return nil
	}
	for _, r := range recs {
		a, rej, err := b.conv.convert(ctx, r)
		if err != nil {
			return err
		}
		switch {
		case rej != nil:
			rejected = append(rejected, rej)
			rejTracked = append(rejTracked, b.track.add(r, false))
		case a.op == opIndex || a.op == opDelete:
			b.lanes.dispatch(&pendingAction{a: &a, t: b.track.add(r, a.op == opDelete && a.versioned)})
		case a.op == opTruncate:
			if err := flushRejected(); err != nil {
				return err
			}
			if err := b.track.waitIdle(ctx, b.s.cfg.FlushTime, fmt.Errorf("records before the truncate at %s/%d@%d were not written within flush.timeout.ms (%s)", r.Topic, r.Partition, r.Offset, b.s.cfg.FlushTime)); err != nil {
				return err
			}
			t := b.track.add(r, false)
			rej, err := b.w.truncate(ctx, &a)
			if err != nil {
				return cause(ctx, err)
			}
			if err := b.reject(ctx, rej); err != nil {
				return err
			}
			b.s.log.Info("truncated index", "index", a.index, "topic", r.Topic, "partition", r.Partition, "offset", r.Offset)
			b.track.done(t)
		default:
			b.track.done(b.track.add(r, false))
		}
	}
	return flushRejected()
}

// reject deals with records that cannot be written: it fails the sink for
// those not tolerated, logs those configured to warn, and sends them to
// the dead-letter topic when there is one.
func (b *batcher) reject(ctx context.Context, rejs []*rejection) error {
	if len(rejs) == 0 {
		return nil
	}
	if err := b.check(rejs); err != nil {
		return err
	}
	b.s.m.skipped.Add(uint64(len(rejs)))
	if err := b.dlq.send(ctx, rejs); err != nil {
		return err
	}
	if b.dlq != nil {
		b.s.m.dlq.Add(uint64(len(rejs)))
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

// cause replaces a context error by the reason the context ended.
func cause(ctx context.Context, err error) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		if c := context.Cause(ctx); c != nil {
			return c
		}
	}
	return err
}

// commitEvery commits acknowledged offsets every interval until ctx ends.
func (b *batcher) commitEvery(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			b.commit()
		}
	}
}

// commitTimeout bounds one commit.
const commitTimeout = 10 * time.Second

// commit commits, per partition, the offset after the last record that may
// be committed. A failed commit is only logged: the records are written,
// and replaying them after a restart or rebalance is harmless.
func (b *batcher) commit() {
	pts := b.track.commitPoints()
	if len(pts) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(b.ctx), commitTimeout)
	defer cancel()
	if err := b.cl.CommitRecords(ctx, pts...); err != nil {
		b.s.log.Warn("commit offsets failed", "error", err)
		return
	}
	b.track.markCommitted(pts)
}

// revoked is called when partitions are taken away (a rebalance, or
// leaving the group): it waits until the records in flight are written,
// commits, and forgets the partitions.
func (b *batcher) revoked(_ context.Context, _ *kgo.Client, parts map[string][]int32) {
	if b.ctx.Err() == nil {
		if err := b.track.waitIdle(b.ctx, b.s.cfg.FlushTime, fmt.Errorf("records in flight were not written within flush.timeout.ms (%s)", b.s.cfg.FlushTime)); err != nil {
			b.s.log.Warn("partitions revoked before the records in flight were written; they will be replayed", "error", err)
		}
	}
	b.commit()
	b.track.forget(parts)
	if b.ctx.Err() == nil { // a stopping sink keeps its last figures
		b.forgetLag(parts)
	}
}

// lost is called when partitions were lost (the group session expired):
// their offsets are no longer this member's to commit.
func (b *batcher) lost(_ context.Context, _ *kgo.Client, parts map[string][]int32) {
	b.track.forget(parts)
	b.forgetLag(parts)
}
