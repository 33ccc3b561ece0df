// Package group makes a sluice instance a member of its cluster: it joins
// a Kafka consumer group (group.id) through franz-go's group management
// with a balancer of its own, which hands connectors' tasks to members
// instead of partitions, sticky and cooperative (see balance), and tells
// the supervisor which tasks to run. A connector has one task but a sink
// whose tasks.max is above 1, whose tasks are spread over the members.
//
// One task runs on one instance at a time: a member stops what it loses
// before the group hands it to another (cooperative revocation), and a
// member that loses its session — it stopped hearing from the group for a
// session timeout, or the group says it is no longer a member — stops
// every task at once, by itself. The offsets of a member that could not
// stop in time (a process paused past its session) are fenced by the
// store (store.Kafka.Claim).
package group

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-cdc/sluice/daemon/config"
	"github.com/sluice-cdc/sluice/daemon/store"
)

// Runner runs the tasks assigned to this instance (daemon.Supervisor).
type Runner interface {
	// Assign claims and starts tasks; Revoke stops them and returns once
	// they have stopped.
	Assign(ctx context.Context, tasks []store.Task)
	Revoke(tasks []store.Task)
}

// Connectors is the shared store the leader balances from (store.Kafka).
type Connectors interface {
	List(ctx context.Context) ([]store.Record, error)
	Get(ctx context.Context, name string) (store.Record, error)
	CatchUp(ctx context.Context) error
}

// Options configure a Member.
type Options struct {
	GroupID string
	// Topic is a topic every member subscribes to so that it joins the
	// group (the config storage topic); nothing is read through the group.
	Topic string
	// Worker names this instance in the members' metadata (its worker id).
	Worker            string
	SessionTimeout    time.Duration
	HeartbeatInterval time.Duration
	RebalanceTimeout  time.Duration
	Logger            *slog.Logger
}

// Member is one instance's membership of the cluster's group.
type Member struct {
	opts  Options
	run   Runner
	conns Connectors
	log   *slog.Logger
	cl    *kgo.Client

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu          sync.Mutex
	holding     map[string]bool // tasks assigned or still stopping
	pending     *assignment     // the latest assignment not yet applied
	leader      bool
	balanced    map[string]int // the connectors of the last balance, with their tasks
	lastContact time.Time
	joining     bool // a JoinGroup is in flight
	closing     bool
	step        sync.Mutex // serializes applying assignments and losing them
	wake        chan struct{}
}

// Join joins the group and applies its assignments until Leave. opts are
// the Kafka client options (seed brokers, SASL, TLS).
func Join(o Options, run Runner, conns Connectors, opts ...kgo.Opt) (*Member, error) {
	ctx, cancel := context.WithCancel(context.Background())
	m := &Member{opts: o, run: run, conns: conns, log: o.Logger, ctx: ctx, cancel: cancel,
		holding: map[string]bool{}, balanced: map[string]int{}, lastContact: time.Now(), wake: make(chan struct{}, 1)}
	cl, err := kgo.NewClient(append(slices.Clone(opts),
		kgo.ConsumerGroup(o.GroupID),
		kgo.ConsumeTopics(o.Topic),
		kgo.Balancers(balancer{m}),
		kgo.SessionTimeout(o.SessionTimeout),
		kgo.HeartbeatInterval(o.HeartbeatInterval),
		kgo.RebalanceTimeout(o.RebalanceTimeout),
		kgo.DisableAutoCommit(),
		kgo.OnPartitionsLost(func(context.Context, *kgo.Client, map[string][]int32) {
			m.lost("the group no longer counts this instance as a member")
		}),
		kgo.WithHooks(m),
	)...)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("join group %s: %w", o.GroupID, err)
	}
	m.cl = cl
	m.wg.Go(m.apply)
	m.wg.Go(m.watchdog)
	return m, nil
}

// OnBrokerWrite notes a join sent: while the coordinator holds it, waiting
// for the other members, this member's session cannot expire.
func (m *Member) OnBrokerWrite(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	if kmsg.Key(key) == kmsg.JoinGroup && err == nil {
		m.mu.Lock()
		m.joining = true
		m.mu.Unlock()
	}
}

