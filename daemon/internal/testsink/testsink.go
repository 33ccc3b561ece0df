// Package testsink registers the connector class "sluice-test-sink": a
// sink that consumes nothing, for the REST API's tests of what is a sink's
// own (consumer group offsets, active topics, target probes). Only tests
// import it.
package testsink

import (
	"context"
	"errors"
	"fmt"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/daemon"
	"github.com/sluice-cdc/sluice/daemon/internal/testclass"
)

// Name is the class name.
const Name = "sluice-test-sink"

// Spec declares the class's keys.
var Spec = &conf.Spec{
	Keys: []conf.Key{
		{Name: "connector.class", Type: conf.Class, Required: true, Doc: Name},
		{Name: "topics", Type: conf.List, Required: true, Doc: "The topics the sink records as consumed from when it starts."},
		{Name: "probe.error", Type: conf.String, Doc: "When set, the class's Probe fails with this error."},
		{Name: "tasks.max", Type: conf.Int, Default: "1", Min: 1, Max: 16, Doc: "How many tasks the sink runs."},
		{Name: "fail.task", Type: conf.Int, Default: "-1", Min: -1, Max: 15, Doc: "When set, this task fails permanently as it starts."},
	},
}

func init() {
	connectors.Register(connectors.Class{
		Name: Name, Kind: connectors.KindSink, Spec: Spec,
		NewSink: func(cfg *conf.Config, env connectors.Env) (connectors.Sink, error) {
			return &Sink{cfg: cfg, env: env}, nil
		},
		Group: func(connector string) string { return "connect-" + connector },
		Tasks: true,
		Probe: func(ctx context.Context, cfg *conf.Config) error {
			if msg := cfg.String("probe.error"); msg != "" {
				return errors.New(msg)
			}
			return nil
		},
	})
}

// Sink records its topics as used, then waits until stopped.
type Sink struct {
	cfg *conf.Config
	env connectors.Env
}

var _ connectors.Sink = (*Sink)(nil)

// Run records the configured topics, as the runtime does for each batch
// fetched, and waits for ctx to end; the task fail.task names fails.
func (s *Sink) Run(ctx context.Context, k connectors.Kafka) error {
	if s.cfg.Int("fail.task") == int64(s.env.Task) {
		return connectors.Permanent(fmt.Errorf("task %d fails, as fail.task says", s.env.Task))
	}
	for _, t := range s.cfg.List("topics") {
		if s.env.RecordTopic != nil {
			s.env.RecordTopic(t)
		}
	}
	<-ctx.Done()
	return ctx.Err()
}

// Workers is a daemon.WorkerFactory that runs this class's sinks, and
// sources as testclass.Workers does.
func Workers(ctx context.Context, name string, class *connectors.Class, cfg *conf.Config, env connectors.Env) (daemon.Worker, error) {
	if class.Kind != connectors.KindSink {
		return testclass.Workers(ctx, name, class, cfg, env)
	}
	sink, err := class.NewSink(cfg, env)
	if err != nil {
		return nil, err
	}
	return worker{sink}, nil
}

type worker struct{ sink connectors.Sink }

func (w worker) Run(ctx context.Context) error { return w.sink.Run(ctx, connectors.Kafka{}) }
