package daemon

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/daemon/config"
	"github.com/sluice-cdc/sluice/daemon/store"
)

// localTasks lists the tasks of the connector this instance runs: every
// one in standalone mode, those assigned to it in cluster mode. c.op or
// s.mu is held.
func (s *Supervisor) localTasks(name string, c *conn) []int {
	n := config.Tasks(c.rec.Config)
	var ids []int
	for id := range n {
		if s.runs(c, store.Task{Connector: name, ID: id}) {
			ids = append(ids, id)
		}
	}
	return ids
}

// syncTasks makes c's tasks those this instance runs now: it stops and
// forgets the others (a lowered tasks.max, a task revoked) and adds the
// new ones, in the state the connector's target implies. c.op is held.
func (s *Supervisor) syncTasks(name string, c *conn) {
	want := s.localTasks(name, c)
	s.mu.Lock()
	var gone []int
	for id := range c.tasks {
		if !slices.Contains(want, id) {
			gone = append(gone, id)
		}
	}
	s.mu.Unlock()
	s.haltTasks(name, c, gone, Stopped)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range gone {
		delete(c.tasks, id)
	}
	for _, id := range want {
		if _, ok := c.tasks[id]; !ok {
			c.tasks[id] = &task{id: id, state: stateOf(c.rec.Target)}
		}
	}
}

// start starts every task of the connector this instance runs that is not
// running (one FAILED or finished starts afresh), unless Shutdown has
// begun. c.op is held.
func (s *Supervisor) start(name string, c *conn) {
	s.syncTasks(name, c)
	for _, id := range s.taskIDs(c) {
		s.mu.Lock()
		t := c.tasks[id]
		s.mu.Unlock()
		if !s.taskActive(t) {
			s.haltTasks(name, c, []int{id}, Unassigned)
			s.startTask(name, c, t)
		}
	}
}

// restartTasks stops the connector's tasks ids and starts them again.
// c.op is held.
func (s *Supervisor) restartTasks(name string, c *conn, ids []int) {
	s.haltTasks(name, c, ids, Unassigned)
	for _, id := range ids {
		s.mu.Lock()
		t := c.tasks[id]
		s.mu.Unlock()
		if t != nil {
			s.startTask(name, c, t)
		}
	}
}

// startTask launches a task's goroutine, unless Shutdown has begun or, in
// cluster mode, another instance owns the task. c.op is held and t has no
// run.
func (s *Supervisor) startTask(name string, c *conn, t *task) {
	if s.base.Err() != nil || !s.runs(c, store.Task{Connector: name, ID: t.id}) {
		return
	}
	ctx, cancel := context.WithCancel(s.base)
	r := &run{cancel: cancel, done: make(chan struct{})}
	s.mu.Lock()
	t.run, t.state, t.trace, t.problem = r, Unassigned, "", ""
	s.mu.Unlock()
	s.wg.Add(1)
	go s.loop(ctx, name, c, t, r)
}

// taskIDs lists c's tasks, sorted.
func (s *Supervisor) taskIDs(c *conn) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(c.tasks))
}

// halt stops every task of the connector this instance runs and sets
// their state. c.op is held.
func (s *Supervisor) halt(name string, c *conn, then State) {
	s.haltTasks(name, c, s.taskIDs(c), then)
}

// haltTasks stops the runs of the connector's tasks ids, if any, waits for
// them up to StopTimeout, and sets the tasks' state. c.op is held.
func (s *Supervisor) haltTasks(name string, c *conn, ids []int, then State) {
	var runs []*run
	s.mu.Lock()
	for _, id := range ids {
		t, ok := c.tasks[id]
		if !ok {
			continue
		}
		if t.run != nil {
			runs = append(runs, t.run)
		}
		t.run = nil
		t.state, t.trace, t.problem = then, "", ""
	}
	s.mu.Unlock()
	for _, r := range runs {
		r.cancel()
	}
	t := time.NewTimer(s.opts.StopTimeout)
	defer t.Stop()
	for _, r := range runs {
		select {
		case <-r.done:
		case <-t.C:
			s.log.Error("connector worker did not stop in time; it is left to finish on its own", "connector", name, "timeout", s.opts.StopTimeout)
			return
		}
	}
}

// active reports whether a task of the connector has its goroutine
// running (it may be waiting out a backoff).
func (s *Supervisor) active(c *conn) bool {
	s.mu.Lock()
	tasks := make([]*task, 0, len(c.tasks))
	for _, t := range c.tasks {
		tasks = append(tasks, t)
	}
	s.mu.Unlock()
	return slices.ContainsFunc(tasks, s.taskActive)
}

