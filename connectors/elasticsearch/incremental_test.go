package elasticsearch

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors/kafka"
	"github.com/sluice-cdc/sluice/testenv"
)

// TestIncrementalSnapshotReadsVersionedAtTheHighWatermark rebuilds a
// deleted index with an incremental snapshot of the real Postgres source:
// each document a snapshot read wrote has the external version of the
// chunk's high watermark, the LSN of its logical decoding message as a
// second slot (test_decoding) reads it from the WAL; and a streamed change
// older than the read, delivered again after it, does not overwrite it.
func TestIncrementalSnapshotReadsVersionedAtTheHighWatermark(t *testing.T) {
	p := newPipeline(t)
	p.exec(`CREATE TABLE signal (id text PRIMARY KEY, type text NOT NULL, data text)`)
	p.sourceConfig = map[string]string{"signal.data.collection": "public.signal"}
	p.startSource(p.pg.Name + "_a")
	name := testenv.Name(t, "rebuild")
	sink := p.startSink(name, p.esURL, nil)
	p.exec(`INSERT INTO t (id, v) VALUES (1, 'a'), (2, 'b'), (3, 'c')`,
		`UPDATE t SET v = 'old' WHERE id = 1`,
		`UPDATE t SET v = 'new' WHERE id = 1`)
	p.waitEqual(sink, 30*time.Second)

	// The index is lost; the snapshot rebuilds it.
	p.stopSink(sink)
	if status, body := p.es("DELETE", "/"+p.topic, ""); status != 200 {
		t.Fatalf("delete the index: %d %s", status, body)
	}
	p.exec(`SELECT pg_create_logical_replication_slot('` + p.pg.Name + `_peek', 'test_decoding', true)`)
	p.exec(`INSERT INTO signal VALUES ('rebuild', 'execute-snapshot', '{"data-collections": ["public.t"]}')`)
	mark := p.highWatermark(p.pg.Name+"_peek", "rebuild-")
	sink = p.startSink(name, p.esURL, nil)
	p.waitEqual(sink, 30*time.Second)
	want := version(uint64(mark), 0)
	checkVersions := func(when string) {
		t.Helper()
		docs := indexDocs(t, p.esURL, p.topic)
		if len(docs) != 3 {
			t.Fatalf("%s: %d documents, want 3", when, len(docs))
		}
		for _, d := range docs {
			if d.version != want {
				t.Fatalf("%s: document %s has version %d, want %d: the high watermark at %s", when, d.id, d.version, want, mark)
			}
		}
	}
	checkVersions("after the snapshot")

	// The update to 'old', committed before the watermark, delivered again.
	stale := p.record(func(a action) bool {
		return a.id == "1" && a.versioned && a.version < want && slices.ContainsFunc(a.fields, func(f field) bool { return f.name == "v" && string(f.raw) == `"old"` })
	})
	if err := p.cl.ProduceSync(context.Background(), &kgo.Record{Topic: p.topic, Key: stale.Key, Value: stale.Value, Headers: stale.Headers}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	p.waitEqual(sink, 30*time.Second)
	checkVersions("after a stale change")
	if n := counter(sink.metrics, "sluice_es_version_conflicts_total"); n != 1 {
		t.Fatalf("version conflicts = %d, want 1 (the stale change)", n)
	}
}

// highWatermark waits for the first high watermark of incremental snapshot
// chunks whose ids begin with prefix in the WAL, as the temporary
// test_decoding slot slot of p.db reads it, and returns its LSN.
func (p *pipeline) highWatermark(slot, prefix string) pglogrepl.LSN {
	p.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		p.checkSource()
		var lsn string
		err := p.db.QueryRow(context.Background(), `SELECT lsn::text FROM pg_logical_slot_peek_changes($1, NULL, NULL)
			WHERE data LIKE 'message: transactional: 1 prefix: sluice-incremental, %content:'||$2||'%-close' ORDER BY lsn LIMIT 1`, slot, prefix).Scan(&lsn)
		if err == nil {
			at, err := pglogrepl.ParseLSN(lsn)
			if err != nil {
				p.t.Fatal(err)
			}
			return at
		}
	}
	p.t.Fatalf("no high watermark of snapshot %s in the WAL", prefix)
	return 0
}

// record returns the first record of the topic whose action matches.
func (p *pipeline) record(match func(action) bool) *kgo.Record {
	p.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(p.brokers...), kgo.ConsumeTopics(p.topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		p.t.Fatal(err)
	}
	defer cl.Close()
	conv := newConverter(kafka.NewSinkDecoder(p.reg, nil), &Config{OnNull: "delete", Placeholder: placeholder})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for end, read := p.endOffset(), int64(0); read < end && ctx.Err() == nil; {
		for _, r := range cl.PollFetches(ctx).Records() {
			read++
			if a, rej, err := conv.convert(ctx, r); err == nil && rej == nil && match(a) {
				return r
			}
		}
	}
	p.t.Fatal("no record of the topic matches")
	return nil
}
