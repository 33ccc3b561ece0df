package main

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/sluice-cdc/sluice/testenv"
	"github.com/sluice-cdc/sluice/testenv/kafkatest"
	"github.com/sluice-cdc/sluice/testenv/pgtest"
	"github.com/sluice-cdc/sluice/testenv/registrytest"
)

// TestPostgresSeedExampleRoutesToElasticsearch runs the seed document's
// Debezium Postgres example as written but for the server's address — its
// user "debezium", database orders_db, slot, publication, topic prefix and
// its RegexRouter transform — in the built binary on the real Postgres and
// Kafka. The transform routes cdc.public.orders to cdc-orders, where the
// seed's Confluent Elasticsearch sink (pointed at that topic) reads it into
// Elasticsearch.
func TestPostgresSeedExampleRoutesToElasticsearch(t *testing.T) {
	pgURL, err := url.Parse(testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	brokers, esURL := testenv.KafkaBrokers(t), testenv.ElasticsearchURL(t)
	sluiceBinary(t)

	const topic = "cdc-orders"
	index := esIndex{url: esURL, name: topic}
	kcl := kafkatest.NewClient(t, brokers)
	fresh := func() {
		dropGroupAndIndex(t, kcl, "connect-elasticsearch-sink-connector", index)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		kadm.NewClient(kcl).DeleteTopics(ctx, topic, "cdc-order_items", "cdc.public.orders", "_schemas_cdc_seed")
	}
	fresh()
	t.Cleanup(fresh)

	db := pgtest.NewNamedDatabase(t, "orders_db")
	conn := db.Connect(t)
	pgtest.Exec(t, conn,
		`DO $$ BEGIN
		   IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'debezium') THEN CREATE ROLE debezium; END IF;
		 END $$`,
		"ALTER ROLE debezium LOGIN REPLICATION PASSWORD 'password'",
		"CREATE TABLE public.orders (id int PRIMARY KEY, customer text NOT NULL, total numeric(10,2))",
		"CREATE TABLE public.order_items (order_id int, line int, sku text, PRIMARY KEY (order_id, line))",
		"GRANT SELECT ON ALL TABLES IN SCHEMA public TO debezium",
		// FOR ALL TABLES needs a superuser: an administrator creates it, as
		// Debezium's documentation advises for a role like debezium.
		"CREATE PUBLICATION dbz_publication FOR ALL TABLES",
		"INSERT INTO public.orders VALUES (1, 'ada', 10.50), (2, 'grace', 99.99), (3, 'edsger', 0.01)",
	)

	dir := t.TempDir()
	conns := filepath.Join(dir, "connectors")
	os.Mkdir(conns, 0o700)
	source := readSeed(t, "postgresql-source-connector.json")
	source["config"].(map[string]any)["database.hostname"] = pgURL.Hostname()
	source["config"].(map[string]any)["database.port"] = pgURL.Port()
	writeSeed(t, filepath.Join(conns, "postgresql-source-connector.json"), source)
	sink := readSeed(t, "elasticsearch-sink-connector.json")
	sink["config"].(map[string]any)["connection.url"] = esURL
	sink["config"].(map[string]any)["topics"] = topic
	writeSeed(t, filepath.Join(conns, "elasticsearch-sink-connector.json"), sink)

	out, err := exec.Command(sluiceBinary(t), "validate", "--connectors-dir", conns).CombinedOutput()
	if want := "ok: daemon config (defaults and environment) and 2 connector(s): elasticsearch-sink-connector, postgresql-source-connector\n"; err != nil || string(out) != want {
		t.Fatalf("validate: %v\n%s\nwant %s", err, out, want)
	}

	reg := registrytest.Start(t, brokers, "_schemas_cdc_seed")
	cfgFile := filepath.Join(dir, "sluice.json")
	writeJSON(t, cfgFile, `{"state.dir": "`+dir+`/state", "shutdown.timeout.ms": 5000,
		"kafka": {"bootstrap.servers": "`+strings.Join(brokers, ",")+`"}, "schema.registry": {"url": "`+reg.URL+`"}}`)
	d := startDaemon(t, []string{"SLUICE_REST_LISTEN=127.0.0.1:0", "SLUICE_LOG_FORMAT=json"}, "--config", cfgFile, "--connectors-dir", conns)
	d.waitFor("the Postgres source RUNNING", func() bool {
		_, body := d.call("GET", "/connectors/postgresql-source-connector/status", "")
		return strings.Contains(body, `"connector":{"state":"RUNNING"`)
	})
	pgtest.WaitStreaming(t, conn, "debezium_slot", func() {})
	pgtest.Exec(t, conn,
		"INSERT INTO public.orders VALUES (4, 'barbara', 42.00)",
		"UPDATE public.orders SET total = 11.00, customer = 'ada l.' WHERE id = 1",
		"DELETE FROM public.orders WHERE id = 2",
		"INSERT INTO public.order_items VALUES (4, 1, 'sku-1')",
	)
	newTopicReader(t, strings.Join(brokers, ","), reg.URL, topic).
		expect(t, "r 1 ada", "r 2 grace", "r 3 edsger", "c 4 barbara", "u 1 ada l.", "d 2 ") // the old row holds only the key, as REPLICA IDENTITY DEFAULT logs it
	newTopicReader(t, strings.Join(brokers, ","), reg.URL, "cdc-order_items").expect(t, "c 4 1")

	want := map[string]map[string]any{
		"1": {"id": 1.0, "customer": "ada l.", "total": 11.0},
		"3": {"id": 3.0, "customer": "edsger", "total": 0.01},
		"4": {"id": 4.0, "customer": "barbara", "total": 42.0},
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
	d.terminate(15 * time.Second)
	// The unrouted topic was never written.
	ends, err := kadm.NewClient(kcl).ListEndOffsets(t.Context(), "cdc.public.orders")
	if err != nil {
		t.Fatal(err)
	}
	if end, ok := ends.Lookup("cdc.public.orders", 0); ok && end.Err == nil && end.Offset > 0 {
		t.Fatalf("cdc.public.orders holds %d records; the transform should have routed every one", end.Offset)
	}
}
