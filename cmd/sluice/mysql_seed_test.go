package main

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/sluice-cdc/sluice/testenv"
	"github.com/sluice-cdc/sluice/testenv/kafkatest"
	"github.com/sluice-cdc/sluice/testenv/mysqltest"
	"github.com/sluice-cdc/sluice/testenv/registrytest"
)

// TestMySQLSeedExampleReachesElasticsearch runs the seed document's
// Debezium MySQL example as written but for the server's address — its
// user "debezium" with Debezium's documented grants, its server id, its
// topic prefix, database and table lists, its schema history keys — with
// the seed's Confluent Elasticsearch sink reading one of its topics, in the
// built binary on the real MariaDB, Kafka and Elasticsearch. The orders
// table, snapshotted then changed while streaming, must end up in the
// index document by document, and its topic must hold Debezium's events.
func TestMySQLSeedExampleReachesElasticsearch(t *testing.T) {
	srv := mysqltest.Lookup(t)
	brokers, esURL := testenv.KafkaBrokers(t), testenv.ElasticsearchURL(t)
	sluiceBinary(t)
	conn := mysqltest.Connect(t)

	const topic = "myapp.orders_db.orders"
	index := esIndex{url: esURL, name: topic}
	kcl := kafkatest.NewClient(t, brokers)
	fresh := func() {
		dropGroupAndIndex(t, kcl, "connect-elasticsearch-sink-connector", index)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		kadm.NewClient(kcl).DeleteTopics(ctx, topic, "myapp.orders_db.order_items", "_schemas_myapp_seed")
	}
	fresh()
	t.Cleanup(fresh)
	mysqltest.Exec(t, conn,
		"SET SESSION sql_log_bin = 0",
		"DROP DATABASE IF EXISTS orders_db",
		"CREATE DATABASE orders_db",
		"CREATE TABLE orders_db.orders (id INT PRIMARY KEY, customer VARCHAR(64) NOT NULL, total DECIMAL(10,2), placed DATETIME(3))",
		"CREATE TABLE orders_db.order_items (order_id INT, line INT, sku VARCHAR(32), PRIMARY KEY (order_id, line))",
		"CREATE USER IF NOT EXISTS 'debezium'@'%' IDENTIFIED BY 'password'",
		"GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'debezium'@'%'",
		"SET SESSION sql_log_bin = 1",
		"INSERT INTO orders_db.orders VALUES (1, 'ada', 10.50, '2026-12-01 10:00:00.125'), (2, 'grace', 99.99, NULL), (3, 'edsger', 0.01, '2026-12-02 08:30:00')",
	)
	t.Cleanup(func() { mysqltest.Exec(t, conn, "DROP DATABASE IF EXISTS orders_db") })

	// The seed files, with only the addresses changed.
	dir := t.TempDir()
	conns := filepath.Join(dir, "connectors")
	os.Mkdir(conns, 0o700)
	source := readSeed(t, "mysql-source-connector.json")
	source["config"].(map[string]any)["database.hostname"] = srv.Host()
	source["config"].(map[string]any)["database.port"] = srv.Port()
	writeSeed(t, filepath.Join(conns, "mysql-source-connector.json"), source)
	sink := readSeed(t, "elasticsearch-sink-connector.json")
	sink["config"].(map[string]any)["connection.url"] = esURL
	sink["config"].(map[string]any)["topics"] = topic
	writeSeed(t, filepath.Join(conns, "elasticsearch-sink-connector.json"), sink)

	out, err := exec.Command(sluiceBinary(t), "validate", "--connectors-dir", conns).CombinedOutput()
	if want := "ok: daemon config (defaults and environment) and 2 connector(s): elasticsearch-sink-connector, mysql-source-connector\n"; err != nil || string(out) != want {
		t.Fatalf("validate: %v\n%s\nwant %s", err, out, want)
	}

	reg := registrytest.Start(t, brokers, "_schemas_myapp_seed")
	cfgFile := filepath.Join(dir, "sluice.json")
	writeJSON(t, cfgFile, `{"state.dir": "`+dir+`/state", "shutdown.timeout.ms": 5000,
		"kafka": {"bootstrap.servers": "`+strings.Join(brokers, ",")+`"}, "schema.registry": {"url": "`+reg.URL+`"}}`)
	d := startDaemon(t, []string{"SLUICE_REST_LISTEN=127.0.0.1:0", "SLUICE_LOG_FORMAT=json"}, "--config", cfgFile, "--connectors-dir", conns)
	d.waitFor("the MySQL source RUNNING", func() bool {
		_, body := d.call("GET", "/connectors/mysql-source-connector/status", "")
		return strings.Contains(body, `"connector":{"state":"RUNNING"`)
	})

	mysqltest.Exec(t, conn,
		"INSERT INTO orders_db.orders VALUES (4, 'barbara', 42.00, '2026-12-03 12:00:00')",
		"UPDATE orders_db.orders SET total = 11.00, customer = 'ada l.' WHERE id = 1",
		"DELETE FROM orders_db.orders WHERE id = 2",
		"INSERT INTO orders_db.order_items VALUES (4, 1, 'sku-1')",
	)
	reader := newTopicReader(t, strings.Join(brokers, ","), reg.URL, topic)
	reader.expect(t, "r 1 ada", "r 2 grace", "r 3 edsger", "c 4 barbara", "u 1 ada l.", "d 2 grace")

	want := map[string]map[string]any{
		"1": {"id": 1.0, "customer": "ada l.", "total": 11.0, "placed": 1796119200125.0},
		"3": {"id": 3.0, "customer": "edsger", "total": 0.01, "placed": 1796200200000.0},
		"4": {"id": 4.0, "customer": "barbara", "total": 42.0, "placed": 1796299200000.0},
	}
	var got map[string]esDoc
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if got, err = index.docs(t.Context(), "id"); err == nil && sameSources(got, want) {
			break
		}
	}
	if !sameSources(got, want) {
		t.Fatalf("index %s holds %v, want %v; logs:\n%s", topic, got, want, d.log())
	}
	// Versions come from binlog positions, not Elasticsearch's counters: the
	// snapshot's rows share the snapshot's, and later changes are newer.
	snap, inserted, updated := got["3"].version, got["4"].version, got["1"].version
	if snap <= 1<<16 || !(snap < inserted && inserted < updated) {
		t.Fatalf("document versions: snapshot %d, insert %d, update %d; want binlog positions, increasing", snap, inserted, updated)
	}
	d.terminate(15 * time.Second)
}

func sameSources(got map[string]esDoc, want map[string]map[string]any) bool {
	if len(got) != len(want) {
		return false
	}
	for id, w := range want {
		if !reflect.DeepEqual(got[id].source, w) {
			return false
		}
	}
	return true
}

// readSeed reads a seed document's connector config from testdata.
func readSeed(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "seed-configs", name))
	if err != nil {
		t.Fatal(err)
	}
	var def map[string]any
	if err := json.Unmarshal(b, &def); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	def["config"] = maps.Clone(def["config"].(map[string]any))
	return def
}

func writeSeed(t *testing.T, path string, def map[string]any) {
	t.Helper()
	b, err := json.MarshalIndent(def, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	writeJSON(t, path, string(b))
}
