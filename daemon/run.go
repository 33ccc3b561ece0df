package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/daemon/config"
)

// start launches the connector's goroutine, unless Shutdown has begun or,
// in cluster mode, another instance owns the connector. c.op is held and c
// has no run.
func (s *Supervisor) start(name string, c *conn) {
	if s.base.Err() != nil || !s.mayRun(name) {
		return
	}
	ctx, cancel := context.WithCancel(s.base)
	r := &run{cancel: cancel, done: make(chan struct{})}
	s.mu.Lock()
	c.run, c.state, c.trace, c.problem = r, Unassigned, "", ""
	s.mu.Unlock()
	s.wg.Add(1)
	go s.loop(ctx, name, c, r)
}

// halt stops the connector's run, if any, and waits for it up to
// StopTimeout, then sets its state. c.op is held.
func (s *Supervisor) halt(name string, c *conn, then State) {
	s.mu.Lock()
	r := c.run
	c.run = nil
	c.state, c.trace, c.problem = then, "", ""
	s.mu.Unlock()
	if r == nil {
		return
	}
	r.cancel()
	t := time.NewTimer(s.opts.StopTimeout)
	defer t.Stop()
	select {
	case <-r.done:
	case <-t.C:
		s.log.Error("connector worker did not stop in time; it is left to finish on its own", "connector", name, "timeout", s.opts.StopTimeout)
	}
}

// active reports whether the connector's goroutine is running (it may be
// waiting out a backoff); a FAILED or finished connector is not active.
func (s *Supervisor) active(c *conn) bool {
	s.mu.Lock()
	r := c.run
	s.mu.Unlock()
	if r == nil {
		return false
	}
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}

// set records a state reported by run r, unless r is no longer current,
// and the time of a failure.
func (s *Supervisor) set(c *conn, r *run, st State, trace string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.run == r {
		c.state, c.trace = st, trace
		switch st {
		case Failed:
			c.failedAt = time.Now()
		case Running:
			c.runningAt = time.Now()
		}
	}
}

// loop runs a connector until ctx ends, a permanent error, or its worker
// finishing; transient errors restart it after a backoff.
func (s *Supervisor) loop(ctx context.Context, name string, c *conn, r *run) {
	defer s.wg.Done()
	defer close(r.done)
	log := s.log.With("connector", name)
	for attempt := 0; ; attempt++ {
		began := time.Now()
		s.mu.Lock()
		c.runningAt = time.Time{}
		s.mu.Unlock()
		err := s.runOnce(ctx, name, c, r)
		if ctx.Err() != nil {
			return
		}
		switch {
		case err == nil:
			log.Info("connector finished")
			s.set(c, r, Stopped, "")
			return
		case errors.Is(err, connectors.ErrPermanent):
			log.Error("connector failed; it stays FAILED until restarted", "error", err.Error())
			s.set(c, r, Failed, err.Error())
			return
		}
		s.mu.Lock()
		var running time.Duration
		if !c.runningAt.IsZero() {
			running = time.Since(c.runningAt)
		}
		s.mu.Unlock()
		if s.backoff.resets(time.Since(began), running) {
			attempt = 0
		}
		wait := s.backoff.delay(attempt)
		log.Warn("connector failed; restarting after a backoff", "error", err.Error(), "backoff", wait.String())
		s.mu.Lock()
		if c.run == r {
			c.state, c.trace = Unassigned, err.Error()
			c.restarts++
			c.failedAt = time.Now()
		}
		s.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// runOnce checks the connector's configuration (resolving its references
// afresh), builds its worker and runs it.
func (s *Supervisor) runOnce(ctx context.Context, name string, c *conn, r *run) (err error) {
	s.mu.Lock()
	def := config.Connector{Name: name, Config: c.rec.Config, File: c.rec.File}
	s.mu.Unlock()
	checked, ps := config.Check(def, s.opts.Resolver)
	if len(ps) > 0 {
		return connectors.Permanent(fmt.Errorf("invalid configuration: %w", ps))
	}
	running := func() {
		s.set(c, r, Running, "")
		s.log.Info("connector running", "connector", name, "class", checked.Class.Name)
	}
	log := s.opts.Loggers.Logger(ConnectorLogger(name)).With("connector", name)
	for _, w := range checked.Config.Warnings() {
		log.Warn("configuration key "+w.Key+": "+w.Message, "key", w.Key)
	}
	env := connectors.Env{
		Name:     name,
		Version:  s.opts.Version,
		Logger:   log,
		Offsets:  s.opts.Store.Offsets(name),
		StateDir: s.workDir(name),
		// A source is RUNNING once it says its start position is fixed;
		// until then it stays UNASSIGNED, as a Kafka Connect task that has
		// not started.
		Running:     sync.OnceFunc(running),
		RecordTopic: func(topic string) { s.recordTopic(name, c, topic) },
		Signals:     &c.signals,
	}
	if env.StateDir != "" {
		if err := os.MkdirAll(env.StateDir, 0o700); err != nil {
			return fmt.Errorf("create the connector's directory: %w", err)
		}
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("connector worker panicked: %v", p)
		}
	}()
	w, err := s.opts.Workers(ctx, name, checked.Class, checked.Config, env)
	if err != nil {
		return err
	}
	if checked.Class.Kind != connectors.KindSource {
		env.Running()
	}
	if checked.Class.Probe != nil {
		defer s.probe(ctx, log, c, r, checked.Class.Probe, checked.Config)()
	}
	return w.Run(ctx)
}
