package main

import (
	"slices"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/testenv/faults"
)

// An SSE sink in cluster mode runs on every instance, each reading the
// topics itself, so that a load balancer may send a subscriber to any of
// them: created through one instance, it is RUNNING on all three, each
// answering for its own run, while the Postgres source it streams runs on
// one. A subscriber that moves from instance to instance, as it does when
// the instance serving it is killed (kill -9) or stopped (SIGTERM), resumes
// on the next with Last-Event-ID and misses no change committed after it
// subscribed.
func TestClusterSSEOnEveryInstance(t *testing.T) {
	e := newClusterEnv(t)
	procs := []*daemonProc{e.start(0), e.start(1), e.start(2)}
	f := e.newFlows(procs[0], 1, nil)[0]
	procs[1].expect("POST", "/connectors", connectorJSON("events", map[string]string{"connector.class": "sse", "topics": f.topic}), 201, "")
	for _, p := range procs {
		p.waitFor("events RUNNING on this very instance", func() bool {
			st, _ := p.status("events")
			return st.Connector.State == "RUNNING" && st.Connector.WorkerID == p.workerID() &&
				len(st.Tasks) == 1 && st.Tasks[0].State == "RUNNING" && st.Tasks[0].WorkerID == p.workerID()
		})
	}
	procs[2].waitFor("the source RUNNING on one instance", func() bool { return owners(procs[2], procs, []*flow{f})[0] != nil })
	for range 5 {
		if err := f.writer.Step(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	f.verify(t, e, false) // the topic exists and holds them

	var urls []string
	for _, addr := range e.sse {
		urls = append(urls, "http://"+addr+"/streams/events")
	}
	client := faults.NewSSEClient(urls...)
	select {
	case <-client.Connected():
	case <-time.After(30 * time.Second):
		t.Fatalf("the SSE client got no frame from instance 0 in 30 s; logs:\n%s", procs[0].log())
	}
	from := f.writer.Next()
	stopWriter := f.writer.Start(t.Context(), 30)
	time.Sleep(2 * time.Second)
	procs[0].kill9()
	time.Sleep(3 * time.Second)
	procs[1].terminate(15 * time.Second)
	time.Sleep(3 * time.Second)
	if err := stopWriter(); err != nil {
		t.Fatalf("workload: %v", err)
	}
	log := f.writer.Log()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if rep := faults.Verify(log, from, client.Events()); len(rep.Missing) == 0 {
			break
		}
	}
	served := client.Served()
	events, _, err := client.Stop()
	if err != nil {
		t.Fatalf("SSE client: %v", err)
	}
	// The source's owner may have been the instance killed: a change it
	// replays may come twice.
	rep := faults.Verify(log, from, events)
	if err := rep.Check(true); err != nil {
		t.Fatalf("the subscriber's events: %s\n%v\nlogs of the instance left:\n%s", rep, err, procs[2].log())
	}
	if len(served) < 3 || !slices.Equal(served[:3], urls) {
		t.Fatalf("the subscriber was served by %v, want instance 0, then 1 (after the kill), then 2 (after the SIGTERM)", served)
	}
	st, body := procs[2].status("events")
	if st.Connector.State != "RUNNING" || st.Connector.WorkerID != procs[2].workerID() {
		t.Fatalf("events on the instance left: %s", body)
	}
	t.Logf("served by %d connections (%v); its events: %s", len(served), served, rep)
	procs[2].terminate(15 * time.Second)
}
