package group

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
)

// memberState is what a member tells the leader when it joins: who it is
// and which connectors it still runs (or is stopping).
type memberState struct {
	ID     string   `json:"-"`
	Worker string   `json:"worker"`
	Owned  []string `json:"owned"`
}

// assignment is what the leader gives one member: every connector it may
// run in this generation. A connector it runs that is missing is revoked.
type assignment struct {
	Connectors []string `json:"connectors"`
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

// balance assigns connectors to members, sticky and cooperative as Kafka
// Connect's incremental cooperative protocol:
//
//   - a connector stays with the member that runs it, as long as it exists;
//     one that two members claim stays with the first (by member id);
//   - a connector no member runs goes to the member with the fewest;
//   - a member above its fair share (connectors divided by members, rounded
//     up) loses the surplus, which nobody gets in this generation: the
//     member stops those connectors and rejoins, and the next generation
//     hands them out. So no connector is assigned to a member while another
//     may still run it.
//
// The result has an entry for every member, sorted.
func balance(members []memberState, connectors []string) map[string][]string {
	members = slices.Clone(members)
	slices.SortFunc(members, func(a, b memberState) int { return cmp.Compare(a.ID, b.ID) })
	exists := map[string]bool{}
	for _, c := range connectors {
		exists[c] = true
	}
	out := map[string][]string{}
	taken := map[string]bool{}
	claimed := map[string]bool{}
	for _, m := range members {
		out[m.ID] = []string{}
		for _, c := range m.Owned {
			claimed[c] = true
			if exists[c] && !taken[c] {
				taken[c] = true
				out[m.ID] = append(out[m.ID], c)
			}
		}
	}
	if len(members) == 0 {
		return out
	}
	fair := (len(exists) + len(members) - 1) / len(members)
	for _, m := range members {
		if own := out[m.ID]; len(own) > fair {
			slices.Sort(own)
			out[m.ID] = own[:fair]
		}
	}
	for _, c := range slices.Sorted(slices.Values(connectors)) {
		if claimed[c] {
			continue
		}
		least := members[0].ID
		for _, m := range members[1:] {
			if len(out[m.ID]) < len(out[least]) {
				least = m.ID
			}
		}
		out[least] = append(out[least], c)
	}
	for id := range out {
		slices.Sort(out[id])
	}
	return out
}
