package main

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/testenv"
	"github.com/sluice-cdc/sluice/testenv/kafkatest"
	"github.com/sluice-cdc/sluice/testenv/registrytest"
)

// TestElasticsearchIndexRebuiltByIncrementalSnapshot runs the daemon with
// a Postgres source and an Elasticsearch sink while a workload changes the
// table, deletes the index, and rebuilds it with an incremental snapshot
// started through POST /connectors/source/snapshots while the changes go
// on: afterwards the index equals the table, document by document. The
// table's replica identity is FULL, so that a streamed update that leaves a
// TOASTed value unchanged still carries it: with the index gone, the sink
// has no stored document to take it from.
func TestElasticsearchIndexRebuiltByIncrementalSnapshot(t *testing.T) {
	pgURL, err := url.Parse(testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	brokers, esURL := testenv.KafkaBrokers(t), testenv.ElasticsearchURL(t)
	sluiceBinary(t)
	ctx := t.Context()
	seed := uint64(time.Now().UnixNano())
	t.Logf("workload seed %d", seed)

	db := newDatabase(t)
	db.exec(t, itemsDDL, `ALTER TABLE items REPLICA IDENTITY FULL`)
	wl := newCrashWorkload(seed)
	if err := wl.insert(ctx, db.conn, 3000); err != nil {
		t.Fatal(err)
	}
	topic := db.name + ".public.items"
	sinkName := db.name + "-es"
	group := "connect-" + sinkName
	index := esIndex{url: esURL, name: topic}
	kcl := kafkatest.NewClient(t, brokers)
	t.Cleanup(func() { dropGroupAndIndex(t, kcl, group, index) })
	kafkatest.DeleteTopicsAtCleanup(t, brokers, func(name string) bool { return strings.HasPrefix(name, db.name) || name == "_schemas_"+db.name })
	reg := registrytest.Start(t, brokers, "_schemas_"+db.name)

	dir := t.TempDir()
	conns := filepath.Join(dir, "connectors")
	os.Mkdir(conns, 0o700)
	cfgFile := filepath.Join(dir, "sluice.json")
	writeJSON(t, cfgFile, `{"state.dir": "`+dir+`/state", "shutdown.timeout.ms": 5000,
		"kafka": {"bootstrap.servers": "`+strings.Join(brokers, ",")+`"}, "schema.registry": {"url": "`+reg.URL+`"}}`)
	pgPassword, _ := pgURL.User.Password()
	writeJSON(t, filepath.Join(conns, "source.json"), `{"name": "source", "config": {"connector.class": "postgres",
		"database.hostname": "`+pgURL.Hostname()+`", "database.port": "`+pgURL.Port()+`", "database.user": "`+pgURL.User.Username()+`",
		"database.password": "${env:PG_PASSWORD}", "database.dbname": "`+db.name+`", "database.sslmode": "disable",
		"slot.name": "`+db.name+`", "publication.name": "`+db.name+`", "topic.prefix": "`+db.name+`",
		"incremental.snapshot.chunk.size": "100"}}`)
	writeJSON(t, filepath.Join(conns, "sink.json"), `{"name": "`+sinkName+`", "config": {
		"connector.class": "io.confluent.connect.elasticsearch.ElasticsearchSinkConnector", "tasks.max": "1",
		"connection.url": "`+esURL+`", "topics": "`+topic+`", "key.ignore": "false", "behavior.on.null.values": "delete"}}`)
	env := []string{"SLUICE_REST_LISTEN=127.0.0.1:0", "SLUICE_LOG_FORMAT=json", "PG_PASSWORD=" + pgPassword}
	d := startDaemon(t, env, "--config", cfgFile, "--connectors-dir", conns)

	werr, stop := make(chan error, 1), make(chan struct{})
	go func() { werr <- wl.run(ctx, db.conn, stop, 150) }()
	equal := func(within time.Duration) {
		t.Helper()
		for deadline := time.Now().Add(within); ; time.Sleep(300 * time.Millisecond) {
			want := readItems(t, db)
			got, err := index.docs(ctx, "id")
			if err != nil {
				t.Fatal(err)
			}
			diffs := diffIndex(want, got)
			if len(diffs) == 0 && groupLag(t, kcl, group) == 0 {
				t.Logf("the index equals the table: %d documents", len(got))
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("after %v the index still differs from the table (%d rows, %d documents), %d difference(s):\n%s\ndaemon logs:\n%s",
					within, len(want), len(got), len(diffs), strings.Join(diffs[:min(len(diffs), 20)], "\n"), d.log())
			}
		}
	}
	time.Sleep(3 * time.Second)
	if err := index.remove(ctx); err != nil {
		t.Fatal(err)
	}
	code, body := d.call("POST", "/connectors/source/snapshots", `{"data-collections": ["public.items"]}`)
	var started struct{ ID string }
	if err := json.Unmarshal([]byte(body), &started); code != 202 || err != nil {
		t.Fatalf("POST /connectors/source/snapshots: %d %s", code, body)
	}
	d.waitFor("the incremental snapshot to complete", func() bool {
		_, body := d.call("GET", "/connectors/source/snapshots", "")
		return strings.Contains(body, `"id":"`+started.ID+`","state":"COMPLETED"`)
	})
	time.Sleep(2 * time.Second) // changes after the snapshot
	close(stop)
	if err := <-werr; err != nil {
		t.Fatalf("workload: %v", err)
	}
	t.Logf("workload: %v", wl.counts)
	equal(40 * time.Second)
}
