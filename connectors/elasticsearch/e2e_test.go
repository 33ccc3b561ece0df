package elasticsearch

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/sluice-cdc/sluice/testenv"
)

// Postgres → source → Kafka → sink → Elasticsearch with a random workload
// and a TRUNCATE; then a replay by a new consumer group, and a replay of a
// new snapshot into the recreated topic.
func TestPipelineWorkloadTruncateAndReplays(t *testing.T) {
	p := newPipeline(t)
	ctx := context.Background()
	w := newWorkload(1)
	if err := w.run(ctx, p.db, 100); err != nil { // snapshotted
		t.Fatal(err)
	}
	p.startSource(p.pg.Name + "_a")
	sink := p.startSink(testenv.Name(t, "first"), p.esURL, nil)
	if err := w.run(ctx, p.db, 300); err != nil {
		t.Fatal(err)
	}
	p.exec("TRUNCATE t")
	if err := w.run(ctx, p.db, 300); err != nil {
		t.Fatal(err)
	}
	rows := p.waitEqual(sink, 30*time.Second)
	toasted := 0
	for _, d := range p.docs() {
		if strings.Contains(d, `"big":"large-`) {
			toasted++
		}
	}
	if toasted == 0 {
		t.Fatal("no document holds a TOASTed big")
	}
	t.Logf("workload %v: index equals the table (%d rows, %d with a TOASTed big); %d records", w.counts, rows, toasted, p.endOffset())
	p.stopSink(sink)

	// A new group replays the topic from its beginning.
	replay := p.startSink(testenv.Name(t, "replay"), p.esURL, nil)
	p.waitEqual(replay, 30*time.Second)
	conflicts := counter(replay.metrics, "sluice_es_version_conflicts_total")
	if conflicts == 0 {
		t.Error("the replay met no version conflicts")
	}
	t.Logf("replay by a new group: index equals the table, %d version conflicts", conflicts)

	// The topic is deleted and recreated, and a new source snapshots into
	// it while the replaying sink keeps consuming.
	p.stopSource()
	p.recreateTopic()
	p.startSource(p.pg.Name + "_b")
	rows = len(p.rows())
	for deadline := time.Now().Add(20 * time.Second); p.endOffset() < int64(rows); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the snapshot wrote %d records of %d rows in 20s", p.endOffset(), rows)
		}
	}
	p.waitEqual(replay, 30*time.Second)
	t.Logf("recreated topic with a new snapshot: index equals the table (%d rows, %d records)", rows, p.endOffset())
	if err := w.run(ctx, p.db, 200); err != nil {
		t.Fatal(err)
	}
	rows = p.waitEqual(replay, 30*time.Second)
	t.Logf("changes after the snapshot: index equals the table (%d rows, %d records)", rows, p.endOffset())
}

