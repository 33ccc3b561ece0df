package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/sluice-cdc/sluice/testenv"
	"github.com/sluice-cdc/sluice/testenv/faults"
	"github.com/sluice-cdc/sluice/testenv/kafkatest"
)

// groupMember is one member of a sink's consumer group as Kafka describes
// it.
type groupMember struct {
	id         string // the member id, new at each join
	partitions []int32
}

// describeGroup reads a consumer group's members, by static instance id,
// and the partitions of topic each is assigned; ok is false while the
// group is not stable.
func describeGroup(t *testing.T, adm *kadm.Client, group, topic string) (members map[string]groupMember, ok bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	described, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		t.Logf("describe group %s: %v", group, err)
		return nil, false
	}
	g, found := described[group]
	if !found || g.Err != nil || g.State != "Stable" {
		return nil, false
	}
	members = map[string]groupMember{}
	for _, m := range g.Members {
		if m.InstanceID == nil {
			return nil, false
		}
		gm := groupMember{id: m.MemberID}
		if a, isConsumer := m.Assigned.AsConsumer(); isConsumer {
			for _, tp := range a.Topics {
				if tp.Topic == topic {
					gm.partitions = append(gm.partitions, tp.Partitions...)
				}
			}
		}
		slices.Sort(gm.partitions)
		members[*m.InstanceID] = gm
	}
	return members, true
}

