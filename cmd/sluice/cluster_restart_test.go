package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-cdc/sluice/schema/registry"
	"github.com/sluice-cdc/sluice/testenv/faults"
	"github.com/sluice-cdc/sluice/testenv/topictest"
)

// flow is one workload table of a cluster test, its writer and the source
// connector that captures it.
type flow struct {
	source string
	table  string
	topic  string
	writer *faults.Writer
}

// newFlows creates n workload tables in the cluster's database, each with a
// writer on a connection of its own, and creates through d a Postgres
// source for each, with a slot and publication of its own and the keys
// given.
func (e *clusterEnv) newFlows(d *daemonProc, n int, keys map[string]string) []*flow {
	e.t.Helper()
	seed := uint64(time.Now().UnixNano())
	e.t.Logf("workload seed %d", seed)
	var out []*flow
	for i := range n {
		f := &flow{source: fmt.Sprintf("source-%d", i), table: fmt.Sprintf("work%d", i)}
		f.topic = e.db.name + ".public." + f.table
		e.db.exec(e.t, fmt.Sprintf(faults.TableDDL, f.table))
		conn, err := pgx.ConnectConfig(e.t.Context(), e.db.conn.Config().Copy())
		if err != nil {
			e.t.Fatal(err)
		}
		e.t.Cleanup(func() { conn.Close(context.Background()) })
		f.writer = faults.NewWriter(faults.Postgres{Conn: conn}, f.table, 5, seed+uint64(i))
		slot := fmt.Sprintf("%s_%d", e.db.name, i)
		cfg := map[string]string{"connector.class": "postgres",
			"database.hostname": e.pgURL.Hostname(), "database.port": e.pgURL.Port(), "database.user": e.pgURL.User.Username(),
			"database.password": "${env:PG_PASSWORD}", "database.dbname": e.db.name, "database.sslmode": "disable",
			"slot.name": slot, "publication.name": slot, "topic.prefix": e.db.name, "table.include.list": "public." + f.table}
		maps.Copy(cfg, keys)
		d.expect("POST", "/connectors", connectorJSON(f.source, cfg), 201, "")
		out = append(out, f)
	}
	return out
}

// verify reads the flow's topic back until every change its writer
// committed has arrived (or topictest.Wait passed) and checks the rule:
// nothing missing or wrong, per-key order kept, and duplicates only when
// allowed.
func (f *flow) verify(t *testing.T, e *clusterEnv, allowDuplicates bool) faults.Report {
	t.Helper()
	reg, err := registry.New(e.reg.URL)
	if err != nil {
		t.Fatal(err)
	}
	log := f.writer.Log()
	var rep faults.Report
	var convErr error
	topictest.NewReader(e.brokers, reg).ReadUntil(t, f.topic, nil, func(rs []topictest.Record) bool {
		var evs []faults.Event
		if evs, convErr = faults.Events(rs); convErr != nil {
			return true
		}
		rep = faults.Verify(log, 1, evs)
		return len(rep.Missing) == 0
	})
	if convErr != nil {
		t.Fatal(convErr)
	}
	if err := rep.Check(allowDuplicates); err != nil {
		t.Errorf("topic %s: %s\n%v", f.topic, rep, err)
	}
	return rep
}

// owners reads through d where each flow's source runs: the instance of
// procs whose worker id its RUNNING status shows, or nil.
func owners(d *daemonProc, procs []*daemonProc, flows []*flow) []*daemonProc {
	out := make([]*daemonProc, len(flows))
	for i, f := range flows {
		st, _ := d.status(f.source)
		if st.Connector.State != "RUNNING" || len(st.Tasks) != 1 || st.Tasks[0].State != "RUNNING" {
			continue
		}
		for _, p := range procs {
			if p.workerID() == st.Connector.WorkerID {
				out[i] = p
			}
		}
	}
	return out
}

// clusterRounds is how many rolling restarts TestClusterRollingRestart
// makes: SLUICE_CLUSTER_ROUNDS, 1 when unset.
func clusterRounds(t *testing.T) int {
	v := os.Getenv("SLUICE_CLUSTER_ROUNDS")
	if v == "" {
		return 1
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("SLUICE_CLUSTER_ROUNDS=%q: want a number of rolling restarts, 1 or more", v)
	}
	return n
}

