// Package daemon is sluice's runtime: the supervisor that keeps every
// connector in its target state. Each connector has its own goroutine that
// builds a Worker through the WorkerFactory and runs it; transient errors
// restart it after an exponential backoff with jitter, permanent ones
// (connectors.ErrPermanent) leave it FAILED with the error as its trace. A
// connector that fails, hangs or panics never disturbs the others.
//
// Definitions, target states and offsets live in a store.Store, so they
// survive restarts. Connectors come from connector files (SyncFiles, at
// start and on reload) or from the REST API; a file-defined connector is
// read-only through the API (see ManagedError).
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/daemon/config"
	"github.com/sluice-cdc/sluice/daemon/store"
)

// Options configure a Supervisor. Store is required.
type Options struct {
	Store store.Store
	// Workers builds connector workers; NoRuntime when nil.
	Workers WorkerFactory
	// Resolver resolves ${env:...} and ${file:...} references each time a
	// connector starts; the process environment with no file access when nil.
	Resolver *config.Resolver
	// WorkDir is the parent of each connector's private directory
	// (connectors.Env.StateDir); none is made when empty.
	WorkDir string
	// Version is sluice's version, passed to workers.
	Version string
	// WorkerID is what status shows as worker_id, like Kafka Connect's
	// host:port of the REST listener.
	WorkerID string
	Logger   *slog.Logger
	Backoff  Backoff
	// StopTimeout bounds how long pausing, stopping, restarting or deleting
	// one connector waits for its worker to return (default 30s); a worker
	// that takes longer is left to finish on its own, its context cancelled.
	StopTimeout time.Duration
	// Loggers names the daemon's loggers, each connector's among them
	// (ConnectorLogger); when nil, they are made over Logger's handler.
	Loggers *Loggers
	// Groups reads and changes sink connectors' consumer group offsets for
	// the offsets API; without it, those calls fail saying so.
	Groups GroupOffsets
	// ProbeInterval is how often a running connector's class Probe is
	// called (default 10s).
	ProbeInterval time.Duration
	// Shared, in cluster mode, is Store seen as the store other instances
	// share (see Shared); nil in standalone mode.
	Shared Shared
}

// Supervisor runs connectors. Its methods are safe for concurrent use;
// operations on one connector are serialized, operations on different
// connectors are independent.
type Supervisor struct {
	opts    Options
	log     *slog.Logger
	backoff Backoff

	base    context.Context // parent of every worker's context; ends at Shutdown
	stopAll context.CancelFunc
	wg      sync.WaitGroup // one per running connector goroutine
	ready   atomic.Bool
	syncMu  sync.Mutex // serializes SyncFiles

	mu    sync.Mutex // guards conns and every conn's fields but op
	conns map[string]*conn

	cluster *cluster // nil in standalone mode
}

// conn is one supervised connector.
type conn struct {
	op sync.Mutex // held by an operation on this connector for its whole length

	// rec and tasks change only with both op and Supervisor.mu held, so
	// either suffices to read them; the other fields are guarded by
	// Supervisor.mu.
	rec store.Record
	// tasks are the connector's tasks this instance runs, by id: every
	// one in standalone mode, those assigned to it in cluster mode.
	tasks   map[int]*task
	deleted bool

	topics topicSet // guarded by its own lock
	// signals carries signals to the connector's source across its
	// restarts; guarded by its own lock.
	signals connectors.Signals
}

func newConn(rec store.Record) *conn {
	c := &conn{rec: rec, tasks: map[int]*task{}}
	c.topics.load(rec.Topics)
	return c
}

// task is one task of a connector that this instance runs; its fields are
// guarded by Supervisor.mu. The connector and its task 0 run together: the
// connector's state is task 0's.
type task struct {
	id       int
	state    State
	trace    string
	problem  string // what the current run's probe finds wrong; shown while RUNNING
	restarts int64
	failedAt time.Time // when the last error stopped or restarted it
	// runningAt is when the current run reported RUNNING; zero until it has.
	runningAt time.Time
	run       *run // the current run, nil when not running
}

