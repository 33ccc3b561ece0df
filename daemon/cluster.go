package daemon

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/sluice-cdc/sluice/daemon/config"
	"github.com/sluice-cdc/sluice/daemon/store"
)

// Shared is the store of cluster mode (store.Kafka), which the other
// instances of the cluster change too. With Options.Shared set, the
// supervisor runs only the tasks assigned to it (Assign, Revoke), follows
// changes made through other instances (Changed), publishes the status of
// the tasks it runs, and answers for the others with the status their
// owners published.
type Shared interface {
	// Claim fences off earlier runners of the task (and writers of the
	// connector's offsets, for task 0) before this instance starts it.
	Claim(ctx context.Context, task store.Task) (int64, error)
	// Release forgets the claim once the task has stopped here.
	Release(task store.Task)
	PutStatus(ctx context.Context, task store.Task, st store.Status) error
	Status(task store.Task) (store.Status, bool)
	// CatchUp returns once everything written before the call is read.
	CatchUp(ctx context.Context) error
	// RequestRestart asks the instances that run a connector's tasks to
	// restart one (or every one, with store.AllTasks); each takes the
	// request with TakeRestart.
	RequestRestart(ctx context.Context, name string, task int) error
	TakeRestart(name string) (task int, ok bool)
	// Watch has f called with a connector's name after each change read;
	// Start makes it Changed.
	Watch(f func(name string))
}

// statusInterval is how often the statuses of the tasks an instance runs
// are compared with what it last published.
const statusInterval = 200 * time.Millisecond

// cluster is a supervisor's state in cluster mode.
type cluster struct {
	shared Shared

	mu        sync.Mutex
	owned     map[store.Task]bool
	published map[store.Task]store.Status
	dirty     map[string]bool
	wake      chan struct{} // signalled when dirty gains a name
}

func newCluster(shared Shared) *cluster {
	return &cluster{shared: shared, owned: map[store.Task]bool{}, published: map[store.Task]store.Status{}, dirty: map[string]bool{}, wake: make(chan struct{}, 1)}
}

// runs reports whether this instance may run the task of connector c:
// always in standalone mode or when c runs on every instance
// (config.EveryInstance), else only when assigned it. c.op or s.mu is
// held.
func (s *Supervisor) runs(c *conn, t store.Task) bool {
	if s.cluster == nil || config.EveryInstance(c.rec.Config) {
		return true
	}
	s.cluster.mu.Lock()
	defer s.cluster.mu.Unlock()
	return s.cluster.owned[t]
}

// mayRun reports whether this instance may run a task of connector c.
// c.op is held.
func (s *Supervisor) mayRun(name string, c *conn) bool {
	return s.cluster == nil || config.EveryInstance(c.rec.Config) || slices.ContainsFunc(s.Owned(), func(t store.Task) bool { return t.Connector == name })
}

// Owned lists the tasks assigned to this instance, sorted.
func (s *Supervisor) Owned() []store.Task {
	if s.cluster == nil {
		return nil
	}
	s.cluster.mu.Lock()
	defer s.cluster.mu.Unlock()
	return slices.SortedFunc(maps.Keys(s.cluster.owned), func(a, b store.Task) int {
		return cmp.Or(cmp.Compare(a.Connector, b.Connector), cmp.Compare(a.ID, b.ID))
	})
}

