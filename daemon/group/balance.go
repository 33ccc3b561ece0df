package group

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/sluice-cdc/sluice/daemon/store"
)

// memberState is what a member tells the leader when it joins: who it is
// and which tasks it still runs (or is stopping), each named as
// store.Task.String names it, so that a single-task connector is named as
// itself.
type memberState struct {
	ID     string   `json:"-"`
	Worker string   `json:"worker"`
	Owned  []string `json:"owned"`
}

// assignment is what the leader gives one member: every task it may run
// in this generation, named as in memberState. A task it runs that is
// missing is revoked.
type assignment struct {
	Tasks []string `json:"connectors"`
	// Leader is true in the leader's own assignment.
	Leader bool `json:"leader,omitempty"`
}

func decodeMember(id string, metadata []byte) (memberState, error) {
	m := memberState{ID: id}
	if err := json.Unmarshal(metadata, &m); err != nil {
		return m, fmt.Errorf("member %s: decode its join metadata: %w", id, err)
	}
	return m, nil
}

// connectorOf is the connector a task named as store.Task.String names it
// belongs to.
func connectorOf(task string) string {
	t, err := store.ParseTask(task)
	if err != nil {
		return task
	}
	return t.Connector
}

// balance assigns tasks to members, sticky and cooperative as Kafka
// Connect's incremental cooperative protocol. It aims at a plan where each
// member runs at most its fair share of the tasks (all tasks divided by
// the members, rounded up) and at most its share of each connector's
// tasks (the connector's tasks divided by the members, rounded up), so
// that the tasks of a sink spread over the instances:
//
//   - a task stays with the member that runs it, as long as it exists and
//     the member is within both shares; one that two members claim stays
//     with the first (by member id);
//   - a member above a share loses its surplus: its tasks of one connector
//     beyond that connector's share (the highest task ids), then its tasks
//     beyond its fair share (the last by name);
//   - a task no member runs goes to the member with the fewest tasks of
//     its connector, then the fewest tasks, among those below both shares;
//     when every member below the connector's share is at its fair share,
//     one of them gives up a task of another connector (the last by name)
//     to a member that has room for it, and takes this one instead.
//
// A task a member loses, whether surplus or given up, goes to nobody in
// this generation: the member stops it and rejoins, and the next
// generation hands it out. So no task is assigned to a member while
// another may still run it. The result has an entry for every member,
// sorted.
func balance(members []memberState, tasks []string) map[string][]string {
	members = slices.Clone(members)
	slices.SortFunc(members, func(a, b memberState) int { return cmp.Compare(a.ID, b.ID) })
	out := map[string][]string{}
	for _, m := range members {
		out[m.ID] = []string{}
	}
	if len(members) == 0 {
		return out
	}
	p := newPlan(members, tasks)

	claimed := map[string]bool{}
	for _, m := range members {
		for _, t := range slices.Sorted(slices.Values(m.Owned)) {
			if p.exists[t] && !claimed[t] {
				p.add(m.ID, t)
			}
			claimed[t] = true
		}
	}
	kept := map[string]map[string]bool{}
	for _, m := range members {
		p.trim(m.ID)
		kept[m.ID] = maps.Clone(p.holds[m.ID])
	}

	var pool []string
	for t := range p.exists {
		if !claimed[t] {
			pool = append(pool, t)
		}
	}
	// The tasks of the connectors with the most go first, while every
	// member still has room for them.
	slices.SortFunc(pool, func(a, b string) int {
		if c := cmp.Compare(p.tasks[connectorOf(b)], p.tasks[connectorOf(a)]); c != 0 {
			return c
		}
		ta, _ := store.ParseTask(a)
		tb, _ := store.ParseTask(b)
		return cmp.Or(cmp.Compare(ta.Connector, tb.Connector), cmp.Compare(ta.ID, tb.ID))
	})
	for _, t := range pool {
		p.add(p.place(t), t)
	}

	for _, m := range members {
		for t := range p.holds[m.ID] {
			// A task the member keeps, or one nobody runs now.
			if kept[m.ID][t] || !claimed[t] {
				out[m.ID] = append(out[m.ID], t)
			}
		}
		slices.Sort(out[m.ID])
	}
	return out
}

