package sse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/connectors/kafka"
)

func init() {
	connectors.Register(connectors.Class{
		Name: "sse",
		Kind: connectors.KindSink,
		Spec: Spec,
		// Subscribers may connect to any instance of a cluster and resume
		// on another with Last-Event-ID, which names Kafka offsets.
		EveryInstance: true,
		NewSink: func(c *conf.Config, env connectors.Env) (connectors.Sink, error) {
			cfg, err := ParseConfig(c, env.Name)
			if err != nil {
				return nil, err
			}
			return New(cfg, env), nil
		},
	})
}

// Sink serves one stream of change events to SSE subscribers.
type Sink struct {
	cfg   *Config
	env   connectors.Env
	log   *slog.Logger
	met   *sinkMetrics
	stage connectors.Stage // the connector's transforms; nil when it has none
}

var _ connectors.Sink = (*Sink)(nil)

// New returns a sink for cfg; env.SSE must be set when it runs.
func New(cfg *Config, env connectors.Env) *Sink {
	log := env.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.Auth.logTo(log)
	return &Sink{cfg: cfg, env: env, log: log, met: newSinkMetrics(env.Metrics, cfg.Name)}
}

// SetStage makes the sink pass every record it reads through stage (the
// connector's transforms, which the daemon plugs in) after decoding it:
// subscribers get what the stage puts out. It must be called before Run.
func (s *Sink) SetStage(stage connectors.Stage) { s.stage = stage }

// topicWait is how often the sink looks again for topics that do not exist yet.
const topicWait = time.Second

// Run reads where the configured topics end, serves the stream on the
// SSE listener, and starts reading the topics there — or, when they did
// not all exist yet, waits for them and starts at their first record, so
// that subscribers who came early miss nothing — and fans records out
// until ctx ends (then it returns ctx's error, after disconnecting every
// subscriber) or reading fails. Subscribers who come while the topics do
// not exist are held with heartbeats. It commits nothing to Kafka.
func (s *Sink) Run(ctx context.Context, k connectors.Kafka) error {
	if s.env.SSE == nil {
		return connectors.Permanent(fmt.Errorf("serve stream %q: the daemon has no SSE listener", s.cfg.Name))
	}
	opts := append(append([]kgo.Opt{}, k.Opts...), kgo.SeedBrokers(k.Brokers...))
	admCl, err := kgo.NewClient(opts...)
	if err != nil {
		return connectors.Permanent(fmt.Errorf("create Kafka client: %w", err))
	}
	defer admCl.Close()
	admin := kadm.NewClient(admCl)
	watcher, err := newCloseWatcher()
	if err != nil {
		return fmt.Errorf("serve stream %q: %w", s.cfg.Name, err)
	}
	defer watcher.close()
	st := &stream{cfg: s.cfg, admin: admin, kafkaOpts: opts, met: s.met, log: s.log, now: time.Now, perToken: map[string]int{},
		watcher: watcher, ready: make(chan struct{}), stopped: make(chan struct{})}
	defer close(st.stopped)
	// Where topics that exist already end is read before the path is
	// served, so that a subscriber who comes while the sink starts starts
	// no later than when it came. Topics missing at that first look are
	// waited for once the path is served, and read from their first
	// record, so that subscribers who came early miss nothing.
	lay, missing, err := s.lookup(ctx, admin)
	if err != nil {
		return err
	}
	var ends kadm.ListedOffsets
	if lay != nil {
		if ends, err = admin.ListEndOffsets(ctx, lay.topics...); err != nil {
			return fmt.Errorf("list end offsets of %v: %w", lay.topics, err)
		}
	}
	remove, err := s.env.SSE.Handle(s.cfg.Path, st)
	if err != nil {
		return connectors.Permanent(fmt.Errorf("serve stream %q on %s (sse.path): %w", s.cfg.Name, s.cfg.Path, err))
	}
	defer remove()
	if lay == nil {
		s.log.Info("waiting for the topics to exist", "missing", missing, "regex", s.cfg.TopicsRegex)
		if lay, err = s.resolve(ctx, admin); err != nil {
			return err
		}
		if ends, err = admin.ListStartOffsets(ctx, lay.topics...); err != nil {
			return fmt.Errorf("list start offsets of %v: %w", lay.topics, err)
		}
	}
	start := make(position, len(lay.topics))
	consume := map[string]map[int32]kgo.Offset{}
	for t, topic := range lay.topics {
		start[t] = make([]int64, lay.parts[t])
		consume[topic] = map[int32]kgo.Offset{}
		for p := range start[t] {
			o, ok := ends.Lookup(topic, int32(p))
			if !ok || o.Err != nil {
				return fmt.Errorf("list offset of %s/%d: %v", topic, p, o.Err)
			}
			start[t][p] = o.Offset
			consume[topic][int32(p)] = kgo.NewOffset().At(o.Offset)
		}
	}
	live, err := kgo.NewClient(append(append([]kgo.Opt{}, opts...), kgo.ConsumePartitions(consume), kgo.ConsumeResetOffset(kgo.NoResetOffset()))...)
	if err != nil {
		return connectors.Permanent(fmt.Errorf("create Kafka reader: %w", err))
	}
	defer live.Close()
	dec := newDecoder(kafka.NewSinkDecoder(k.Registry, s.stage, kafka.WithSinkConverters(s.cfg.Converters)), s.cfg.Format)
	h := newHub(lay, start, live, dec, s.cfg, watcher, s.log, s.met)
	st.lay, st.hub, st.dec, st.start = lay, h, dec, start.clone()
	close(st.ready)
	s.log.Info("streaming", "path", s.cfg.Path, "topics", lay.topics)
	return h.run(ctx)
}

// lookup finds the topics to read and their partition counts: nil and the
// topics missing unless every listed topic (or at least one matching
// topics.regex) exists.
func (s *Sink) lookup(ctx context.Context, admin *kadm.Client) (*layout, []string, error) {
	parts, missing, err := s.topics(ctx, admin)
	if err != nil || len(missing) > 0 || len(parts) == 0 {
		return nil, missing, err
	}
	return newLayout(parts), nil, nil
}

// resolve looks up the topics until they exist.
func (s *Sink) resolve(ctx context.Context, admin *kadm.Client) (*layout, error) {
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(topicWait):
		}
		lay, _, err := s.lookup(ctx, admin)
		if lay != nil || err != nil {
			return lay, err
		}
	}
}

func (s *Sink) topics(ctx context.Context, admin *kadm.Client) (map[string]int32, []string, error) {
	details, err := admin.ListTopics(ctx, s.cfg.Topics...)
	if err != nil && !errors.Is(err, kadm.ErrEmpty) {
		return nil, nil, fmt.Errorf("list topics: %w", err)
	}
	parts := map[string]int32{}
	for name, d := range details {
		if d.Err != nil || d.IsInternal || len(d.Partitions) == 0 {
			continue
		}
		if s.cfg.TopicsRegex != nil && !s.cfg.TopicsRegex.MatchString(name) {
			continue
		}
		parts[name] = int32(len(d.Partitions))
	}
	var missing []string
	for _, t := range s.cfg.Topics {
		if _, ok := parts[t]; !ok {
			missing = append(missing, t)
		}
	}
	sort.Strings(missing)
	return parts, missing, nil
}