// A rolling restart of three instances sharing three Postgres sources (one
// each) under a steady workload: each instance in turn is stopped with
// SIGTERM, which hands its source to another instance, and started again,
// which takes a source back once the group rebalances; the next instance
// is stopped only once every source runs again, one on each instance.
// Every stop is clean, so every change committed is in Kafka exactly once:
// nothing missing, no duplicate, each key's changes in commit order.
// SLUICE_CLUSTER_ROUNDS repeats the rolling restart.
func TestClusterRollingRestart(t *testing.T) {
	rounds := clusterRounds(t)
	e := newClusterEnv(t)
	procs := []*daemonProc{e.start(0), e.start(1), e.start(2)}
	started := slices.Clone(procs) // every instance started, for the logs
	flows := e.newFlows(procs[0], 3, nil)
	settled := func(via *daemonProc) {
		t.Helper()
		via.waitFor("each source RUNNING on an instance of its own", func() bool {
			own := owners(via, procs, flows)
			for i, p := range own {
				if p == nil || slices.Contains(own[:i], p) {
					return false
				}
			}
			return true
		})
	}
	settled(procs[0])
	var stops []func() error
	for _, f := range flows {
		stop := sync.OnceValue(f.writer.Start(t.Context(), 30))
		t.Cleanup(func() { stop() })
		stops = append(stops, stop)
	}
	time.Sleep(2 * time.Second)

	var handovers, rejoins []time.Duration
	for round := range rounds {
		for i := range procs {
			via := procs[(i+1)%len(procs)]
			own := owners(via, procs, flows)
			moved := slices.Index(own, procs[i])
			if moved < 0 {
				t.Fatalf("round %d: instance %d runs no source", round+1, i)
			}
			termAt := time.Now()
			stopped := procs[i].terminate(15 * time.Second)
			old := procs[i]
			via.waitFor(flows[moved].source+" RUNNING on another instance", func() bool {
				p := owners(via, procs, flows)[moved]
				return p != nil && p != old
			})
			handover := time.Since(termAt)
			handovers = append(handovers, handover)
			startAt := time.Now()
			procs[i] = e.start(i)
			started = append(started, procs[i])
			settled(via)
			rejoin := time.Since(startAt)
			rejoins = append(rejoins, rejoin)
			t.Logf("round %d, instance %d: SIGTERM to exit %v; %s RUNNING on another instance %v after SIGTERM; restarted, the group settled %v after the start",
				round+1, i, stopped.Round(time.Millisecond), flows[moved].source, handover.Round(time.Millisecond), rejoin.Round(time.Millisecond))
		}
	}
	time.Sleep(2 * time.Second)
	for i, stop := range stops {
		if err := stop(); err != nil {
			t.Fatalf("workload on %s: %v", flows[i].table, err)
		}
	}
	var changes int
	for _, f := range flows {
		rep := f.verify(t, e, false)
		changes += rep.Required
		t.Logf("%s: %s", f.topic, rep)
		if len(rep.Duplicates) > 0 {
			t.Logf("what each instance logged of %s:\n%s", f.source, sourceLogs(started, f.source))
		}
	}
	slices.Sort(handovers)
	slices.Sort(rejoins)
	t.Logf("%d rolling restarts: %d changes committed, each in Kafka once and in order; handover after SIGTERM %v–%v, group settled after a restart %v–%v",
		rounds, changes, handovers[0].Round(time.Millisecond), handovers[len(handovers)-1].Round(time.Millisecond),
		rejoins[0].Round(time.Millisecond), rejoins[len(rejoins)-1].Round(time.Millisecond))
	for _, p := range procs {
		p.terminate(15 * time.Second)
	}
}

// sourceLogs gathers the lines each of procs logged about a connector,
// instance by instance in the order they were started.
func sourceLogs(procs []*daemonProc, connector string) string {
	var b strings.Builder
	for i, p := range procs {
		fmt.Fprintf(&b, "instance start %d (%s):\n", i+1, p.workerID())
		for line := range strings.SplitSeq(p.log(), "\n") {
			if strings.Contains(line, `"`+connector+`"`) { // its "connector" attribute, or a list of tasks
				b.WriteString(line + "\n")
			}
		}
	}
	return b.String()
}