// Assign makes this instance the owner of the tasks: for each it reads the
// store up to date, claims the task (fencing its previous owner's writes)
// and starts it if its connector's target is RUNNING. Called by the group
// member after each rebalance, from one goroutine.
func (s *Supervisor) Assign(ctx context.Context, tasks []store.Task) {
	if err := s.cluster.shared.CatchUp(ctx); err != nil {
		s.log.Warn("cluster: could not read the storage topics to their end before starting assigned connectors", "error", err.Error())
	}
	seen := map[string]bool{}
	for _, t := range tasks {
		if !seen[t.Connector] {
			seen[t.Connector] = true
			s.reconcile(ctx, t.Connector)
		}
		info, err := s.Info(t.Connector)
		if err != nil || t.ID >= config.Tasks(info.Config) {
			continue // deleted, or fewer tasks, since the leader balanced
		}
		if _, err := s.cluster.shared.Claim(ctx, t); err != nil {
			s.log.Error("cluster: could not claim an assigned task; it is not started", "connector", t.Connector, "task", t.ID, "error", err.Error())
			continue
		}
		s.cluster.mu.Lock()
		s.cluster.owned[t] = true
		s.cluster.mu.Unlock()
		c, unlock, err := s.lock(t.Connector)
		if err != nil {
			continue
		}
		target := c.rec.Target
		s.syncTasks(t.Connector, c)
		if target == store.Running {
			s.start(t.Connector, c)
		}
		unlock()
		s.log.Info("cluster: connector assigned to this instance", "connector", t.Connector, "task", t.ID, "target", target)
	}
}

// Revoke stops the tasks and gives them up; it returns once each has
// stopped (or its StopTimeout passed), so that the group hands them to
// another instance only then.
func (s *Supervisor) Revoke(tasks []store.Task) {
	var wg sync.WaitGroup
	for _, t := range tasks {
		s.cluster.mu.Lock()
		delete(s.cluster.owned, t)
		delete(s.cluster.published, t)
		s.cluster.mu.Unlock()
		wg.Go(func() {
			if c, unlock, err := s.lock(t.Connector); err == nil {
				s.syncTasks(t.Connector, c)
				unlock()
			}
			s.cluster.shared.Release(t)
			s.log.Info("cluster: connector revoked from this instance", "connector", t.Connector, "task", t.ID)
		})
	}
	wg.Wait()
}

// Changed tells the supervisor that another instance may have created,
// changed or deleted the connector; it applies the change soon after, on
// its own goroutine. It never blocks.
func (s *Supervisor) Changed(name string) {
	if s.cluster == nil {
		return
	}
	s.cluster.mu.Lock()
	s.cluster.dirty[name] = true
	s.cluster.mu.Unlock()
	select {
	case s.cluster.wake <- struct{}{}:
	default:
	}
}

// follow applies changes signalled by Changed until ctx ends.
func (s *Supervisor) follow(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.cluster.wake:
		}
		s.cluster.mu.Lock()
		names := slices.Sorted(maps.Keys(s.cluster.dirty))
		clear(s.cluster.dirty)
		s.cluster.mu.Unlock()
		for _, name := range names {
			s.reconcile(ctx, name)
		}
	}
}

// reconcile brings the local view of a connector in line with the store:
// it adds a connector created elsewhere, drops one deleted elsewhere, and
// applies a configuration or target state changed elsewhere, restarting,
// pausing or stopping the connector when this instance runs it.
func (s *Supervisor) reconcile(ctx context.Context, name string) {
	rec, err := s.opts.Store.Get(ctx, name)
	s.mu.Lock()
	_, known := s.conns[name]
	s.mu.Unlock()
	switch {
	case errors.Is(err, store.ErrNotFound):
		c, unlock, err := s.lock(name)
		if err != nil {
			return
		}
		defer unlock()
		s.halt(name, c, Stopped)
		s.mu.Lock()
		delete(s.conns, name)
		c.deleted = true
		s.mu.Unlock()
		s.log.Info("cluster: connector deleted through another instance", "connector", name)
	case err != nil:
		s.log.Warn("cluster: could not read a changed connector", "connector", name, "error", err.Error())
	case !known:
		c := newConn(rec)
		s.opts.Loggers.Logger(ConnectorLogger(name))
		c.op.Lock()
		defer c.op.Unlock()
		s.mu.Lock()
		if _, dup := s.conns[name]; dup {
			s.mu.Unlock()
			return
		}
		s.conns[name] = c
		s.mu.Unlock()
		s.syncTasks(name, c)
		if rec.Target == store.Running {
			s.start(name, c)
		}
	default:
		c, unlock, err := s.lock(name)
		if err != nil {
			return
		}
		defer unlock()
		reconfigured := !maps.Equal(c.rec.Config, rec.Config) || c.rec.File != rec.File
		restart, requested := store.AllTasks, false
		if s.mayRun(name, c) {
			restart, requested = s.cluster.shared.TakeRestart(name)
		}
		requested = requested && rec.Target == store.Running
		if !reconfigured && !requested && c.rec.Target == rec.Target {
			return
		}
		s.mu.Lock()
		c.rec.Config, c.rec.File, c.rec.Target = rec.Config, rec.File, rec.Target
		s.mu.Unlock()
		switch {
		case rec.Target != store.Running:
			s.halt(name, c, stateOf(rec.Target))
			s.syncTasks(name, c)
		case reconfigured || requested && restart == store.AllTasks:
			if requested {
				s.log.Info("connector restarting on request through another instance", "connector", name)
			}
			s.halt(name, c, Unassigned)
			s.start(name, c)
		case requested:
			s.mu.Lock()
			_, local := c.tasks[restart]
			s.mu.Unlock()
			if local {
				s.log.Info("connector restarting on request through another instance", "connector", name, "task", restart)
				s.restartTasks(name, c, []int{restart})
			}
			s.start(name, c)
		default:
			s.start(name, c)
		}
	}
}

