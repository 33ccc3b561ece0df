package daemon

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
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
	i := Info{Name: name, Config: maps.Clone(c.rec.Config), Class: config.ClassOf(c.rec.Config), Tasks: config.Tasks(c.rec.Config), File: c.rec.File}
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

// statusLocked is a connector's status: its state is its task 0's, and
// it lists each of its tasks but those STOPPED. A RUNNING task whose probe
// finds its target unusable shows that problem as its trace; in cluster
// mode, a task another instance runs shows the status its owner
// published. Restarts and LastError count the tasks this instance runs.
// s.mu is held.
func (s *Supervisor) statusLocked(name string, c *conn) Status {
	first := s.taskStatusLocked(name, c, 0)
	st := Status{Name: name, State: first.State, Trace: first.Trace, WorkerID: first.WorkerID, Type: typeOf(config.ClassOf(c.rec.Config))}
	for id := range config.Tasks(c.rec.Config) {
		if t := s.taskStatusLocked(name, c, id); t.State != Stopped {
			st.Tasks = append(st.Tasks, t)
		}
	}
	for _, t := range c.tasks {
		st.Restarts += t.restarts
		if t.failedAt.After(st.LastError) {
			st.LastError = t.failedAt
		}
	}
	return st
}

// taskStatusLocked is the status of one task of a connector: this
// instance's when it runs the task, else what its owner published
// (sharedTaskStatus). s.mu is held.
func (s *Supervisor) taskStatusLocked(name string, c *conn, id int) TaskStatus {
	t, ok := c.tasks[id]
	if !ok {
		return s.sharedTaskStatus(store.Task{Connector: name, ID: id}, c.rec.Target)
	}
	trace := t.trace
	if t.state == Running && trace == "" {
		trace = t.problem
	}
	return TaskStatus{ID: id, State: t.state, Trace: trace, WorkerID: s.opts.WorkerID}
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
	c := newConn(store.Record{Name: def.Name, Config: maps.Clone(def.Config), Target: target, File: def.File})
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
	s.syncTasks(def.Name, c)
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
	} else {
		s.syncTasks(name, c)
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
		s.start(name, c)
	default:
		s.halt(name, c, stateOf(t))
	}
	return nil
}

// Restart restarts a connector's tasks, Kafka Connect style: the
// connector and its task 0 share a worker, so restarting the connector
// restarts its tasks; with onlyFailed it restarts only the FAILED ones. A
// connector whose target is not RUNNING is left as it is. In cluster mode
// the instances that run the other tasks are asked to restart theirs
// through the store; asked for more than one, they restart every task of
// the connector they run. It returns the status as it was, with what is
// being restarted shown as RESTARTING, and whether anything was.
func (s *Supervisor) Restart(ctx context.Context, name string, onlyFailed bool) (Status, bool, error) {
	c, unlock, err := s.lock(name)
	if err != nil {
		return Status{}, false, err
	}
	defer unlock()
	var local, remote []int
	s.mu.Lock()
	st := s.statusLocked(name, c)
	for id := range config.Tasks(c.rec.Config) {
		if onlyFailed && s.taskStatusLocked(name, c, id).State != Failed {
			continue
		}
		if _, ok := c.tasks[id]; ok {
			local = append(local, id)
		} else {
			remote = append(remote, id)
		}
	}
	s.mu.Unlock()
	if c.rec.Target != store.Running || len(local)+len(remote) == 0 {
		return st, false, nil
	}
	restarting := append(slices.Clone(local), remote...)
	if slices.Contains(restarting, 0) {
		st.State, st.Trace = Restarting, ""
	}
	for i, t := range st.Tasks {
		if slices.Contains(restarting, t.ID) {
			st.Tasks[i].State, st.Tasks[i].Trace = Restarting, ""
		}
	}
	if len(remote) > 0 {
		// Other instances run them: ask their owners through the store.
		which := store.AllTasks
		if len(remote) == 1 {
			which = remote[0]
		}
		if err := s.cluster.shared.RequestRestart(ctx, name, which); err != nil {
			return Status{}, false, fmt.Errorf("ask the instances that run connector %s to restart it: %w", name, err)
		}
		s.log.Info("connector restart requested from its owners", "connector", name, "tasks", remote)
	}
	if len(local) > 0 {
		s.log.Info("connector restarting on request", "connector", name, "tasks", local)
		s.restartTasks(name, c, local)
	}
	return st, true, nil
}

// RestartTask restarts one task of a connector, Kafka Connect style; in
// cluster mode, when another instance runs it, it asks that instance
// through the store. A task of a connector whose target is not RUNNING is
// left as it is. It fails with ErrNotFound when the connector or the task
// does not exist; a STOPPED connector has no task. task is the id as the
// request path has it.
func (s *Supervisor) RestartTask(ctx context.Context, name, task string) error {
	info, err := s.Info(name)
	if err != nil {
		return err
	}
	id, err := strconv.Atoi(task)
	if err != nil || id < 0 || id >= info.Tasks {
		return taskNotFound(name, task)
	}
	c, unlock, err := s.lock(name)
	if err != nil {
		return err
	}
	defer unlock()
	if c.rec.Target != store.Running {
		return nil
	}
	s.mu.Lock()
	_, local := c.tasks[id]
	s.mu.Unlock()
	if !local {
		if err := s.cluster.shared.RequestRestart(ctx, name, id); err != nil {
			return fmt.Errorf("ask the instance that runs task %d of connector %s to restart it: %w", id, name, err)
		}
		s.log.Info("connector task restart requested from its owner", "connector", name, "task", id)
		return nil
	}
	s.log.Info("connector task restarting on request", "connector", name, "task", id)
	s.restartTasks(name, c, []int{id})
	return nil
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
	for name, c := range s.conns {
		out[s.statusLocked(name, c).State]++
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
