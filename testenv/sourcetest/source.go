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

// Start runs a source of the class configured by raw, with offsets as its
// offset store, until Stop or the end of the test. Every call makes a new
// source instance, as a restart does.
func (s *Suite) Start(t testing.TB, raw map[string]string, offsets *offsetstest.Memory) *Source {
	t.Helper()
	r := &Source{t: t, done: make(chan error, 1), running: make(chan struct{})}
	var once sync.Once
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	env := connectors.Env{Name: "acceptance", Version: "test", Logger: logger, Offsets: offsets, StateDir: t.TempDir(),
		Running: func() { once.Do(func() { close(r.running) }) }}
	class, cfg, src, err := parse(s.driver.Class(), raw, env)
	if err != nil {
		t.Fatalf("configure a %s source: %v", s.driver.Class(), err)
	}
	if class.Output == nil {
		t.Fatalf("class %s declares no Output, which kafka.NewSourceWriter and the daemon need", class.Name)
	}
	r.client, err = kgo.NewClient(append(kafka.SourceClientOpts(cfg), kgo.SeedBrokers(s.Brokers...))...)
	if err != nil {
		t.Fatalf("producer client: %v", err)
	}
	w := kafka.NewSourceWriter(r.client, s.Registry, class, cfg, kafka.WithLogger(logger))
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- src.Run(ctx, w) }()
	t.Cleanup(func() { r.Stop() })
	return r
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
