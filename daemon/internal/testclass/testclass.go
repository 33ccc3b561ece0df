// Package testclass registers the connector class "sluice-test": a real
// source, whose behaviour its configuration chooses, for the daemon's tests.
// Only tests import it.
package testclass

import (
	"context"
	"errors"
	"time"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/daemon"
)

// Name is the class name; Alias is its Java-style alias.
const (
	Name  = "sluice-test"
	Alias = "io.sluice.test.TestSourceConnector"
)

// Spec declares the class's keys.
var Spec = &conf.Spec{
	Prefixes: []string{"transforms", "predicates"},
	Keys: []conf.Key{
		{Name: "connector.class", Type: conf.Class, Required: true, Doc: "sluice-test"},
		{Name: "topic.prefix", Type: conf.String, Required: true, Group: "Topics", Doc: "Prefix of topic names."},
		{Name: "behavior", Type: conf.String, Default: "run", Allowed: []string{"run", "fail", "permanent", "finish", "panic", "linger"}, Group: "Test",
			Doc: "run: work until stopped; fail: return a transient error; permanent: return a permanent error; finish: return nil; panic: panic; linger: run, and return only linger.ms after being stopped."},
		{Name: "error.message", Type: conf.String, Default: "boom", Group: "Test", Doc: "The error fail, permanent and panic return."},
		{Name: "linger.ms", Type: conf.Int, Default: "0", Min: 0, Max: 60000, Group: "Test", Doc: "How long linger outlives its context."},
		{Name: "count", Type: conf.Int, Default: "1", Min: 0, Max: 100, Group: "Test", Doc: "A number, to test type checks."},
		{Name: "offset.key", Type: conf.String, Group: "Test", Doc: "When set, Run saves offset.value under this key first."},
		{Name: "offset.value", Type: conf.String, Default: "{}", Group: "Test", Doc: "The offset Run saves (JSON)."},
		{Name: "database.password", Type: conf.Password, Group: "Connection", Doc: "A secret, to test masking."},
		{Name: "producer.override.linger.ms", Type: conf.Int, Default: "5", Min: 0, Max: 60000, Group: "Producer", Doc: "An allowed Kafka client override."},
		{Name: "max.queue.size", Type: conf.Int, Ignored: "the test source has no queue", Group: "Test", Doc: "A key without effect, to test its warning."},
	},
}

func init() {
	connectors.Register(connectors.Class{
		Name: Name, Aliases: []string{Alias}, Kind: connectors.KindSource, Spec: Spec,
		Output: func(cfg *conf.Config) connectors.SourceOutput {
			return connectors.SourceOutput{TopicPrefix: cfg.String("topic.prefix"), Tombstones: true}
		},
		NewSource: func(cfg *conf.Config, env connectors.Env) (connectors.Source, error) {
			return &Source{cfg: cfg, env: env}, nil
		},
	})
}

// Source behaves as its configuration says.
type Source struct {
	cfg *conf.Config
	env connectors.Env
}

var _ connectors.Source = (*Source)(nil)

// Run saves the configured offset, then behaves as configured.
func (s *Source) Run(ctx context.Context, out connectors.Emitter) error {
	if key := s.cfg.String("offset.key"); key != "" {
		if err := s.env.Offsets.Save(ctx, key, []byte(s.cfg.String("offset.value"))); err != nil {
			return err
		}
	}
	s.env.ReportRunning()
	msg := s.cfg.String("error.message")
	switch s.cfg.Enum("behavior") {
	case "fail":
		return errors.New(msg)
	case "permanent":
		return connectors.Permanent(errors.New(msg))
	case "finish":
		return nil
	case "panic":
		panic(msg)
	case "linger":
		<-ctx.Done()
		time.Sleep(time.Duration(s.cfg.Int("linger.ms")) * time.Millisecond)
		return ctx.Err()
	}
	<-ctx.Done()
	return ctx.Err()
}

// Workers is a daemon.WorkerFactory that runs a class's source with an
// emitter that drops batches.
func Workers(ctx context.Context, name string, class *connectors.Class, cfg *conf.Config, env connectors.Env) (daemon.Worker, error) {
	src, err := class.NewSource(cfg, env)
	if err != nil {
		return nil, err
	}
	return worker{src}, nil
}

type worker struct{ src connectors.Source }

func (w worker) Run(ctx context.Context) error { return w.src.Run(ctx, discard{}) }

type discard struct{}

func (discard) Emit(ctx context.Context, b connectors.Batch) error {
	if b.Ack != nil {
		b.Ack()
	}
	return nil
}

func (discard) Flush(ctx context.Context) error { return nil }
