package main

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/testenv"
	"github.com/sluice-cdc/sluice/testenv/kafkatest"
)

// TestFaultRegistryUnreachable takes the schema registry away from the
// daemon — every connection through a proxy closed and new ones refused —
// for 10 s in the short form, 60 s in the long one, under a Postgres
// workload captured by a source and written to Elasticsearch by a sink
// that dead-letters the records it cannot write. During the outage a
// column is added, so the source needs a new schema registered, and the
// daemon is restarted, so both connectors have lost the schemas they had
// cached. Sources wait and resume, sinks retry rather than dead-letter:
// every change reaches the topic, in order per key, the index ends equal
// to the table and the dead-letter topic stays empty. Replays are allowed:
// the stop comes while a batch waits for the registry, and the changes of
// that batch already produced are produced again after the restart.
func TestFaultRegistryUnreachable(t *testing.T) {
	r := newFaultRig(t, onPostgres, rigOptions{regCut: true})
	sink, dlq := r.name+"-es", r.name+"-dlq"
	index := esIndex{url: testenv.ElasticsearchURL(t), name: r.topic}
	kcl := kafkatest.NewClient(t, r.brokers)
	t.Cleanup(func() { dropGroupAndIndex(t, kcl, "connect-"+sink, index) })
	writeJSON(t, filepath.Join(r.conns, "sink.json"), connectorJSON(sink, map[string]string{
		"connector.class": "elasticsearch", "tasks.max": "1", "connection.url": index.url, "topics": r.topic,
		"key.ignore": "false", "behavior.on.null.values": "delete",
		"errors.tolerance": "all", "errors.deadletterqueue.topic.name": dlq}))
	d, from, stopWriter := r.startUnderLoad(100)

	outage := byLength(10*time.Second, 60*time.Second)
	down := time.Now()
	cut := r.regProxy.Cut(true)
	r.pg.exec(t, "ALTER TABLE items ADD COLUMN note text")
	time.Sleep(outage / 3)
	stopped := d.terminate(20 * time.Second)
	d = r.start()
	time.Sleep(time.Until(down.Add(outage)))
	r.regProxy.Restore()
	back, mark := time.Now(), r.writer.Next()
	took := r.recovered(mark, back, 2*time.Minute)
	time.Sleep(time.Second)
	if err := stopWriter(); err != nil {
		t.Fatalf("workload: %v", err)
	}
	rep, _ := r.verify(from, true)
	state := r.waitIndex(index, 2*time.Minute)
	if n := recordsIn(t, kcl, dlq); n != 0 {
		t.Fatalf("the sink dead-lettered %d records while the registry was away; logs:\n%s", n, d.log())
	}
	for _, name := range []string{"source", sink} {
		if _, status := d.call("GET", "/connectors/"+name+"/status", ""); !strings.Contains(status, `"connector":{"state":"RUNNING"`) {
			t.Fatalf("%s after the outage: %s", name, status)
		}
	}
	t.Logf("registry away %v (%d connections cut, the daemon stopped in %v and started again meanwhile); changes flowing again %v after it was back; topic: %s; index: %s; dead letters: 0",
		outage, cut, stopped.Round(time.Millisecond), took.Round(time.Millisecond), rep, state)
	d.terminate(20 * time.Second)
}

// recordsIn counts the records of topic, none when it does not exist.
func recordsIn(t *testing.T, cl *kgo.Client, topic string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) {
		switch {
		case errors.Is(o.Err, kerr.UnknownTopicOrPartition):
		case o.Err != nil:
			t.Errorf("end offset of %s[%d]: %v", topic, o.Partition, o.Err)
		default:
			n += o.Offset
		}
	})
	return n
}
