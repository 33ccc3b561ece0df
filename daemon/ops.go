package daemon

import (
	"context"
	"fmt"
	"maps"
	"os"
	"strconv"

	"github.com/sluice-cdc/sluice/daemon/config"
	"github.com/sluice-cdc/sluice/daemon/store"
)

// Info returns a connector's definition.
func (s *Supervisor) Info(name string) (Info, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.conns[name]
	if !ok {
		return Info{}, notFound(name)
	}
	return s.infoLocked(name, c), nil
}

func (s *Supervisor) infoLocked(name string, c *conn) Info {
	i := Info{Name: name, Config: maps.Clone(c.rec.Config), Class: config.ClassOf(c.rec.Config), Tasks: 1, File: c.rec.File}
	if c.rec.Target == store.Stopped {
		i.Tasks = 0
	}
	return i
}

// Status returns a connector's runtime status.
func (s *Supervisor) Status(name string) (Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.conns[name]
	if !ok {
		return Status{}, notFound(name)
	}
	return s.statusLocked(name, c), nil
}

// statusLocked is a connector's status. A RUNNING connector whose probe
// finds its target unusable shows that problem as its trace; in cluster
// mode, a connector another instance owns shows the status its owner
// published. s.mu is held.
func (s *Supervisor) statusLocked(name string, c *conn) Status {
	if !s.mayRun(name) {
		return s.sharedStatus(name, c)
	}
	trace := c.trace
	if c.state == Running && trace == "" {
		trace = c.problem
	}
	st := Status{Name: name, State: c.state, Trace: trace, WorkerID: s.opts.WorkerID, Type: typeOf(config.ClassOf(c.rec.Config)), Restarts: c.restarts, LastError: c.failedAt}
	if c.state != Stopped {
		st.Tasks = []TaskStatus{{ID: 0, State: c.state, Trace: trace, WorkerID: s.opts.WorkerID}}
	}
	return st
}

// Create adds a connector through the API and starts it in its initial
// state (RUNNING when empty). It fails with config.Problems when the
// definition is invalid, ErrExists (or ErrManaged) when the name is taken;
// nothing changes then.
func (s *Supervisor) Create(ctx context.Context, def config.Connector) (Info, error) {
	if err := s.taken(def.Name); err != nil {
		return Info{}, err
	}
	if _, ps := config.Check(def, s.opts.Resolver); len(ps) > 0 {
		return Info{}, ps
	}
	if err := s.add(ctx, def); err != nil {
		return Info{}, err
	}
	return s.Info(def.Name)
}

// add stores a checked definition as a new connector and starts it in its
// initial state (RUNNING when empty).
func (s *Supervisor) add(ctx context.Context, def config.Connector) error {
	target := store.Running
	if t, ok := store.ParseTarget(def.InitialState); ok {
		target = t
	}
	c := &conn{rec: store.Record{Name: def.Name, Config: maps.Clone(def.Config), Target: target, File: def.File}, state: stateOf(target)}
	c.topics.load(nil)
	s.opts.Loggers.Logger(ConnectorLogger(def.Name))
	c.op.Lock()
	defer c.op.Unlock()
	s.mu.Lock()
	if _, dup := s.conns[def.Name]; dup {
		s.mu.Unlock()
		return s.taken(def.Name)
	}
	s.conns[def.Name] = c
	s.mu.Unlock()
	if err := s.opts.Store.Put(ctx, c.rec); err != nil {
		s.mu.Lock()
		delete(s.conns, def.Name)
		c.deleted = true
		s.mu.Unlock()
		return fmt.Errorf("create connector %s: %w", def.Name, err)
	}
	s.log.Info("connector created", "connector", def.Name, "target", target, "file", def.File)
	if target == store.Running {
		s.start(def.Name, c)
	}
	return nil
}

// taken returns the error for creating a connector that exists, or nil.
func (s *Supervisor) taken(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.conns[name]
	switch {
	case !ok:
		return nil
	case c.rec.File != "":
		return &ManagedError{Name: name, File: c.rec.File}
	default:
		return exists(name)
	}
}

