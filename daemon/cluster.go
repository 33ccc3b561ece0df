package daemon

import (
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
// supervisor runs only the connectors assigned to it (Assign, Revoke),
// follows changes made through other instances (Changed), publishes the
// status of the connectors it runs, and answers for the others with the
// status their owners published.
type Shared interface {
	// Claim fences off earlier writers of the connector's offsets before
	// this instance starts it.
	Claim(ctx context.Context, name string) (int64, error)
	// Release forgets the claim once the connector has stopped here.
	Release(name string)
	PutStatus(ctx context.Context, name string, st store.Status) error
	Status(name string) (store.Status, bool)
	// CatchUp returns once everything written before the call is read.
	CatchUp(ctx context.Context) error
	// RequestRestart asks the owner of a connector to restart it; the
	// owner takes the request with TakeRestart.
	RequestRestart(ctx context.Context, name string) error
	TakeRestart(name string) bool
	// Watch has f called with a connector's name after each change read;
	// Start makes it Changed.
	Watch(f func(name string))
}

// statusInterval is how often the statuses of the connectors an instance
// runs are compared with what it last published.
const statusInterval = 200 * time.Millisecond

// cluster is a supervisor's state in cluster mode.
type cluster struct {
	shared Shared

	mu        sync.Mutex
	owned     map[string]bool
	published map[string]store.Status
	dirty     map[string]bool
	wake      chan struct{} // signalled when dirty gains a name
}

func newCluster(shared Shared) *cluster {
	return &cluster{shared: shared, owned: map[string]bool{}, published: map[string]store.Status{}, dirty: map[string]bool{}, wake: make(chan struct{}, 1)}
}

// owns reports whether this instance is assigned the connector.
func (cl *cluster) owns(name string) bool {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.owned[name]
}

// mayRun reports whether this instance may run the connector: always in
// standalone mode, only when assigned it in cluster mode.
func (s *Supervisor) mayRun(name string) bool {
	return s.cluster == nil || s.cluster.owns(name)
}

// Owned lists the connectors assigned to this instance, sorted.
func (s *Supervisor) Owned() []string {
	if s.cluster == nil {
		return nil
	}
	s.cluster.mu.Lock()
	defer s.cluster.mu.Unlock()
	return slices.Sorted(maps.Keys(s.cluster.owned))
}

// Assign makes this instance the owner of the named connectors: for each
// it reads the store up to date, claims the connector (fencing the
// previous owner's offset writes) and starts it if its target is RUNNING.
// Called by the group member after each rebalance, from one goroutine.
func (s *Supervisor) Assign(ctx context.Context, names []string) {
	if err := s.cluster.shared.CatchUp(ctx); err != nil {
		s.log.Warn("cluster: could not read the storage topics to their end before starting assigned connectors", "error", err.Error())
	}
	for _, name := range names {
		s.reconcile(ctx, name)
		if _, err := s.Info(name); err != nil {
			continue // deleted since the leader balanced
		}
		if _, err := s.cluster.shared.Claim(ctx, name); err != nil {
			s.log.Error("cluster: could not claim an assigned connector; it is not started", "connector", name, "error", err.Error())
			continue
		}
		s.cluster.mu.Lock()
		s.cluster.owned[name] = true
		s.cluster.mu.Unlock()
		c, unlock, err := s.lock(name)
		if err != nil {
			continue
		}
		target := c.rec.Target
		if target == store.Running && !s.active(c) {
			s.halt(name, c, Unassigned)
			s.start(name, c)
		}
		unlock()
		s.log.Info("cluster: connector assigned to this instance", "connector", name, "target", target)
	}
}

// Revoke stops the named connectors and gives them up; it returns once
// each has stopped (or its StopTimeout passed), so that the group hands
// them to another instance only then.
func (s *Supervisor) Revoke(names []string) {
	var wg sync.WaitGroup
	for _, name := range names {
		s.cluster.mu.Lock()
		delete(s.cluster.owned, name)
		delete(s.cluster.published, name)
		s.cluster.mu.Unlock()
		wg.Go(func() {
			if c, unlock, err := s.lock(name); err == nil {
				s.halt(name, c, stateOf(c.rec.Target))
				unlock()
			}
			s.cluster.shared.Release(name)
			s.log.Info("cluster: connector revoked from this instance", "connector", name)
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
		c := &conn{rec: rec, state: stateOf(rec.Target)}
		c.topics.load(rec.Topics)
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
		restart := s.mayRun(name) && s.cluster.shared.TakeRestart(name) && rec.Target == store.Running
		if !reconfigured && !restart && c.rec.Target == rec.Target {
			return
		}
		if restart {
			s.log.Info("connector restarting on request through another instance", "connector", name)
		}
		s.mu.Lock()
		c.rec.Config, c.rec.File, c.rec.Target = rec.Config, rec.File, rec.Target
		s.mu.Unlock()
		switch {
		case rec.Target != store.Running:
			s.halt(name, c, stateOf(rec.Target))
		case reconfigured || restart || !s.active(c):
			s.halt(name, c, Unassigned)
			s.start(name, c)
		}
	}
}

// publish writes the status of each connector this instance runs to the
// status topic whenever it changes, until ctx ends.
func (s *Supervisor) publish(ctx context.Context) {
	t := time.NewTicker(statusInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, name := range s.Owned() {
			st, err := s.localStatus(name)
			if err != nil {
				continue
			}
			s.cluster.mu.Lock()
			last, seen := s.cluster.published[name]
			s.cluster.mu.Unlock()
			if seen && last.State == st.State && last.Trace == st.Trace && slices.Equal(last.Tasks, st.Tasks) {
				continue
			}
			if err := s.cluster.shared.PutStatus(ctx, name, st); err != nil {
				s.log.Warn("cluster: could not publish a connector's status", "connector", name, "error", err.Error())
				continue
			}
			s.cluster.mu.Lock()
			if s.cluster.owned[name] {
				s.cluster.published[name] = st
			}
			s.cluster.mu.Unlock()
		}
	}
}

// localStatus is the status of a connector this instance runs, as the
// status topic holds it.
func (s *Supervisor) localStatus(name string) (store.Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.conns[name]
	if !ok {
		return store.Status{}, notFound(name)
	}
	st := s.statusLocked(name, c)
	out := store.Status{State: string(st.State), Trace: st.Trace, WorkerID: st.WorkerID}
	for _, t := range st.Tasks {
		out.Tasks = append(out.Tasks, store.TaskStatus{ID: t.ID, State: string(t.State), Trace: t.Trace, WorkerID: t.WorkerID})
	}
	return out, nil
}

// sharedStatus is the status of a connector another instance runs, as its
// owner last published it; UNASSIGNED (with the state its target implies
// when it is not RUNNING) while no instance has. s.mu is held.
func (s *Supervisor) sharedStatus(name string, c *conn) Status {
	st := Status{Name: name, Type: typeOf(config.ClassOf(c.rec.Config)), State: stateOf(c.rec.Target)}
	pub, ok := s.cluster.shared.Status(name)
	if !ok {
		if st.State != Stopped {
			st.Tasks = []TaskStatus{{ID: 0, State: st.State}}
		}
		return st
	}
	st.State, st.Trace, st.WorkerID = State(pub.State), pub.Trace, pub.WorkerID
	for _, t := range pub.Tasks {
		st.Tasks = append(st.Tasks, TaskStatus{ID: t.ID, State: State(t.State), Trace: t.Trace, WorkerID: t.WorkerID})
	}
	return st
}

// ReleaseAll stops every connector this instance runs and gives them up,
// for a shutdown that hands them over before the process exits.
func (s *Supervisor) ReleaseAll() {
	if s.cluster != nil {
		s.Revoke(s.Owned())
	}
}
