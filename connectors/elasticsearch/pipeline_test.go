package elasticsearch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/kafka"
	"github.com/sluice-cdc/sluice/connectors/metrics"
	_ "github.com/sluice-cdc/sluice/connectors/postgres" // registers the postgres class
	"github.com/sluice-cdc/sluice/schema/registry"
	"github.com/sluice-cdc/sluice/testenv"
	"github.com/sluice-cdc/sluice/testenv/kafkatest"
	"github.com/sluice-cdc/sluice/testenv/offsetstest"
	"github.com/sluice-cdc/sluice/testenv/pgtest"
	"github.com/sluice-cdc/sluice/testenv/registrytest"
)

// pipeline runs the whole chain on the real services: table t in a
// database of its own on the real Postgres, the Postgres source writing it
// to the real Kafka (schemas in an embedded registry kept in that Kafka),
// and sinks from t's topic into the real Elasticsearch.
type pipeline struct {
	t       *testing.T
	pg      *pgtest.Database
	db      *pgx.Conn
	brokers []string
	esURL   string
	reg     *registry.Client
	cl      *kgo.Client
	topic   string // also the index
	source  *running
	log     *slog.Logger
	// sourceConfig overrides the source's configuration.
	sourceConfig map[string]string
}

// running is a source or sink running in a goroutine.
type running struct {
	name    string
	cancel  context.CancelFunc
	done    chan error
	client  *kgo.Client // the source's producer
	metrics *metrics.Registry
}

// The table: id is the key, big is stored EXTERNAL (out of line, not
// compressed) so that values over 2 kB are TOASTed.
const pipelineTable = `CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL, n int, big text);
ALTER TABLE t ALTER COLUMN big SET STORAGE EXTERNAL`