// PutConfig creates a connector (created is true) or replaces its
// configuration, restarting it when it runs. A "[hidden]" value of a secret
// key keeps the value stored. Errors as Create's, plus ErrManaged.
func (s *Supervisor) PutConfig(ctx context.Context, name string, cfg map[string]string) (info Info, created bool, err error) {
	def, ps := config.WithName(name, cfg)
	if len(ps) > 0 {
		return Info{}, false, ps
	}
	c, unlock, err := s.lock(name)
	if err != nil {
		info, err := s.Create(ctx, def)
		return info, err == nil, err
	}
	defer unlock()
	info, err = s.reconfigure(ctx, name, c, def.Config)
	return info, false, err
}

// PatchConfig merges changes into a connector's configuration: a nil value
// removes the key. Otherwise as PutConfig, but the connector must exist.
func (s *Supervisor) PatchConfig(ctx context.Context, name string, changes map[string]*string) (Info, error) {
	c, unlock, err := s.lock(name)
	if err != nil {
		return Info{}, err
	}
	defer unlock()
	merged := maps.Clone(c.rec.Config)
	for k, v := range changes {
		if v == nil {
			delete(merged, k)
		} else {
			merged[k] = *v
		}
	}
	def, ps := config.WithName(name, merged)
	if len(ps) > 0 {
		return Info{}, ps
	}
	return s.reconfigure(ctx, name, c, def.Config)
}

// reconfigure checks and stores a new configuration for an API-managed
// connector and restarts it when it runs. c.op is held.
func (s *Supervisor) reconfigure(ctx context.Context, name string, c *conn, cfg map[string]string) (Info, error) {
	if c.rec.File != "" {
		return Info{}, &ManagedError{Name: name, File: c.rec.File}
	}
	cfg = config.Unmask(config.ClassOf(c.rec.Config), c.rec.Config, cfg)
	if _, ps := config.Check(config.Connector{Name: name, Config: cfg}, s.opts.Resolver); len(ps) > 0 {
		return Info{}, ps
	}
	if err := s.replace(ctx, name, c, cfg, c.rec.File); err != nil {
		return Info{}, err
	}
	return s.Info(name)
}

// replace stores a connector's new configuration (and file) and restarts it
// if its target is RUNNING. c.op is held.
func (s *Supervisor) replace(ctx context.Context, name string, c *conn, cfg map[string]string, file string) error {
	rec := c.rec
	rec.Config, rec.File = maps.Clone(cfg), file
	if err := s.opts.Store.Put(ctx, rec); err != nil {
		return fmt.Errorf("update connector %s: %w", name, err)
	}
	s.mu.Lock()
	c.rec = rec
	s.mu.Unlock()
	s.log.Info("connector reconfigured", "connector", name)
	if rec.Target == store.Running {
		s.halt(name, c, Unassigned)
		s.start(name, c)
	}
	return nil
}

// Pause stops a connector's worker and keeps it PAUSED, across restarts,
// until Resume.
func (s *Supervisor) Pause(ctx context.Context, name string) error {
	return s.retarget(ctx, name, store.Paused)
}

// Stop stops a connector's worker and keeps it STOPPED (no tasks) until
// Resume; its offsets can then be changed.
func (s *Supervisor) Stop(ctx context.Context, name string) error {
	return s.retarget(ctx, name, store.Stopped)
}

// Resume sets a connector's target to RUNNING and starts it if it is not
// running.
func (s *Supervisor) Resume(ctx context.Context, name string) error {
	return s.retarget(ctx, name, store.Running)
}

func (s *Supervisor) retarget(ctx context.Context, name string, t store.Target) error {
	c, unlock, err := s.lock(name)
	if err != nil {
		return err
	}
	defer unlock()
	if c.rec.Target != t {
		if err := s.opts.Store.SetTarget(ctx, name, t); err != nil {
			return fmt.Errorf("set connector %s to %s: %w", name, t, err)
		}
		s.mu.Lock()
		c.rec.Target = t
		s.mu.Unlock()
		s.log.Info("connector target changed", "connector", name, "target", t)
	}
	switch t {
	case store.Running:
		if !s.active(c) {
			s.halt(name, c, Unassigned)
			s.start(name, c)
		}
	default:
		s.halt(name, c, stateOf(t))
	}
	return nil
}

