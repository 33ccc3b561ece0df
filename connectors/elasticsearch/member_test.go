package elasticsearch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/testenv"
)

func TestInstanceIDIsKeptInTheStateDirectory(t *testing.T) {
	if id, err := instanceID("", "orders"); id != "" || err != nil {
		t.Fatalf("without a state directory: %q, %v; want dynamic membership", id, err)
	}
	dir := filepath.Join(t.TempDir(), "orders")
	first, err := instanceID(dir, "orders")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^sluice-orders-[0-9a-f]{16}$`).MatchString(first) {
		t.Fatalf("id %q, want sluice-orders- and 16 hex digits", first)
	}
	again, err := instanceID(dir, "orders")
	if err != nil || again != first {
		t.Fatalf("after a restart: %q, %v; want %q", again, err, first)
	}
	other, _ := instanceID(filepath.Join(t.TempDir(), "orders"), "orders")
	if other == first {
		t.Fatalf("two state directories share the id %q", first)
	}
	b, err := os.ReadFile(filepath.Join(dir, instanceFile))
	if err != nil || string(b) != first+"\n" {
		t.Fatalf("state file holds %q, %v; want %q", b, err, first+"\n")
	}
}

// A sink with a state directory is a static member of its group; stopped,
// it leaves the group as a dynamic member would, so no partition waits for
// its session to time out. Restarted, it joins under the same id.
func TestStoppedSinkLeavesItsGroup(t *testing.T) {
	h := newHarness(t)
	h.produce(change(event.OpCreate, 0x1000, 0, 1, "a", ""))
	state := t.TempDir()
	name := testenv.Name(t, "member")
	adm := kadm.NewClient(h.cl)
	for round := range 2 {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- New(h.config(h.esURL, nil), connectors.Env{Name: name, StateDir: state}).Run(ctx, connectors.Kafka{Brokers: h.brokers, Registry: h.reg})
		}()
		var members []string
		waitFor(t, 30*time.Second, "the sink to join its group and commit", func() bool {
			members = groupMembers(t, adm, GroupID(name))
			return len(members) == 1 && h.committedAll(GroupID(name))
		})
		id, _ := instanceID(state, name)
		if members[0] != id {
			t.Fatalf("round %d: group member %q, want the static id %q", round, members[0], id)
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("sink returned %v, want context.Canceled", err)
		}
		if left := groupMembers(t, adm, GroupID(name)); len(left) != 0 {
			t.Fatalf("round %d: members %q after the sink stopped, want none", round, left)
		}
	}
}

// groupMembers returns the instance ids (or member ids) of a group's members.
func groupMembers(t *testing.T, adm *kadm.Client, group string) []string {
	t.Helper()
	described, err := adm.DescribeGroups(context.Background(), group)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range described[group].Members {
		if m.InstanceID != nil {
			out = append(out, *m.InstanceID)
		} else {
			out = append(out, m.MemberID)
		}
	}
	return out
}

// Two runs of one task under the same GroupInstanceID, as in cluster mode
// when the task moves off an instance that stopped answering: the second
// takes the member's place, and the first, stopping later, leaves only its
// own membership, never the member that replaced it.
func TestStoppedSinkSparesTheMemberThatReplacedIt(t *testing.T) {
	h := newHarness(t)
	h.produce(change(event.OpCreate, 0x1000, 0, 1, "a", ""))
	name := testenv.Name(t, "member")
	env := connectors.Env{Name: name, GroupInstanceID: "sluice-" + name + "-task-0"}
	adm := kadm.NewClient(h.cl)
	run := func() (stop func() error) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- New(h.config(h.esURL, nil), env).Run(ctx, connectors.Kafka{Brokers: h.brokers, Registry: h.reg})
		}()
		return func() error { cancel(); return <-done }
	}
	memberIDs := func() []string {
		described, err := adm.DescribeGroups(context.Background(), GroupID(name))
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range described[GroupID(name)].Members {
			ids = append(ids, m.MemberID)
		}
		return ids
	}
	stopOld := run()
	var old []string
	waitFor(t, 30*time.Second, "the first run to join and commit", func() bool {
		old = memberIDs()
		return len(old) == 1 && h.committedAll(GroupID(name))
	})
	stopNew := run()
	var replaced []string
	waitFor(t, 30*time.Second, "the second run to take the member's place", func() bool {
		replaced = memberIDs()
		return len(replaced) == 1 && replaced[0] != old[0]
	})
	stopOld()
	time.Sleep(time.Second)
	if got := memberIDs(); len(got) != 1 || got[0] != replaced[0] {
		t.Fatalf("after the replaced run stopped the group has members %q, want the replacing one %q", got, replaced[0])
	}
	if err := stopNew(); !errors.Is(err, context.Canceled) {
		t.Fatalf("the replacing run returned %v, want context.Canceled", err)
	}
	if left := groupMembers(t, adm, GroupID(name)); len(left) != 0 {
		t.Fatalf("members %q after the replacing run stopped, want none", left)
	}
}