// publish writes the status of each task this instance runs to the status
// topic whenever it changes, until ctx ends.
func (s *Supervisor) publish(ctx context.Context) {
	tick := time.NewTicker(statusInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for _, t := range s.Owned() {
			st, err := s.localStatus(t)
			if err != nil {
				continue
			}
			s.cluster.mu.Lock()
			last, seen := s.cluster.published[t]
			s.cluster.mu.Unlock()
			if seen && last.State == st.State && last.Trace == st.Trace && slices.Equal(last.Tasks, st.Tasks) {
				continue
			}
			if err := s.cluster.shared.PutStatus(ctx, t, st); err != nil {
				s.log.Warn("cluster: could not publish a connector's status", "connector", t.Connector, "task", t.ID, "error", err.Error())
				continue
			}
			s.cluster.mu.Lock()
			if s.cluster.owned[t] {
				s.cluster.published[t] = st
			}
			s.cluster.mu.Unlock()
		}
	}
}

// localStatus is the status of a task this instance runs, as the status
// topic holds it: the task's state, and the task itself unless it is
// STOPPED. Task 0's is the connector's status too.
func (s *Supervisor) localStatus(t store.Task) (store.Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.conns[t.Connector]
	if !ok {
		return store.Status{}, notFound(t.Connector)
	}
	ts := s.taskStatusLocked(t.Connector, c, t.ID)
	out := store.Status{State: string(ts.State), Trace: ts.Trace, WorkerID: ts.WorkerID}
	if ts.State != Stopped {
		out.Tasks = []store.TaskStatus{{ID: ts.ID, State: string(ts.State), Trace: ts.Trace, WorkerID: ts.WorkerID}}
	}
	return out, nil
}

// sharedTaskStatus is the status of a task another instance runs, as its
// owner last published it; UNASSIGNED (or the state its connector's target
// implies when it is not RUNNING), without a worker, while no instance
// has.
func (s *Supervisor) sharedTaskStatus(t store.Task, target store.Target) TaskStatus {
	ts := TaskStatus{ID: t.ID, State: stateOf(target)}
	if s.cluster == nil {
		return ts
	}
	pub, ok := s.cluster.shared.Status(t)
	if !ok {
		return ts
	}
	ts.State, ts.Trace, ts.WorkerID = State(pub.State), pub.Trace, pub.WorkerID
	for _, p := range pub.Tasks {
		if p.ID == t.ID {
			ts.State, ts.Trace, ts.WorkerID = State(p.State), p.Trace, p.WorkerID
		}
	}
	return ts
}

// ReleaseAll stops every task this instance runs and gives them up, for a
// shutdown that hands them over before the process exits.
func (s *Supervisor) ReleaseAll() {
	if s.cluster != nil {
		s.Revoke(s.Owned())
	}
}