// Restart restarts a connector's worker, Kafka Connect style. A connector
// and its one task share a worker, so restarting either restarts it; with
// onlyFailed it restarts only a FAILED connector. A connector whose target
// is not RUNNING is left as it is. It returns the status as it was, with
// what is being restarted shown as RESTARTING, and whether anything was.
func (s *Supervisor) Restart(ctx context.Context, name string, onlyFailed bool) (Status, bool, error) {
	c, unlock, err := s.lock(name)
	if err != nil {
		return Status{}, false, err
	}
	defer unlock()
	s.mu.Lock()
	st := s.statusLocked(name, c)
	s.mu.Unlock()
	if c.rec.Target != store.Running || (onlyFailed && st.State != Failed) {
		return st, false, nil
	}
	st.State, st.Trace = Restarting, ""
	for i := range st.Tasks {
		st.Tasks[i].State, st.Tasks[i].Trace = Restarting, ""
	}
	if !s.mayRun(name) {
		// Another instance runs it: ask its owner through the store.
		if err := s.cluster.shared.RequestRestart(ctx, name); err != nil {
			return Status{}, false, fmt.Errorf("ask the owner of connector %s to restart it: %w", name, err)
		}
		s.log.Info("connector restart requested from its owner", "connector", name, "owner", st.WorkerID)
		return st, true, nil
	}
	s.log.Info("connector restarting on request", "connector", name)
	s.halt(name, c, Unassigned)
	s.start(name, c)
	return st, true, nil
}

// RestartTask restarts a connector's task, Kafka Connect style: the
// connector's one task, 0, shares its worker, so the worker restarts (see
// Restart). It fails with ErrNotFound when the connector or the task does
// not exist; a STOPPED connector has no task. task is the id as the
// request path has it.
func (s *Supervisor) RestartTask(ctx context.Context, name, task string) error {
	info, err := s.Info(name)
	if err != nil {
		return err
	}
	if id, err := strconv.Atoi(task); err != nil || id < 0 || id >= info.Tasks {
		return taskNotFound(name, task)
	}
	_, _, err = s.Restart(ctx, name, false)
	return err
}

// Delete stops an API-managed connector and removes it with its offsets
// and private directory.
func (s *Supervisor) Delete(ctx context.Context, name string) error {
	c, unlock, err := s.lock(name)
	if err != nil {
		return err
	}
	defer unlock()
	if c.rec.File != "" {
		return &ManagedError{Name: name, File: c.rec.File}
	}
	return s.remove(ctx, name, c)
}

// remove stops and deletes a connector. c.op is held.
func (s *Supervisor) remove(ctx context.Context, name string, c *conn) error {
	s.halt(name, c, Stopped)
	if err := s.opts.Store.Delete(ctx, name); err != nil {
		return fmt.Errorf("delete connector %s: %w", name, err)
	}
	s.mu.Lock()
	delete(s.conns, name)
	c.deleted = true
	s.mu.Unlock()
	if dir := s.workDir(name); dir != "" {
		if err := os.RemoveAll(dir); err != nil {
			s.log.Warn("could not remove the deleted connector's directory", "connector", name, "error", err.Error())
		}
	}
	s.log.Info("connector deleted", "connector", name)
	return nil
}

// Counts returns how many connectors are in each state.
func (s *Supervisor) Counts() map[State]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[State]int{}
	for _, c := range s.conns {
		out[c.state]++
	}
	return out
}

// Statuses returns every connector's status, sorted by name.
func (s *Supervisor) Statuses() []Status {
	names := s.Names()
	out := make([]Status, 0, len(names))
	for _, n := range names {
		if st, err := s.Status(n); err == nil {
			out = append(out, st)
		}
	}
	return out
}
