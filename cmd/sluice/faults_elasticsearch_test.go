package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/internal/procstat"
	"github.com/sluice-cdc/sluice/schema/registry"
	"github.com/sluice-cdc/sluice/testenv"
	"github.com/sluice-cdc/sluice/testenv/faults"
	"github.com/sluice-cdc/sluice/testenv/kafkatest"
	"github.com/sluice-cdc/sluice/testenv/topictest"
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
	d, from, stopWriter := r.startUnderLoad(100)

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

// TestFaultElasticsearchRefuses puts an HTTP proxy the test controls
// between an Elasticsearch sink and Elasticsearch, under a steady Postgres
// workload. Overloaded: every bulk request answered 429 for 10 s (3 min in
// make faults); the sink backs off and retries (max.retries 1000, as for
// an outage), stays RUNNING, and the index ends equal to the table. One
// document refused: a row whose note the index maps as an integer is
// answered 400 (document_parsing_exception); with
// behavior.on.malformed.documents=warn and errors.tolerance=all that
// record, and only it, goes to the dead-letter topic, and every other row
// is in the index.
func TestFaultElasticsearchRefuses(t *testing.T) {
	t.Run("429", func(t *testing.T) {
		r, proxy, index, sink := esRefusalRig(t, map[string]string{"max.retries": "1000"})
		d := r.start()
		r.waitState("RUNNING", 60*time.Second)
		stopWriter := r.writer.Start(t.Context(), 100)
		time.Sleep(2 * time.Second)
		overload := byLength(10*time.Second, 3*time.Minute)
		proxy.Answer("/_bulk", 429, `{"error":{"type":"es_rejected_execution_exception","reason":"rejected execution of coordinating operation"},"status":429}`)
		time.Sleep(overload)
		proxy.Forward()
		back := time.Now()
		time.Sleep(time.Second)
		if err := stopWriter(); err != nil {
			t.Fatalf("workload: %v", err)
		}
		state := r.waitIndex(index, 3*time.Minute)
		if _, status := d.call("GET", "/connectors/"+sink+"/status", ""); !strings.Contains(status, `"connector":{"state":"RUNNING"`) {
			t.Fatalf("sink after the overload: %s", status)
		}
		_, peak, err := procstat.Memory(d.cmd.Process.Pid)
		if err != nil {
			t.Fatal(err)
		}
		if peak > 256<<20 {
			t.Fatalf("the daemon's peak resident memory (VmHWM) reached %d MB, over the bound of 256 MB", peak>>20)
		}
		t.Logf("every bulk request answered 429 for %v (%d answered); the index equal to the table %v after; peak RSS %d MB; %s",
			overload, proxy.Answered(), time.Since(back).Round(time.Millisecond), peak>>20, state)
		d.terminate(20 * time.Second)
	})
	t.Run("400 for one document", func(t *testing.T) {
		const poisonKey = 1_000_000_000
		r, _, index, sink := esRefusalRig(t, map[string]string{
			"behavior.on.malformed.documents": "warn", "errors.tolerance": "all", "errors.deadletterqueue.topic.name": "dlq"})
		dlq := r.name + "-dlq"
		if _, _, err := index.do(t.Context(), "PUT", "/"+index.name, `{"mappings": {"properties": {"note": {"type": "integer"}}}}`); err != nil {
			t.Fatal(err)
		}
		d := r.start()
		r.waitState("RUNNING", 60*time.Second)
		stopWriter := r.writer.Start(t.Context(), 100)
		time.Sleep(time.Second)
		r.pg.exec(t, fmt.Sprintf("INSERT INTO items (id, seq, v, note) VALUES (%d, 0, 'poison', 'not a number')", poisonKey))
		time.Sleep(2 * time.Second)
		if err := stopWriter(); err != nil {
			t.Fatalf("workload: %v", err)
		}
		state := r.waitIndex(index, 2*time.Minute)
		var letters []topictest.Record
		reg, err := registry.New(r.reg.URL)
		if err != nil {
			t.Fatal(err)
		}
		reader := topictest.NewReader(r.brokers, reg)
		for deadline := time.Now().Add(time.Minute); len(letters) == 0; time.Sleep(200 * time.Millisecond) {
			if letters = reader.ReadAll(t, dlq, nil); time.Now().After(deadline) {
				t.Fatalf("nothing in dead-letter topic %s a minute after the refused document; logs:\n%s", dlq, d.log())
			}
		}
		if len(letters) != 1 || !strings.Contains(header(letters[0].Raw, "__connect.errors.exception.message"), "failed to parse field [note] of type [integer] in document with id '1000000000'") {
			t.Fatalf("dead letters: %d, the first's message %q; want the one refused document", len(letters), header(letters[0].Raw, "__connect.errors.exception.message"))
		}
		if _, status := d.call("GET", "/connectors/"+sink+"/status", ""); !strings.Contains(status, `"connector":{"state":"RUNNING"`) {
			t.Fatalf("sink after the refused document: %s", status)
		}
		t.Logf("the refused document dead-lettered (%s), every other row in the index: %s", header(letters[0].Raw, "__connect.errors.exception.message"), state)
		d.terminate(20 * time.Second)
	})
}

// esRefusalRig is a Postgres rig with an Elasticsearch sink of the
// workload's topic reaching Elasticsearch through an HTTP proxy; keys are
// added to the sink's configuration, a dead-letter topic named "dlq"
// getting the rig's name as prefix. The table has a note column.
func esRefusalRig(t *testing.T, keys map[string]string) (*faultRig, *faults.HTTPProxy, esIndex, string) {
	r := newFaultRig(t, onPostgres, rigOptions{})
	r.pg.exec(t, "ALTER TABLE items ADD COLUMN note text")
	esURL := testenv.ElasticsearchURL(t)
	proxy := faults.NewHTTPProxy(t, esURL)
	sink := r.name + "-es"
	index := esIndex{url: esURL, name: r.topic}
	kcl := kafkatest.NewClient(t, r.brokers)
	t.Cleanup(func() { dropGroupAndIndex(t, kcl, "connect-"+sink, index) })
	cfg := map[string]string{"connector.class": "elasticsearch", "tasks.max": "1", "connection.url": proxy.URL(), "topics": r.topic,
		"key.ignore": "false", "behavior.on.null.values": "delete", "read.timeout.ms": "10000"}
	for k, v := range keys {
		if k == "errors.deadletterqueue.topic.name" {
			v = r.name + "-" + v
		}
		cfg[k] = v
	}
	writeJSON(t, filepath.Join(r.conns, "sink.json"), connectorJSON(sink, cfg))
	return r, proxy, index, sink
}

// header is the value of a record's header named key, "" when absent.
func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}