// An Elasticsearch sink with tasks.max=3 on three instances of a cluster:
// the group gives each instance one task, and status on every instance
// lists the three with their workers; each task is a member of the sink's
// consumer group, which splits the topic's three partitions among them;
// kill -9 of the instance that runs task 1, under a steady workload, moves
// that task to a survivor, which takes the dead member's place in the
// consumer group (its static member id is the task's) and its partition
// with it; and the index ends equal to the table, row by row.
func TestClusterElasticsearchTasks(t *testing.T) {
	e := newClusterEnv(t)
	procs := []*daemonProc{e.start(0), e.start(1), e.start(2)}
	f := e.newFlows(procs[0], 1, map[string]string{"topic.creation.default.partitions": "3"})[0]
	sink := e.db.name + "-es"
	group := "connect-" + sink
	index := esIndex{url: testenv.ElasticsearchURL(t), name: f.topic}
	kcl := kafkatest.NewClient(t, e.brokers)
	adm := kadm.NewClient(kcl)
	t.Cleanup(func() { dropGroupAndIndex(t, kcl, group, index) })
	procs[0].waitFor("the source RUNNING", func() bool {
		st, _ := procs[0].status(f.source)
		return st.Connector.State == "RUNNING"
	})
	stopWriter := sync.OnceValue(f.writer.Start(t.Context(), 50))
	t.Cleanup(func() { stopWriter() })
	procs[1].expect("POST", "/connectors", connectorJSON(sink, map[string]string{
		"connector.class": "elasticsearch", "tasks.max": "3", "connection.url": index.url, "topics": f.topic,
		"key.ignore": "false", "behavior.on.null.values": "delete"}), 201, "")

	// One task on each instance, the same status on all three.
	taskOwners := func(via *daemonProc) ([]*daemonProc, string) {
		st, body := via.status(sink)
		if st.Connector.State != "RUNNING" || len(st.Tasks) != 3 {
			return nil, body
		}
		owners := make([]*daemonProc, 3)
		for i, task := range st.Tasks {
			for _, p := range procs {
				if task.State == "RUNNING" && p.workerID() == task.WorkerID {
					owners[i] = p
				}
			}
		}
		if slices.Contains(owners, nil) {
			return nil, body
		}
		return owners, body
	}
	var owners []*daemonProc
	procs[0].waitFor("the sink's three tasks RUNNING, one on each instance, the same status on all three", func() bool {
		var bodies []string
		for _, p := range procs {
			o, body := taskOwners(p)
			if o == nil || o[0] == o[1] || o[1] == o[2] || o[0] == o[2] {
				return false
			}
			owners, bodies = o, append(bodies, body)
		}
		return bodies[0] == bodies[1] && bodies[1] == bodies[2]
	})
	st, _ := procs[2].status(sink)
	for i, task := range st.Tasks {
		t.Logf("task %d: %s on %s", i, task.State, task.WorkerID)
	}
	var listed []struct {
		ID struct {
			Connector string `json:"connector"`
			Task      int    `json:"task"`
		} `json:"id"`
	}
	if code, body := procs[0].call("GET", "/connectors/"+sink+"/tasks", ""); code != 200 || json.Unmarshal([]byte(body), &listed) != nil || len(listed) != 3 || listed[2].ID.Task != 2 || listed[2].ID.Connector != sink {
		t.Fatalf("GET /connectors/%s/tasks: %d %s", sink, code, body)
	}

	// Each task a member of the consumer group, with one partition.
	instance := func(task int) string { return fmt.Sprintf("sluice-%s-task-%d", sink, task) }
	var members map[string]groupMember
	procs[0].waitFor("the consumer group stable with one partition on each task", func() bool {
		var ok bool
		members, ok = describeGroup(t, adm, group, f.topic)
		if !ok || len(members) != 3 {
			return false
		}
		var all []int32
		for task := range 3 {
			if len(members[instance(task)].partitions) != 1 {
				return false
			}
			all = append(all, members[instance(task)].partitions...)
		}
		slices.Sort(all)
		return slices.Equal(all, []int32{0, 1, 2})
	})
	for _, id := range slices.Sorted(maps.Keys(members)) {
		t.Logf("consumer group %s: member %s has partitions %v of %s", group, id, members[id].partitions, f.topic)
	}
	time.Sleep(3 * time.Second)

	// kill -9 of the instance that runs task 1.
	victim := owners[1]
	before := members[instance(1)]
	killedAt := time.Now()
	victim.kill9()
	survivor := procs[slices.IndexFunc(procs, func(p *daemonProc) bool { return p != victim })]
	survivor.waitFor("task 1 RUNNING on a surviving instance", func() bool {
		o, _ := taskOwners(survivor)
		return o != nil && !slices.Contains(o, victim)
	})
	moved := time.Since(killedAt)
	survivor.waitFor("task 1's member replaced in the consumer group, with its partition", func() bool {
		members, ok := describeGroup(t, adm, group, f.topic)
		after, found := members[instance(1)]
		return ok && found && after.id != before.id && slices.Equal(after.partitions, before.partitions)
	})
	rejoined := time.Since(killedAt)
	t.Logf("kill -9 of %s: task 1 RUNNING on a survivor %v later; its consumer group member replaced, with partition %v, %v after the kill (session timeout %v)",
		victim.base, moved.Round(time.Millisecond), before.partitions, rejoined.Round(time.Millisecond), e.session)
	time.Sleep(3 * time.Second)
	if err := stopWriter(); err != nil {
		t.Fatalf("workload: %v", err)
	}
	stoppedAt := time.Now()

	// The index ends equal to the table, row by row.
	var state faults.Report
	survivor.waitFor("the index equal to the table", func() bool {
		docs, err := index.docs(t.Context(), "id")
		if err != nil {
			t.Fatal(err)
		}
		state = faults.VerifyState(f.writer.Log(), esDocs(t, docs))
		return state.Check(false) == nil
	})
	var rows int
	if err := e.ctrl.QueryRow(t.Context(), "SELECT count(*) FROM "+f.table).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if state.Required != rows {
		t.Fatalf("the index holds %d documents, the table %d rows", state.Required, rows)
	}
	t.Logf("%d transactions committed; the index equal to the table (%d rows) %v after the workload stopped",
		f.writer.Transactions(), rows, time.Since(stoppedAt).Round(time.Millisecond))
	for _, p := range procs {
		if p != victim {
			p.terminate(20 * time.Second)
		}
	}
}