// taskActive reports whether the task's goroutine is running; a FAILED or
// finished task is not active.
func (s *Supervisor) taskActive(t *task) bool {
	s.mu.Lock()
	r := t.run
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
func (s *Supervisor) set(t *task, r *run, st State, trace string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.run == r {
		t.state, t.trace = st, trace
		switch st {
		case Failed:
			t.failedAt = time.Now()
		case Running:
			t.runningAt = time.Now()
		}
	}
}

// loop runs a task until ctx ends, a permanent error, or its worker
// finishing; transient errors restart it after a backoff.
func (s *Supervisor) loop(ctx context.Context, name string, c *conn, t *task, r *run) {
	defer s.wg.Done()
	defer close(r.done)
	log := s.log.With("connector", name)
	if t.id > 0 {
		log = log.With("task", t.id)
	}
	for attempt := 0; ; attempt++ {
		began := time.Now()
		s.mu.Lock()
		t.runningAt = time.Time{}
		s.mu.Unlock()
		err := s.runOnce(ctx, name, c, t, r)
		if ctx.Err() != nil {
			return
		}
		switch {
		case err == nil:
			log.Info("connector finished")
			s.set(t, r, Stopped, "")
			return
		case errors.Is(err, connectors.ErrPermanent):
			log.Error("connector failed; it stays FAILED until restarted", "error", err.Error())
			s.set(t, r, Failed, err.Error())
			return
		}
		s.mu.Lock()
		var running time.Duration
		if !t.runningAt.IsZero() {
			running = time.Since(t.runningAt)
		}
		s.mu.Unlock()
		if s.backoff.resets(time.Since(began), running) {
			attempt = 0
		}
		wait := s.backoff.delay(attempt)
		log.Warn("connector failed; restarting after a backoff", "error", err.Error(), "backoff", wait.String())
		s.mu.Lock()
		if t.run == r {
			t.state, t.trace = Unassigned, err.Error()
			t.restarts++
			t.failedAt = time.Now()
		}
		s.mu.Unlock()
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
	}
}

// runOnce checks the connector's configuration (resolving its references
// afresh), builds the task's worker and runs it.
func (s *Supervisor) runOnce(ctx context.Context, name string, c *conn, t *task, r *run) (err error) {
	s.mu.Lock()
	def := config.Connector{Name: name, Config: c.rec.Config, File: c.rec.File}
	s.mu.Unlock()
	checked, ps := config.Check(def, s.opts.Resolver)
	if len(ps) > 0 {
		return connectors.Permanent(fmt.Errorf("invalid configuration: %w", ps))
	}
	log := s.opts.Loggers.Logger(ConnectorLogger(name)).With("connector", name)
	attrs := []any{"connector", name, "class", checked.Class.Name}
	if t.id > 0 {
		log = log.With("task", t.id)
		attrs = append(attrs, "task", t.id)
	}
	running := func() {
		s.set(t, r, Running, "")
		s.log.Info("connector running", attrs...)
	}
	for _, w := range checked.Config.Warnings() {
		log.Warn("configuration key "+w.Key+": "+w.Message, "key", w.Key)
	}
	env := connectors.Env{
		Name:     name,
		Task:     t.id,
		Version:  s.opts.Version,
		Logger:   log,
		Offsets:  s.opts.Store.Offsets(name),
		StateDir: s.taskDir(name, t.id),
		// A source is RUNNING once it says its start position is fixed;
		// until then it stays UNASSIGNED, as a Kafka Connect task that has
		// not started.
		Running:     sync.OnceFunc(running),
		RecordTopic: func(topic string) { s.recordTopic(name, c, topic) },
		Signals:     &c.signals,
	}
	if s.cluster != nil {
		env.GroupInstanceID = groupInstanceID(store.Task{Connector: name, ID: t.id})
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
		defer s.probe(ctx, log, t, r, checked.Class.Probe, checked.Config)()
	}
	return w.Run(ctx)
}

// taskDir is the private directory of a connector's task: the connector's
// own for task 0, a directory in it for the others; "" when there is none.
func (s *Supervisor) taskDir(name string, id int) string {
	dir := s.workDir(name)
	if dir == "" || id == 0 {
		return dir
	}
	return filepath.Join(dir, "task-"+strconv.Itoa(id))
}

// groupInstanceID is the static consumer group membership id of a task in
// cluster mode, the same on every instance (Env.GroupInstanceID): the
// connector's name, with what Kafka does not allow in such an id as '_',
// and the task's number.
func groupInstanceID(t store.Task) string {
	b := []byte(t.Connector)
	for i, ch := range b {
		if !('a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9' || ch == '.' || ch == '_' || ch == '-') {
			b[i] = '_'
		}
	}
	return "sluice-" + string(b) + "-task-" + strconv.Itoa(t.ID)
}
