package sourcetest

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/connectors/kafka"
	"github.com/sluice-cdc/sluice/connectors/metrics"
	"github.com/sluice-cdc/sluice/testenv/offsetstest"
)

// stopWait bounds how long a source may take to stop once cancelled.
const stopWait = 30 * time.Second

// Source is a source running in-process into Kafka, as the daemon runs it:
// its class's Spec.Parse and NewSource, a client with
// kafka.SourceClientOpts and kafka.NewSourceWriter.
type Source struct {
	t       testing.TB
	cancel  context.CancelFunc
	done    chan error
	client  *kgo.Client
	running chan struct{}

	mu      sync.Mutex
	stopped bool
	err     error
}

// parse parses raw against the class's spec and builds the source, as the
// daemon does; it returns the class, the parsed configuration and the
// source, or the error of the step that failed.
func parse(className string, raw map[string]string, env connectors.Env) (*connectors.Class, *conf.Config, connectors.Source, error) {
	class, ok := connectors.Lookup(className)
	if !ok {
		return nil, nil, nil, errors.New("no connector class " + className + " is registered")
	}
	cfg, err := class.Spec.Parse(raw)
	if err != nil {
		return class, nil, nil, err
	}
	src, err := class.NewSource(cfg, env)
	return class, cfg, src, err
}

// Option changes how StartSource runs a source.
type Option func(*options)

type options struct {
	offsets   connectors.OffsetStore
	metrics   *metrics.Registry
	newSource func(*conf.Config, connectors.Env) (connectors.Source, error)
	wrap      func(connectors.Emitter, context.CancelFunc) connectors.Emitter
	signals   *connectors.Signals
	log       *Log
}

// WithOffsets makes store the source's offset store; pass the same store
// to a restart to resume. The default is a new, empty offsetstest.Memory.
func WithOffsets(store connectors.OffsetStore) Option {
	return func(o *options) { o.offsets = store }
}

// WithMetrics makes reg the registry the source records its metrics in,
// under the connector name "test". By default they stay private.
func WithMetrics(reg *metrics.Registry) Option {
	return func(o *options) { o.metrics = reg }
}

// WithSignals gives the source signals as the daemon does: the test posts
// signals to it and reads the state of the source's snapshots from it.
func WithSignals(signals *connectors.Signals) Option {
	return func(o *options) { o.signals = signals }
}

// WithLog collects the source's log, from level info, in l, beside its
// warnings on stderr.
func WithLog(l *Log) Option {
	return func(o *options) { o.log = l }
}

// WithNewSource builds the source with newSource instead of the class's
// NewSource, for a variant only tests make.
func WithNewSource(newSource func(*conf.Config, connectors.Env) (connectors.Source, error)) Option {
	return func(o *options) { o.newSource = newSource }
}

// WithEmitter puts wrap between the source and its Kafka writer: the
// source emits to what wrap returns, which may also cancel the source
// with the function it is given (Wait then returns context.Canceled).
func WithEmitter(wrap func(connectors.Emitter, context.CancelFunc) connectors.Emitter) Option {
	return func(o *options) { o.wrap = wrap }
}

// StartSource runs the source configured by raw (its class named by
// connector.class) into the target's Kafka until Stop, Wait or the end of
// the test, with a state directory of its own. Every call makes a new
// source instance, as a restart does. It fails the test when the
// configuration is refused.
func (k Target) StartSource(t testing.TB, raw map[string]string, opts ...Option) *Source {
	t.Helper()
	o := options{offsets: &offsetstest.Memory{}}
	for _, opt := range opts {
		opt(&o)
	}
	className := raw["connector.class"]
	class, ok := connectors.Lookup(className)
	if !ok {
		t.Fatalf("no connector class %q is registered", className)
	}
	if class.Kind != connectors.KindSource || class.Output == nil {
		t.Fatalf("class %s is no source or declares no Output, which kafka.NewSourceWriter and the daemon need", class.Name)
	}
	cfg, err := class.Spec.Parse(raw)
	if err != nil {
		t.Fatalf("configure a %s source: %v", className, err)
	}
	r := &Source{t: t, done: make(chan error, 1), running: make(chan struct{})}
	var once sync.Once
	var handler slog.Handler = slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})
	if o.log != nil {
		handler = slog.NewMultiHandler(handler, slog.NewTextHandler(o.log, nil))
	}
	logger := slog.New(handler)
	env := connectors.Env{Name: "test", Version: "test", Logger: logger, Offsets: o.offsets, StateDir: t.TempDir(),
		Metrics: o.metrics, Signals: o.signals, Running: func() { once.Do(func() { close(r.running) }) }}
	newSource := class.NewSource
	if o.newSource != nil {
		newSource = o.newSource
	}
	src, err := newSource(cfg, env)
	if err != nil {
		t.Fatalf("configure a %s source: %v", className, err)
	}
	r.client, err = kgo.NewClient(append(kafka.SourceClientOpts(cfg), kgo.SeedBrokers(k.Brokers...))...)
	if err != nil {
		t.Fatalf("producer client: %v", err)
	}
	var out connectors.Emitter = kafka.NewSourceWriter(r.client, k.Registry, class, cfg, kafka.WithLogger(logger))
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	if o.wrap != nil {
		out = o.wrap(out, cancel)
	}
	go func() { r.done <- src.Run(ctx, out) }()
	t.Cleanup(func() { r.Stop() })
	return r
}

// Start runs a scenario's source configured by raw, with offsets as its
// offset store, until Stop or the end of the test (see StartSource).
func (s *Suite) Start(t testing.TB, raw map[string]string, offsets *offsetstest.Memory) *Source {
	t.Helper()
	return s.StartSource(t, raw, WithOffsets(offsets))
}

// Stop cancels the source and waits for Run to return; it returns Run's
// error unless that is the cancellation. Stopping again returns the same.
func (r *Source) Stop() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.stopped {
		r.stopped = true
		r.cancel()
		select {
		case err := <-r.done:
			if !errors.Is(err, context.Canceled) {
				r.err = err
			}
		case <-time.After(stopWait):
			r.err = errors.New("the source did not stop within " + stopWait.String() + " of its context ending")
		}
		r.client.Close()
	}
	return r.err
}

// Wait waits for Run to return on its own and returns its error, failing
// the test when Run is still running after timeout. The source counts as
// stopped afterwards.
func (r *Source) Wait(timeout time.Duration) error {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return r.err
	}
	select {
	case err := <-r.done:
		r.stopped = true
		if !errors.Is(err, context.Canceled) {
			r.err = err
		}
		r.client.Close()
		return err
	case <-time.After(timeout):
		r.t.Fatalf("the source still runs after %s", timeout)
		return nil
	}
}

// Alive fails the test when Run has returned on its own.
func (r *Source) Alive() {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	select {
	case err := <-r.done:
		r.stopped, r.err = true, err
		r.client.Close()
		r.t.Fatalf("the source stopped on its own: %v", err)
	default:
	}
}

// runningWait bounds how long WaitRunning waits.
const runningWait = 30 * time.Second

// WaitRunning waits until the source reports Env.Running, failing the test
// after 30 s or when Run returns first.
func (r *Source) WaitRunning() {
	r.t.Helper()
	deadline := time.After(runningWait)
	for {
		select {
		case <-r.running:
			return
		case <-deadline:
			r.t.Fatalf("the source did not report Running within %s", runningWait)
		case <-time.After(50 * time.Millisecond):
			r.Alive()
		}
	}
}
