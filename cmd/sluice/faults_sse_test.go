package main

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/testenv/faults"
)

// TestFaultSSEResume keeps an SSE subscriber (an EventSource-like client
// that reconnects with Last-Event-ID) on a Postgres workload's stream while
// the daemon serving it is killed with SIGKILL and started again, 2 times
// (10 in make faults). Each time the client reconnects and resumes from
// its last event: it ends with every change committed after it
// subscribed, in order per key, and no reset; a change the source replayed
// after a kill may come twice.
func TestFaultSSEResume(t *testing.T) {
	r := newFaultRig(t, onPostgres, rigOptions{})
	addr := freeAddr(t)
	r.env = append(r.env, "SLUICE_SSE_LISTEN="+addr)
	sink := r.name + "-sse"
	writeJSON(t, filepath.Join(r.conns, "sink.json"), connectorJSON(sink, map[string]string{"connector.class": "sse", "topics": r.topic}))
	d := r.start()
	r.waitState("RUNNING", 60*time.Second)
	r.steps(5)
	r.verify(1, false) // the topic exists

	client := faults.NewSSEClient("http://" + addr + "/streams/" + sink)
	select {
	case <-client.Connected():
	case <-time.After(30 * time.Second):
		t.Fatalf("the SSE client got no frame in 30 s; logs:\n%s", d.log())
	}
	from := r.writer.Next()
	stopWriter := r.writer.Start(t.Context(), 100)
	kills := byLength(2, 10)
	for range kills {
		time.Sleep(time.Second + rand.N(time.Second))
		d.kill9()
		time.Sleep(rand.N(time.Second))
		d = r.start()
		r.waitState("RUNNING", 60*time.Second)
	}
	time.Sleep(time.Second)
	if err := stopWriter(); err != nil {
		t.Fatalf("workload: %v", err)
	}
	log := r.writer.Log()
	var rep faults.Report
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		if rep = faults.Verify(log, from, client.Events()); len(rep.Missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			break
		}
	}
	events, connects, err := client.Stop()
	if err != nil {
		t.Fatalf("SSE client: %v", err)
	}
	rep = faults.Verify(log, from, events)
	if err := rep.Check(true); err != nil {
		t.Fatalf("SSE client's events: %s\n%v\ndaemon logs:\n%s", rep, err, d.log())
	}
	if connects < kills+1 {
		t.Fatalf("the client connected %d times for %d kills", connects, kills)
	}
	if _, status := d.call("GET", "/connectors/"+sink+"/status", ""); !strings.Contains(status, `"connector":{"state":"RUNNING"`) {
		t.Fatalf("sink: %s", status)
	}
	t.Logf("%d kills, the client connected %d times; its events: %s", kills, connects, rep)
	d.terminate(20 * time.Second)
}