// plan is a balance under way: which member holds which task.
type plan struct {
	ids    []string // members, sorted
	exists map[string]bool
	tasks  map[string]int // tasks by connector
	fair   int
	holds  map[string]map[string]bool // member → tasks
	count  map[string]map[string]int  // member → connector → tasks held
	share  func(connector string) int // most tasks of the connector a member should hold
}

func newPlan(members []memberState, tasks []string) *plan {
	p := &plan{exists: map[string]bool{}, tasks: map[string]int{}, holds: map[string]map[string]bool{}, count: map[string]map[string]int{}}
	for _, t := range tasks {
		if !p.exists[t] {
			p.exists[t] = true
			p.tasks[connectorOf(t)]++
		}
	}
	for _, m := range members {
		p.ids = append(p.ids, m.ID)
		p.holds[m.ID] = map[string]bool{}
		p.count[m.ID] = map[string]int{}
	}
	n := len(members)
	p.fair = (len(p.exists) + n - 1) / n
	p.share = func(c string) int { return (p.tasks[c] + n - 1) / n }
	return p
}

func (p *plan) add(member, task string) {
	p.holds[member][task] = true
	p.count[member][connectorOf(task)]++
}

func (p *plan) remove(member, task string) {
	delete(p.holds[member], task)
	p.count[member][connectorOf(task)]--
}

// trim takes a member down to both shares.
func (p *plan) trim(member string) {
	byID := slices.SortedFunc(maps.Keys(p.holds[member]), func(a, b string) int {
		ta, _ := store.ParseTask(a)
		tb, _ := store.ParseTask(b)
		return cmp.Compare(tb.ID, ta.ID)
	})
	for _, t := range byID {
		if c := connectorOf(t); p.count[member][c] > p.share(c) {
			p.remove(member, t)
		}
	}
	for _, t := range slices.Backward(slices.Sorted(maps.Keys(p.holds[member]))) {
		if len(p.holds[member]) <= p.fair {
			break
		}
		p.remove(member, t)
	}
}

// room reports whether member can take a task of connector c within both
// shares.
func (p *plan) room(member, c string) bool {
	return len(p.holds[member]) < p.fair && p.count[member][c] < p.share(c)
}

// least is the member among those ok accepts with the fewest tasks of
// connector c, then the fewest tasks, then the first by id; "" when ok
// accepts none.
func (p *plan) least(c string, ok func(member string) bool) string {
	best := ""
	for _, m := range p.ids {
		if !ok(m) {
			continue
		}
		if best == "" || cmp.Or(cmp.Compare(p.count[m][c], p.count[best][c]), cmp.Compare(len(p.holds[m]), len(p.holds[best]))) < 0 {
			best = m
		}
	}
	return best
}

// place picks the member for a task nobody holds, making room as balance
// describes when no member has any.
func (p *plan) place(task string) string {
	c := connectorOf(task)
	if m := p.least(c, func(m string) bool { return p.room(m, c) }); m != "" {
		return m
	}
	under := func(m string) bool { return p.count[m][c] < p.share(c) }
	for _, m := range p.ids {
		if !under(m) {
			continue
		}
		for _, other := range slices.Backward(slices.Sorted(maps.Keys(p.holds[m]))) {
			d := connectorOf(other)
			if d == c {
				continue
			}
			if to := p.least(d, func(to string) bool { return to != m && p.room(to, d) }); to != "" {
				p.remove(m, other)
				p.add(to, other)
				return m
			}
		}
	}
	// No room anywhere within both shares: the fewest tasks of the
	// connector, then the fewest tasks.
	if m := p.least(c, under); m != "" {
		return m
	}
	return p.least(c, func(string) bool { return true })
}