// OnBrokerE2E records that the group coordinator answered: a heartbeat,
// join or sync that completed proves the session alive.
func (m *Member) OnBrokerE2E(_ kgo.BrokerMetadata, key int16, e2e kgo.BrokerE2E) {
	switch kmsg.Key(key) {
	case kmsg.Heartbeat, kmsg.JoinGroup, kmsg.SyncGroup:
	default:
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if kmsg.Key(key) == kmsg.JoinGroup {
		m.joining = false
	}
	if e2e.Err() == nil {
		m.lastContact = time.Now()
	}
}

// watchdog stops every task when the group has not answered for a session
// timeout less one heartbeat interval: by then the coordinator may have
// handed them to another instance.
func (m *Member) watchdog() {
	limit := m.opts.SessionTimeout - m.opts.HeartbeatInterval
	t := time.NewTicker(min(limit/4, 500*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-t.C:
		}
		m.mu.Lock()
		silent := time.Since(m.lastContact)
		idle := len(m.holding) == 0 || m.joining
		m.mu.Unlock()
		if !idle && silent > limit {
			m.lost(fmt.Sprintf("the group has not answered for %s", silent.Round(time.Millisecond)))
			// Rejoin saying so: should the session have survived, the
			// leader hands the tasks out again.
			m.cl.ForceRebalance()
		}
	}
}

// lost stops every task this instance holds, saying why, and waits for
// them.
func (m *Member) lost(why string) {
	m.dropAll(func(names []string) {
		m.log.Warn("cluster: session lost; stopping every connector of this instance", "why", why, "tasks", names)
	})
}

// dropAll stops every task this instance holds and waits for them; say
// logs their names first, when there are any.
func (m *Member) dropAll(say func(names []string)) {
	m.step.Lock()
	defer m.step.Unlock()
	m.mu.Lock()
	names := slices.Sorted(maps.Keys(m.holding))
	m.pending = nil
	m.mu.Unlock()
	if len(names) == 0 {
		return
	}
	say(names)
	m.run.Revoke(parseTasks(names))
	m.mu.Lock()
	for _, n := range names {
		delete(m.holding, n)
	}
	m.mu.Unlock()
}

// apply applies assignments as they arrive: revocations first, waiting
// until those tasks have stopped and then rejoining so that the leader can
// hand them on; then the new tasks.
func (m *Member) apply() {
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-m.wake:
		}
		m.mu.Lock()
		a := m.pending
		m.pending = nil
		closing := m.closing
		m.mu.Unlock()
		if a == nil || closing {
			continue
		}
		m.step.Lock()
		m.applyOne(a)
		m.step.Unlock()
	}
}

// applyOne applies one assignment. m.step is held.
func (m *Member) applyOne(a *assignment) {
	m.mu.Lock()
	held := maps.Clone(m.holding)
	m.mu.Unlock()
	next := map[string]bool{}
	for _, c := range a.Tasks {
		next[c] = true
	}
	var revoked, added []string
	for c := range held {
		if !next[c] {
			revoked = append(revoked, c)
		}
	}
	for c := range next {
		if !held[c] {
			added = append(added, c)
		}
	}
	slices.Sort(revoked)
	slices.Sort(added)
	if len(revoked) > 0 {
		m.log.Info("cluster: stopping tasks the group moves elsewhere", "tasks", revoked)
		m.run.Revoke(parseTasks(revoked))
		m.mu.Lock()
		for _, c := range revoked {
			delete(m.holding, c)
		}
		m.mu.Unlock()
		m.cl.ForceRebalance()
	}
	if len(added) > 0 {
		m.mu.Lock()
		for _, c := range added {
			m.holding[c] = true
		}
		m.mu.Unlock()
		m.log.Info("cluster: starting tasks the group assigned to this instance", "tasks", added)
		m.run.Assign(m.ctx, parseTasks(added))
	}
}

// parseTasks reads the names of tasks as the leader wrote them; a name
// that is no task's is left out.
func parseTasks(names []string) []store.Task {
	out := make([]store.Task, 0, len(names))
	for _, n := range names {
		if t, err := store.ParseTask(n); err == nil {
			out = append(out, t)
		}
	}
	return out
}

// Changed is told of every change to a connector's definition read from
// the store; the leader rebalances when a connector appears or goes, or
// its number of tasks changes. It never blocks.
func (m *Member) Changed(name string) {
	m.mu.Lock()
	leader := m.leader && !m.closing
	m.mu.Unlock()
	if !leader {
		return
	}
	m.wg.Go(func() {
		tasks := 0
		if rec, err := m.conns.Get(m.ctx, name); err == nil {
			tasks = assignedTasks(rec.Config)
		} else if !errors.Is(err, store.ErrNotFound) {
			return
		}
		m.mu.Lock()
		changed := m.balanced[name] != tasks
		m.mu.Unlock()
		if changed {
			m.cl.ForceRebalance()
		}
	})
}

// Leave stops every task this instance runs, then leaves the group, so
// that the others take them over at once (a rebalance, not a session
// timeout).
func (m *Member) Leave() {
	m.mu.Lock()
	m.closing = true
	m.mu.Unlock()
	m.dropAll(func(names []string) {
		m.log.Info("cluster: leaving the group; stopping the connectors of this instance", "tasks", names)
	})
	m.cancel()
	m.wg.Wait()
	m.cl.Close()
	m.log.Info("cluster: left the group", "group", m.opts.GroupID)
}

// Holding lists the tasks this instance was assigned, sorted, each named as
// store.Task.String names it.
func (m *Member) Holding() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Sorted(maps.Keys(m.holding))
}

// balancer is the group protocol: it speaks for m in joins and balances as
// the leader.
type balancer struct{ m *Member }

