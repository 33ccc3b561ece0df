package main

import (
	"context"
	"encoding/json"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/testenv"
	"github.com/sluice-cdc/sluice/testenv/kafkatest"
	"github.com/sluice-cdc/sluice/testenv/registrytest"
)

// esRig is the daemon of the Elasticsearch tests that change the items
// table while it runs: a Postgres source capturing a database of the
// test's own, and an Elasticsearch sink indexing the items table's topic,
// on the test environment's Kafka. The registry runs in the test, on a
// topic of its own: the daemon is configured as with an external Kafka
// and an external registry. The sink's group, the index and the topics
// are deleted when the test ends.
type esRig struct {
	t       *testing.T
	db      *database
	brokers []string
	esURL   string
	topic   string // the items table's topic, and the index's name
	sink    string // the sink connector's name
	group   string // the sink's consumer group
	index   esIndex
	kcl     *kgo.Client
	regURL  string
	// written by configure
	cfgFile, conns string
	env            []string
}

// newESRig makes the database and the registry, and builds the daemon's
// binary; the caller creates the items table (items) and configures the
// connectors before starting the daemon.
func newESRig(t *testing.T) *esRig {
	t.Helper()
	r := &esRig{t: t, brokers: testenv.KafkaBrokers(t), esURL: testenv.ElasticsearchURL(t)}
	sluiceBinary(t)
	r.db = newDatabase(t)
	r.topic = r.db.name + ".public.items"
	r.sink = r.db.name + "-es"
	r.group = "connect-" + r.sink
	r.index = esIndex{url: r.esURL, name: r.topic}
	r.kcl = kafkatest.NewClient(t, r.brokers)
	t.Cleanup(func() { dropGroupAndIndex(t, r.kcl, r.group, r.index) })
	kafkatest.DeleteTopicsAtCleanup(t, r.brokers, func(name string) bool {
		return strings.HasPrefix(name, r.db.name) || name == "_schemas_"+r.db.name
	})
	r.regURL = registrytest.Start(t, r.brokers, "_schemas_"+r.db.name).URL
	return r
}

// items creates the items table (itemsDDL, then stmts) and fills it with
// rows rows, and returns the workload that changes it, from a seed the
// test logs, and that seed.
func (r *esRig) items(ctx context.Context, rows int, stmts ...string) (*crashWorkload, uint64) {
	t := r.t
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	t.Logf("workload seed %d", seed)
	r.db.exec(t, append([]string{itemsDDL}, stmts...)...)
	wl := newCrashWorkload(seed)
	if err := wl.insert(ctx, r.db.conn, rows); err != nil {
		t.Fatal(err)
	}
	return wl, seed
}

// configure writes the daemon's configuration and its two connectors:
// the source, with the keys of source added, and the sink, writing to
// Elasticsearch at esURL, with the keys of sink added.
func (r *esRig) configure(source map[string]string, esURL string, sink map[string]string) {
	t := r.t
	t.Helper()
	pgURL, err := url.Parse(testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	r.conns = filepath.Join(dir, "connectors")
	os.Mkdir(r.conns, 0o700)
	r.cfgFile = filepath.Join(dir, "sluice.json")
	writeJSON(t, r.cfgFile, `{"state.dir": "`+dir+`/state", "shutdown.timeout.ms": 5000,
		"kafka": {"bootstrap.servers": "`+strings.Join(r.brokers, ",")+`"}, "schema.registry": {"url": "`+r.regURL+`"}}`)
	connector := func(name string, base, extra map[string]string) {
		cfg := maps.Clone(base)
		maps.Copy(cfg, extra)
		b, err := json.Marshal(map[string]any{"name": name, "config": cfg})
		if err != nil {
			t.Fatal(err)
		}
		writeJSON(t, filepath.Join(r.conns, name+".json"), string(b))
	}
	connector("source", map[string]string{"connector.class": "postgres",
		"database.hostname": pgURL.Hostname(), "database.port": pgURL.Port(), "database.user": pgURL.User.Username(),
		"database.password": "${env:PG_PASSWORD}", "database.dbname": r.db.name, "database.sslmode": "disable",
		"slot.name": r.db.name, "publication.name": r.db.name, "topic.prefix": r.db.name}, source)
	connector(r.sink, map[string]string{
		"connector.class": "io.confluent.connect.elasticsearch.ElasticsearchSinkConnector", "tasks.max": "1",
		"connection.url": esURL, "topics": r.topic, "key.ignore": "false", "behavior.on.null.values": "delete"}, sink)
	pgPassword, _ := pgURL.User.Password()
	r.env = []string{"SLUICE_REST_LISTEN=127.0.0.1:0", "SLUICE_LOG_FORMAT=json", "PG_PASSWORD=" + pgPassword}
}

// start runs the daemon as configured.
func (r *esRig) start() *daemonProc {
	r.t.Helper()
	return startDaemon(r.t, r.env, "--config", r.cfgFile, "--connectors-dir", r.conns)
}

// waitEqual waits up to within until the index equals the table, document
// by document, and the sink's group has committed every record of the
// topic; it returns the table's rows and the index's documents then. It
// fails the test, with the differences and d's logs, when they still
// differ then.
func (r *esRig) waitEqual(ctx context.Context, d *daemonProc, within time.Duration) (map[string]map[string]any, map[string]esDoc) {
	t := r.t
	t.Helper()
	for deadline := time.Now().Add(within); ; time.Sleep(300 * time.Millisecond) {
		want := readItems(t, r.db)
		got, err := r.index.docs(ctx, "id")
		if err != nil {
			t.Fatal(err)
		}
		diffs := diffIndex(want, got)
		if len(diffs) == 0 && groupLag(t, r.kcl, r.group) == 0 {
			return want, got
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v the index still differs from the table (%d rows, %d documents; group lag %d), %d difference(s):\n%s\ndaemon logs:\n%s",
				within, len(want), len(got), groupLag(t, r.kcl, r.group), len(diffs), strings.Join(diffs[:min(len(diffs), 20)], "\n"), d.log())
		}
	}
}
