package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/testenv/faults"
	"github.com/sluice-cdc/sluice/testenv/kafkatest"
)

// TestFaultElasticsearchDown takes a private Elasticsearch away from an
// Elasticsearch sink under a steady Postgres workload — frozen (SIGSTOP)
// for 10 s in the short form, killed and started again 60 s later in the
// long one — and then checks the index against what was committed, row by
// row: every row present holds its last change, no deleted row remains.
// The sink is configured to ride out such an outage (max.retries 1000;
// with the default of 5, as Confluent's sink, it FAILS after about six
// seconds of failed requests and waits for a restart).
func TestFaultElasticsearchDown(t *testing.T) {
	priv := startPrivate(t, "es")
	r := newFaultRig(t, onPostgres, rigOptions{})
	sink := r.name + "-es"
	index := esIndex{url: priv.Env("SLUICE_TEST_ES_URL"), name: r.topic}
	kcl := kafkatest.NewClient(t, r.brokers)
	t.Cleanup(func() { dropGroupAndIndex(t, kcl, "connect-"+sink, index) })
	writeJSON(t, filepath.Join(r.conns, "sink.json"), connectorJSON(sink, map[string]string{
		"connector.class": "elasticsearch", "tasks.max": "1", "connection.url": index.url, "topics": r.topic,
		"key.ignore": "false", "behavior.on.null.values": "delete", "max.retries": "1000", "read.timeout.ms": "10000"}))
	d := r.start()
	r.waitState("RUNNING", 60*time.Second)
	from := r.writer.Next()
	stopWriter := r.writer.Start(t.Context(), 100)
	time.Sleep(2 * time.Second)

	down := time.Now()
	if faultsLong() {
		priv.Kill("es")
		time.Sleep(60 * time.Second)
		priv.Start("es")
	} else {
		priv.Signal("es", syscall.SIGSTOP)
		time.Sleep(10 * time.Second)
		priv.Signal("es", syscall.SIGCONT)
	}
	back := time.Now()
	time.Sleep(2 * time.Second)
	if err := stopWriter(); err != nil {
		t.Fatalf("workload: %v", err)
	}
	rep, _ := r.verify(from, false)

	state := r.waitIndex(index, 3*time.Minute)
	if _, status := d.call("GET", "/connectors/"+sink+"/status", ""); !strings.Contains(status, `"connector":{"state":"RUNNING"`) {
		t.Fatalf("sink status after the outage: %s", status)
	}
	t.Logf("Elasticsearch away %v; the index equal to the table %v after it was back; index: %s; topic: %s",
		back.Sub(down).Round(time.Second), time.Since(back).Round(time.Millisecond), state, rep)
	d.terminate(20 * time.Second)
}

// waitIndex waits until index holds what the workload committed, row by
// row — every row present with its last change, no deleted row left — and
// returns the comparison; it fails the test after within.
func (r *faultRig) waitIndex(index esIndex, within time.Duration) faults.Report {
	r.t.Helper()
	for deadline := time.Now().Add(within); ; time.Sleep(500 * time.Millisecond) {
		docs, err := index.docs(r.t.Context(), "id")
		if err != nil {
			r.t.Fatal(err)
		}
		state := faults.VerifyState(r.writer.Log(), esDocs(r.t, docs))
		if state.Check(false) == nil {
			return state
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("index %s after %v: %s\n%v\ndaemon logs:\n%s", index.name, within, state, state.Check(false), r.d.log())
		}
	}
}

// esDocs reads the workload's columns from an index's documents, by key.
func esDocs(t *testing.T, docs map[string]esDoc) map[int64]faults.Doc {
	t.Helper()
	out := make(map[int64]faults.Doc, len(docs))
	for id, d := range docs {
		var key int64
		if _, err := fmt.Sscan(id, &key); err != nil {
			t.Fatalf("document id %q is not a key", id)
		}
		seq, _ := d.source["seq"].(float64)
		v, _ := d.source["v"].(string)
		out[key] = faults.Doc{Seq: int64(seq), V: v}
	}
	return out
}