// The sink is stopped abruptly three times during the workload and
// restarted each time.
func TestPipelineSinkStoppedAbruptly(t *testing.T) {
	p := newPipeline(t)
	ctx := context.Background()
	w := newWorkload(2)
	if err := w.run(ctx, p.db, 100); err != nil {
		t.Fatal(err)
	}
	p.startSource(p.pg.Name + "_a")
	name := testenv.Name(t, "crash")
	cfg := map[string]string{"batch.size": "50", "max.buffered.records": "100"}
	sink := p.startSink(name, p.esURL, cfg)
	conn := p.pg.Connect(t)
	adm := kadm.NewClient(p.cl)
	for i := range 3 {
		done := make(chan error, 1)
		go func() { done <- w.run(ctx, conn, 300) }()
		time.Sleep(time.Duration(150+rand.IntN(400)) * time.Millisecond)
		committed, _ := adm.FetchOffsets(ctx, GroupID(name))
		c, _ := committed.Lookup(p.topic, 0)
		p.stopSink(sink)
		t.Logf("stop %d: group committed up to offset %d of %d", i+1, c.At, p.endOffset())
		sink = p.startSink(name, p.esURL, cfg)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	rows := p.waitEqual(sink, 30*time.Second)
	t.Logf("workload %v: index equals the table (%d rows, %d records)", w.counts, rows, p.endOffset())
}

// Elasticsearch, behind a proxy, answers 503 or drops connections for 30 s
// while the workload goes on: the sink stops reading once
// max.buffered.records are in flight, so its memory stays bounded while the
// backlog grows in Kafka, retries on its own and loses nothing.
func TestPipelineSurvivesElasticsearchOutage(t *testing.T) {
	const outageFor, maxBuffered = 30 * time.Second, 200
	p := newPipeline(t)
	ctx := context.Background()
	target, _ := url.Parse(p.esURL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var down atomic.Bool
	var refused atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if !down.Load() {
			proxy.ServeHTTP(rw, r)
			return
		}
		if refused.Add(1)%2 == 0 {
			http.Error(rw, "service unavailable", http.StatusServiceUnavailable)
			return
		}
		if conn, _, err := http.NewResponseController(rw).Hijack(); err == nil {
			conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
		}
	}))
	defer srv.Close()

	w := newWorkload(3)
	if err := w.run(ctx, p.db, 100); err != nil {
		t.Fatal(err)
	}
	p.startSource(p.pg.Name + "_a")
	sink := p.startSink(testenv.Name(t, "outage"), srv.URL, map[string]string{
		"max.retries": "40", "retry.backoff.ms": "20", "batch.size": "50", "max.buffered.records": strconv.Itoa(maxBuffered)})
	if err := w.run(ctx, p.db, 200); err != nil {
		t.Fatal(err)
	}
	down.Store(true)
	outage := time.Now()
	var peakInFlight float64
	var peakHeap uint64
	sample := func() {
		peakInFlight = max(peakInFlight, gauge(sink.metrics, "sluice_es_records_in_flight"))
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peakHeap = max(peakHeap, ms.HeapInuse)
	}
	if err := w.run(ctx, p.db, 1500); err != nil {
		t.Fatal(err)
	}
	for time.Since(outage) < outageFor {
		sample()
		time.Sleep(100 * time.Millisecond)
	}
	committed, err := kadm.NewClient(p.cl).FetchOffsets(ctx, GroupID(sink.name))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := committed.Lookup(p.topic, 0)
	pending := p.endOffset() - c.At
	down.Store(false)
	if err := w.run(ctx, p.db, 100); err != nil {
		t.Fatal(err)
	}
	recovered := time.Now()
	rows := p.waitEqual(sink, 60*time.Second)
	retries := counter(sink.metrics, "sluice_es_retries_total")
	if refused.Load() == 0 || retries == 0 {
		t.Errorf("refused %d requests, sink retried %d times; want both > 0", refused.Load(), retries)
	}
	if pending <= 2*maxBuffered || peakInFlight != maxBuffered {
		t.Errorf("at the end of the outage %d records were uncommitted and at most %v in flight; want more than %d uncommitted and exactly max.buffered.records (%d) in flight",
			pending, peakInFlight, 2*maxBuffered, maxBuffered)
	}
	t.Logf("outage of %s: %d requests refused, %d retries, %d records uncommitted at its end, at most %v in flight, test process heap at most %d MiB; "+
		"index equals the table %s after recovery (%d rows, %d records)",
		outageFor, refused.Load(), retries, pending, peakInFlight, peakHeap>>20, time.Since(recovered).Round(time.Millisecond), rows, p.endOffset())
}

// endOffset is the end offset of the topic's partition 0.
func (p *pipeline) endOffset() int64 {
	p.t.Helper()
	ends, err := kadm.NewClient(p.cl).ListEndOffsets(context.Background(), p.topic)
	if err != nil {
		p.t.Fatal(err)
	}
	o, _ := ends.Lookup(p.topic, 0)
	return o.Offset
}

// recreateTopic deletes the topic and creates it again, empty.
func (p *pipeline) recreateTopic() {
	p.t.Helper()
	ctx := context.Background()
	adm := kadm.NewClient(p.cl)
	if _, err := adm.DeleteTopics(ctx, p.topic); err != nil {
		p.t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		res, err := adm.CreateTopics(ctx, 1, 1, nil, p.topic)
		if err == nil {
			err = res[p.topic].Err
		}
		if err == nil {
			return
		}
		if !errors.Is(err, kerr.TopicAlreadyExists) || time.Now().After(deadline) {
			p.t.Fatalf("recreate topic %s: %v", p.topic, err)
		}
	}
}
