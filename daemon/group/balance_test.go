package group

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

func TestBalance(t *testing.T) {
	for _, tc := range []struct {
		name    string
		members []memberState
		tasks   []string
		want    map[string][]string
	}{{
		name:    "new connectors go to the members with the fewest",
		members: []memberState{{ID: "a"}, {ID: "b"}, {ID: "c"}},
		tasks:   []string{"one", "two", "three", "four"},
		want:    map[string][]string{"a": {"four", "two"}, "b": {"one"}, "c": {"three"}},
	}, {
		name:    "sticky: connectors stay where they run",
		members: []memberState{{ID: "a", Owned: []string{"two"}}, {ID: "b", Owned: []string{"one"}}},
		tasks:   []string{"one", "two", "three"},
		want:    map[string][]string{"a": {"three", "two"}, "b": {"one"}},
	}, {
		name:    "a joining member waits while the busiest gives up its surplus",
		members: []memberState{{ID: "a", Owned: []string{"one", "three", "two"}}, {ID: "b"}},
		tasks:   []string{"one", "two", "three"},
		want:    map[string][]string{"a": {"one", "three"}, "b": {}},
	}, {
		name:    "the surplus given up goes out in the next generation",
		members: []memberState{{ID: "a", Owned: []string{"one", "three"}}, {ID: "b"}},
		tasks:   []string{"one", "two", "three"},
		want:    map[string][]string{"a": {"one", "three"}, "b": {"two"}},
	}, {
		name:    "a departed member's connectors are handed out at once",
		members: []memberState{{ID: "b", Owned: []string{"two"}}, {ID: "c", Owned: []string{"three"}}},
		tasks:   []string{"one", "two", "three"},
		want:    map[string][]string{"b": {"one", "two"}, "c": {"three"}},
	}, {
		name:    "a connector two members claim stays with the first; deleted ones go",
		members: []memberState{{ID: "a", Owned: []string{"one", "gone"}}, {ID: "b", Owned: []string{"one"}}},
		tasks:   []string{"one"},
		want:    map[string][]string{"a": {"one"}, "b": {}},
	}, {
		name:    "a sink's tasks spread over the members",
		members: []memberState{{ID: "a", Owned: []string{"s0"}}, {ID: "b", Owned: []string{"s1"}}, {ID: "c", Owned: []string{"s2"}}},
		tasks:   []string{"s0", "s1", "s2", "sink", "sink/1", "sink/2"},
		want:    map[string][]string{"a": {"s0", "sink"}, "b": {"s1", "sink/1"}, "c": {"s2", "sink/2"}},
	}, {
		name:    "a member with room for no more of a sink's tasks gives up a source to take one",
		members: []memberState{{ID: "a", Owned: []string{"s0", "s1"}}, {ID: "b", Owned: []string{"sink"}}, {ID: "c", Owned: []string{"sink/1"}}},
		tasks:   []string{"s0", "s1", "sink", "sink/1", "sink/2"},
		want:    map[string][]string{"a": {"s0", "sink/2"}, "b": {"sink"}, "c": {"sink/1"}},
	}, {
		name:    "two tasks of a sink on one member: the higher goes",
		members: []memberState{{ID: "a", Owned: []string{"sink", "sink/1"}}, {ID: "b", Owned: []string{"other"}}},
		tasks:   []string{"other", "sink", "sink/1"},
		want:    map[string][]string{"a": {"sink"}, "b": {"other"}},
	}, {
		name:    "more tasks than members: some share a member",
		members: []memberState{{ID: "a"}, {ID: "b"}},
		tasks:   []string{"sink", "sink/1", "sink/2"},
		want:    map[string][]string{"a": {"sink", "sink/2"}, "b": {"sink/1"}},
	}, {
		name:    "tasks.max lowered: the tasks beyond it go",
		members: []memberState{{ID: "a", Owned: []string{"sink", "sink/2"}}, {ID: "b", Owned: []string{"sink/1"}}},
		tasks:   []string{"sink", "sink/1"},
		want:    map[string][]string{"a": {"sink"}, "b": {"sink/1"}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			if got := balance(tc.members, tc.tasks); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("balance:\n got %v\nwant %v", got, tc.want)
			}
		})
	}
}

// Whatever the members run to begin with, members that apply each
// generation's assignment reach within a few generations a plan that the
// next balance keeps as it is, where every task runs on exactly one member
// and each member holds at most its fair share of all tasks and its share
// of each connector's; no task is ever assigned to two members at once.
func TestBalanceConverges(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 2000 {
		var tasks []string
		for c := range 1 + rng.IntN(5) {
			tasks = append(tasks, fmt.Sprintf("c%d", c))
			for i := 1; i < 1+rng.IntN(4); i++ {
				tasks = append(tasks, fmt.Sprintf("c%d/%d", c, i))
			}
		}
		members := make([]memberState, 1+rng.IntN(4))
		for i := range members {
			members[i].ID = fmt.Sprintf("m%d", i)
			for _, task := range tasks {
				if rng.IntN(len(members)+1) == 0 {
					members[i].Owned = append(members[i].Owned, task)
				}
			}
			if rng.IntN(4) == 0 {
				members[i].Owned = append(members[i].Owned, "gone/1")
			}
		}
		start := fmt.Sprint(members)
		stable := false
		for gen := 0; gen < 6 && !stable; gen++ {
			plan := balance(members, tasks)
			held := map[string]string{}
			for _, m := range members {
				for _, task := range plan[m.ID] {
					if other, ok := held[task]; ok {
						t.Fatalf("round %d from %s, generation %d: %s assigned to %s and %s", round, start, gen, task, other, m.ID)
					}
					held[task] = m.ID
				}
			}
			stable = true
			for i, m := range members {
				if !slices.Equal(slices.Sorted(slices.Values(m.Owned)), plan[m.ID]) {
					stable = false
				}
				members[i].Owned = plan[m.ID]
			}
		}
		if !stable {
			t.Fatalf("round %d from %s: no stable plan after 6 generations: %v", round, start, members)
		}
		fair := (len(tasks) + len(members) - 1) / len(members)
		running := 0
		for _, m := range members {
			per := map[string]int{}
			for _, task := range m.Owned {
				per[connectorOf(task)]++
			}
			for c, n := range per {
				total := 0
				for _, task := range tasks {
					if connectorOf(task) == c {
						total++
					}
				}
				if share := (total + len(members) - 1) / len(members); n > share {
					t.Fatalf("round %d from %s: %s holds %d tasks of %s, its share is %d: %v", round, start, m.ID, n, c, share, members)
				}
			}
			if len(m.Owned) > fair {
				t.Fatalf("round %d from %s: %s holds %d tasks, its fair share is %d: %v", round, start, m.ID, len(m.Owned), fair, members)
			}
			running += len(m.Owned)
		}
		if running != len(tasks) {
			t.Fatalf("round %d from %s: %d of %d tasks run: %v", round, start, running, len(tasks), members)
		}
	}
}