// run is one start of a task: its goroutine, until cancel and done.
type run struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// New returns a supervisor; Start loads and starts its connectors.
func New(opts Options) (*Supervisor, error) {
	if opts.Store == nil {
		return nil, errors.New("daemon: Options.Store is required")
	}
	if opts.Workers == nil {
		opts.Workers = NoRuntime
	}
	if opts.Resolver == nil {
		opts.Resolver = &config.Resolver{LookupEnv: os.LookupEnv}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = 30 * time.Second
	}
	if opts.Loggers == nil {
		opts.Loggers = NewLoggers(opts.Logger.Handler(), lowestLevel(opts.Logger.Handler()))
	}
	if opts.ProbeInterval <= 0 {
		opts.ProbeInterval = 10 * time.Second
	}
	base, cancel := context.WithCancel(context.Background())
	s := &Supervisor{opts: opts, log: opts.Logger, backoff: opts.Backoff.withDefaults(), base: base, stopAll: cancel, conns: map[string]*conn{}}
	if opts.Shared != nil {
		s.cluster = newCluster(opts.Shared)
	}
	return s, nil
}

// Start loads the stored connectors, applies the connector files (see
// SyncFiles: all are checked before any starts) and starts every connector
// whose target is RUNNING. It returns config.Problems when a file is
// invalid, having started nothing.
func (s *Supervisor) Start(ctx context.Context, files []config.Connector) error {
	if ps := s.checkAll(files); len(ps) > 0 {
		return ps
	}
	if s.cluster != nil {
		// From now on, no change made through another instance is missed.
		s.cluster.shared.Watch(s.Changed)
	}
	recs, err := s.opts.Store.List(ctx)
	if err != nil {
		return fmt.Errorf("load connectors: %w", err)
	}
	s.mu.Lock()
	for _, r := range recs {
		s.conns[r.Name] = newConn(r)
		s.opts.Loggers.Logger(ConnectorLogger(r.Name))
	}
	s.mu.Unlock()
	if err := s.applyFiles(ctx, files); err != nil {
		return err
	}
	for _, name := range s.Names() {
		c, unlock, err := s.lock(name)
		if err != nil {
			continue
		}
		s.syncTasks(name, c)
		if c.rec.Target == store.Running {
			s.start(name, c)
		}
		unlock()
	}
	if s.cluster != nil {
		s.wg.Go(func() { s.follow(s.base) })
		s.wg.Go(func() { s.publish(s.base) })
	}
	s.ready.Store(true)
	s.log.Info("supervisor started", "connectors", len(s.Names()))
	return nil
}

// Ready reports whether Start has finished and Shutdown has not begun.
func (s *Supervisor) Ready() bool { return s.ready.Load() }

// Shutdown cancels every worker's context and waits until all have
// returned or ctx ends; it then returns an error naming the connectors
// still running. Positions are committed by the workers as they return.
func (s *Supervisor) Shutdown(ctx context.Context) error {
	s.ready.Store(false)
	s.stopAll()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		s.log.Info("every connector stopped")
		return nil
	case <-ctx.Done():
	}
	var left []string
	s.mu.Lock()
	for name, c := range s.conns {
		for _, t := range c.tasks {
			if r := t.run; r != nil {
				select {
				case <-r.done:
				default:
					left = append(left, name)
				}
			}
		}
	}
	s.mu.Unlock()
	sort.Strings(left)
	left = slices.Compact(left)
	return fmt.Errorf("shutdown: connectors still running when the timeout passed: %s", strings.Join(left, ", "))
}

// Names lists the connectors, sorted.
func (s *Supervisor) Names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.conns))
	for n := range s.conns {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// lock finds a connector and takes its operation lock.
func (s *Supervisor) lock(name string) (*conn, func(), error) {
	s.mu.Lock()
	c, ok := s.conns[name]
	s.mu.Unlock()
	if !ok {
		return nil, nil, notFound(name)
	}
	c.op.Lock()
	s.mu.Lock()
	deleted := c.deleted
	s.mu.Unlock()
	if deleted {
		c.op.Unlock()
		return nil, nil, notFound(name)
	}
	return c, c.op.Unlock, nil
}

// stateOf is the state a connector that is not running shows for a target.
func stateOf(t store.Target) State {
	switch t {
	case store.Paused:
		return Paused
	case store.Stopped:
		return Stopped
	}
	return Unassigned
}

// workDir is a connector's private directory, or "" when there is none.
func (s *Supervisor) workDir(name string) string {
	if s.opts.WorkDir == "" {
		return ""
	}
	return filepath.Join(s.opts.WorkDir, safeName(name))
}

// safeName maps a connector name to one path element.
func safeName(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