func newPipeline(t *testing.T) *pipeline {
	t.Helper()
	p := &pipeline{t: t, pg: pgtest.NewDatabase(t, "espipe"), brokers: testenv.KafkaBrokers(t), esURL: testenv.ElasticsearchURL(t),
		log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	p.topic = p.pg.Name + ".public.t"
	t.Cleanup(p.stopSource) // runs before the database is dropped
	p.db = p.pg.Connect(t)
	p.exec(pipelineTable)
	p.reg = registrytest.Start(t, p.brokers, "_schemas_"+p.pg.Name).Client
	p.cl = kafkatest.NewClient(t, p.brokers)
	t.Cleanup(func() {
		req, _ := http.NewRequest("DELETE", p.esURL+"/"+p.topic, nil)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	})
	kafkatest.DeleteTopicsAtCleanup(t, p.brokers, func(topic string) bool { return topic == p.topic })
	return p
}

func (p *pipeline) exec(sqls ...string) {
	p.t.Helper()
	pgtest.Exec(p.t, p.db, sqls...)
}

// startSource runs a Postgres source with slot slot and fresh offsets (so
// snapshot.mode=initial snapshots), configured as p.sourceConfig says
// beyond that, and waits until it holds its slot:
// changes made from then on are streamed.
func (p *pipeline) startSource(slot string) {
	p.t.Helper()
	if p.source != nil {
		p.t.Fatal("a source is already running")
	}
	u := &p.pg.URL
	pw, _ := u.User.Password()
	class, ok := connectors.Lookup("io.debezium.connector.postgresql.PostgresConnector")
	if !ok {
		p.t.Fatal("class io.debezium.connector.postgresql.PostgresConnector not registered")
	}
	raw := map[string]string{
		"connector.class":   "io.debezium.connector.postgresql.PostgresConnector",
		"database.hostname": u.Hostname(), "database.port": u.Port(),
		"database.user": u.User.Username(), "database.password": pw,
		"database.dbname": p.pg.Name, "database.sslmode": "disable",
		"topic.prefix": p.pg.Name, "slot.name": slot, "publication.name": p.pg.Name,
		"snapshot.mode": "initial", "producer.override.linger.ms": "1",
		"skipped.operations": "none", // truncates too, which Debezium's default skips
	}
	maps.Copy(raw, p.sourceConfig)
	c, err := class.Spec.Parse(raw)
	if err != nil {
		p.t.Fatal(err)
	}
	client, err := kgo.NewClient(append(kafka.SourceClientOpts(c), kgo.SeedBrokers(p.brokers...))...)
	if err != nil {
		p.t.Fatal(err)
	}
	w := kafka.NewSourceWriter(client, p.reg, class, c, kafka.WithLogger(p.log))
	src, err := class.NewSource(c, connectors.Env{Name: "pg", Version: "test", Logger: p.log, Offsets: &offsetstest.Memory{}, StateDir: p.t.TempDir()})
	if err != nil {
		p.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{name: slot, cancel: cancel, done: make(chan error, 1), client: client}
	p.source = r
	go func() { r.done <- src.Run(ctx, w) }()
	pgtest.WaitStreaming(p.t, p.db, slot, p.checkSource)
}

// checkSource fails the test if the source stopped on its own.
func (p *pipeline) checkSource() {
	p.t.Helper()
	if p.source == nil {
		return
	}
	select {
	case err := <-p.source.done:
		p.source.client.Close()
		p.source = nil
		p.t.Fatalf("source stopped: %v", err)
	default:
	}
}

// stopSource stops the source, if one runs, and drops its slot.
func (p *pipeline) stopSource() {
	if p.source == nil {
		return
	}
	r := p.source
	p.source = nil
	r.cancel()
	err := <-r.done
	r.client.Close()
	if err != nil && !errors.Is(err, context.Canceled) {
		p.t.Errorf("source returned %v", err)
	}
}

// startSink runs a sink named name (consumer group connect-<name>) on the
// topic, writing to esURL, with configuration overrides (transforms among
// them, plugged in as the daemon does).
func (p *pipeline) startSink(name, esURL string, over map[string]string) *running {
	p.t.Helper()
	cfg := sinkConfig(p.t, p.topic, esURL, over)
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{name: name, cancel: cancel, done: make(chan error, 1), metrics: metrics.NewRegistry()}
	sink := New(cfg, connectors.Env{Name: name, Logger: p.log, Metrics: r.metrics})
	setTransforms(p.t, sink, over)
	go func() { r.done <- sink.Run(ctx, connectors.Kafka{Brokers: p.brokers, Registry: p.reg}) }()
	p.t.Cleanup(func() { r.cancel(); <-r.done })
	return r
}

// stopSink cancels a sink's context, wherever it is in its loop, and
// waits for Run to return.
func (p *pipeline) stopSink(r *running) {
	p.t.Helper()
	r.cancel()
	if err := <-r.done; !errors.Is(err, context.Canceled) {
		p.t.Fatalf("sink %s returned %v, want context.Canceled", r.name, err)
	}
	r.done <- context.Canceled // for the cleanup
}

// waitEqual waits until the index equals the table and sink's group has
// committed the whole topic, failing with the differences after timeout.
// It returns the number of rows.
func (p *pipeline) waitEqual(sink *running, timeout time.Duration) int {
	p.t.Helper()
	adm := kadm.NewClient(p.cl)
	ctx := context.Background()
	var diff string
	for deadline := time.Now().Add(timeout); ; time.Sleep(250 * time.Millisecond) {
		p.checkSource()
		select {
		case err := <-sink.done:
			p.t.Fatalf("sink %s stopped: %v", sink.name, err)
		default:
		}
		rows := p.rows()
		diff = compareDocs(rows, p.docs())
		if diff == "" && committedAll(ctx, adm, p.topic, GroupID(sink.name)) {
			return len(rows)
		}
		if time.Now().After(deadline) {
			if diff == "" {
				diff = "equal, but the group has not committed the whole topic"
			}
			p.t.Fatalf("index %s after %s: %s\nactions on the topic for the first differing id:%s", p.topic, timeout, diff, p.history(rows))
		}
	}
}

// rows returns the table's rows as the JSON documents the sink must write,
// by id.
func (p *pipeline) rows() map[string]string {
	p.t.Helper()
	rs, err := p.db.Query(context.Background(), "SELECT id, v, n, big FROM t")
	if err != nil {
		p.t.Fatal(err)
	}
	out := map[string]string{}
	for rs.Next() {
		var id int32
		var v string
		var n *int32
		var big *string
		if err := rs.Scan(&id, &v, &n, &big); err != nil {
			p.t.Fatal(err)
		}
		doc, _ := json.Marshal(map[string]any{"id": id, "v": v, "n": n, "big": big})
		out[fmt.Sprint(id)] = string(doc)
	}
	if err := rs.Err(); err != nil {
		p.t.Fatal(err)
	}
	return out
}

// docs returns every document of the topic's index after a refresh, its
// source with sorted keys, by id; none when there is no index yet.
func (p *pipeline) docs() map[string]string {
	p.t.Helper()
	return p.docsOf(p.topic)
}

// docsOf returns every document of index as docs does.
func (p *pipeline) docsOf(index string) map[string]string {
	p.t.Helper()
	out := map[string]string{}
	for _, d := range indexDocs(p.t, p.esURL, index) {
		src, _ := json.Marshal(d.source)
		out[d.id] = string(src)
	}
	return out
}

func (p *pipeline) es(method, path, body string) (int, []byte) {
	p.t.Helper()
	return esRequest(p.t, p.esURL, method, path, body)
}

// compareDocs describes how docs differs from rows (at most ten ids), or
// returns "" when they are equal.
func compareDocs(rows, docs map[string]string) string {
	var ids []string
	for id := range rows {
		ids = append(ids, id)
	}
	for id := range docs {
		if _, ok := rows[id]; !ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	var b strings.Builder
	n := 0
	for _, id := range ids {
		row, inTable := rows[id]
		doc, inIndex := docs[id]
		if inTable && inIndex && row == doc {
			continue
		}
		if n++; n > 10 {
			continue
		}
		switch {
		case !inIndex:
			fmt.Fprintf(&b, "\n  %s missing from the index: row %s", id, short(row))
		case !inTable:
			fmt.Fprintf(&b, "\n  %s not in the table: document %s", id, short(doc))
		default:
			fmt.Fprintf(&b, "\n  %s differs:\n    row %s\n    doc %s", id, short(row), short(doc))
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d rows and %d documents differ:%s", n, len(rows), len(docs), b.String())
}

func short(s string) string {
	if len(s) > 200 {
		return s[:200] + fmt.Sprintf("...(%d bytes)", len(s))
	}
	return s
}

// history describes the actions the topic's records make for the first id
// where the index and rows differ.
func (p *pipeline) history(rows map[string]string) string {
	docs := p.docs()
	var id string
	for _, m := range []map[string]string{rows, docs} {
		for k := range m {
			if rows[k] != docs[k] && (id == "" || k < id) {
				id = k
			}
		}
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(p.brokers...), kgo.ConsumeTopics(p.topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return err.Error()
	}
	defer cl.Close()
	end := p.endOffset()
	conv := newConverter(kafka.NewSinkDecoder(p.reg, nil), &Config{OnNull: "delete", Placeholder: "__debezium_unavailable_value"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var b strings.Builder
	fmt.Fprintf(&b, " id %s (%d records)", id, end)
	for read := int64(0); read < end && ctx.Err() == nil; {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			read++
			a, rej, err := conv.convert(ctx, r)
			switch {
			case err != nil:
				fmt.Fprintf(&b, "\n  offset %d: %v", r.Offset, err)
			case rej != nil:
				fmt.Fprintf(&b, "\n  offset %d: rejected: %s", r.Offset, rej.reason)
			case a.id == id:
				fmt.Fprintf(&b, "\n  offset %d: op %d version %d (versioned %t)", r.Offset, a.op, a.version, a.versioned)
			}
		})
	}
	return b.String()
}