var _ kgo.GroupBalancer = balancer{}

// ProtocolName names the protocol; every member must speak it.
func (balancer) ProtocolName() string { return "sluice-connectors" }

// IsCooperative is true: members keep running what they keep.
func (balancer) IsCooperative() bool { return true }

// JoinGroupMetadata is this member's worker id and held tasks.
func (b balancer) JoinGroupMetadata([]string, map[string][]int32, int32) []byte {
	b.m.mu.Lock()
	st := memberState{Worker: b.m.opts.Worker, Owned: slices.Sorted(maps.Keys(b.m.holding))}
	b.m.mu.Unlock()
	data, _ := json.Marshal(st)
	return data
}

// ParseSyncAssignment hands this member's assignment to its applier; the
// group's topics stay unassigned, as nothing is read through the group.
func (b balancer) ParseSyncAssignment(data []byte) (map[string][]int32, error) {
	var a assignment
	if err := json.Unmarshal(data, &a); err != nil {
		return nil, fmt.Errorf("decode the group's assignment: %w", err)
	}
	b.m.mu.Lock()
	b.m.pending = &a
	b.m.leader = a.Leader
	b.m.lastContact = time.Now()
	b.m.mu.Unlock()
	select {
	case b.m.wake <- struct{}{}:
	default:
	}
	return map[string][]int32{}, nil
}

// MemberBalancer decodes the members' metadata for the leader's balance.
func (b balancer) MemberBalancer(members []kmsg.JoinGroupResponseMember) (kgo.GroupMemberBalancer, map[string]struct{}, error) {
	states := make([]memberState, len(members))
	for i, mem := range members {
		st, err := decodeMember(mem.MemberID, mem.ProtocolMetadata)
		if err != nil {
			return nil, nil, err
		}
		states[i] = st
	}
	return &leaderBalance{m: b.m, members: states}, map[string]struct{}{}, nil
}

// leaderBalance is one balance computed by the leader.
type leaderBalance struct {
	m       *Member
	members []memberState
	leader  string
}

// SetBalanceInfo learns the leader's member id (this member's).
func (l *leaderBalance) SetBalanceInfo(info kgo.BalanceInfo) { l.leader = info.LeaderID }

// Balance is never called: BalanceOrError is.
func (l *leaderBalance) Balance(map[string]int32) kgo.IntoSyncAssignment { panic("unreachable") }

// BalanceOrError reads the connectors to the end of the config topic and
// assigns their tasks. The member counts as the leader from here on, not
// only once the group's assignment reaches it: a connector created after
// the connectors were read would otherwise go unbalanced (Changed ignores
// it on a member that does not yet know it leads).
func (l *leaderBalance) BalanceOrError(map[string]int32) (kgo.IntoSyncAssignment, error) {
	l.m.mu.Lock()
	l.m.leader = true
	l.m.mu.Unlock()
	ctx, cancel := context.WithTimeout(l.m.ctx, l.m.opts.RebalanceTimeout/2)
	defer cancel()
	if err := l.m.conns.CatchUp(ctx); err != nil {
		return nil, fmt.Errorf("read the connectors before balancing: %w", err)
	}
	recs, err := l.m.conns.List(ctx)
	if err != nil {
		return nil, err
	}
	balanced := map[string]int{}
	var tasks []string
	for _, r := range recs {
		n := assignedTasks(r.Config)
		balanced[r.Name] = n
		for _, t := range store.Tasks(r.Name, n) {
			tasks = append(tasks, t.String())
		}
	}
	plan := balance(l.members, tasks)
	l.m.mu.Lock()
	l.m.balanced = balanced
	l.m.mu.Unlock()
	byWorker := map[string][]string{}
	for _, mem := range l.members {
		byWorker[mem.Worker] = plan[mem.ID]
	}
	l.m.log.Info("cluster: balanced connectors over the group's members", "members", len(l.members), "connectors", len(recs), "tasks", len(tasks), "plan", byWorker)
	return syncPlan{plan: plan, leader: l.leader}, nil
}

// assignedTasks is how many tasks of a connector the group hands out: none
// for one that runs on every instance (config.EveryInstance).
func assignedTasks(cfg map[string]string) int {
	if config.EveryInstance(cfg) {
		return 0
	}
	return config.Tasks(cfg)
}

// syncPlan is a balance as the SyncGroup request carries it.
type syncPlan struct {
	plan   map[string][]string
	leader string
}

func (p syncPlan) IntoSyncAssignment() []kmsg.SyncGroupRequestGroupAssignment {
	out := make([]kmsg.SyncGroupRequestGroupAssignment, 0, len(p.plan))
	for _, id := range slices.Sorted(maps.Keys(p.plan)) {
		data, _ := json.Marshal(assignment{Tasks: p.plan[id], Leader: id == p.leader})
		out = append(out, kmsg.SyncGroupRequestGroupAssignment{MemberID: id, MemberAssignment: data})
	}
	return out
}
