package main

import (
	"net/url"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/sluice-cdc/sluice/testenv"
	"github.com/sluice-cdc/sluice/testenv/kafkatest"
	"github.com/sluice-cdc/sluice/testenv/pgtest"
)

// TestPostgresSeedExampleRoutesToElasticsearch runs the seed document's
// Debezium Postgres example as written but for the server's address — its
// user "debezium", database orders_db, slot, publication, topic prefix and
// its RegexRouter transform — in the built binary on the real Postgres and
// Kafka. The transform routes cdc.public.orders to cdc-orders, where the
// seed's Confluent Elasticsearch sink (pointed at that topic) reads it into
// Elasticsearch. A second sink reads it with transforms of its own, as
// Debezium users write them: the rows flattened, the index named by a
// route.
func TestPostgresSeedExampleRoutesToElasticsearch(t *testing.T) {
	pgURL, err := url.Parse(testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	const topic = "cdc-orders"
	p := newSeedPipeline(t, topic, "cdc-order_items", "cdc.public.orders")
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

	flat := esIndex{url: p.esURL, name: "orders-flat"}
	p.alsoRun(t, map[string]any{"name": "orders-flat-sink", "config": map[string]any{
		"connector.class": "io.confluent.connect.elasticsearch.ElasticsearchSinkConnector",
		"connection.url":  p.esURL, "topics": topic, "key.ignore": false, "behavior.on.null.values": "delete",
		"transforms":             "unwrap,route",
		"transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState", "transforms.unwrap.add.fields": "op",
		"transforms.route.type":  "org.apache.kafka.connect.transforms.RegexRouter",
		"transforms.route.regex": "cdc-(.*)", "transforms.route.replacement": "$1-flat",
	}}, flat.name)
	p.start(t, "postgresql-source-connector.json", map[string]string{"database.hostname": pgURL.Hostname(), "database.port": pgURL.Port()})
	pgtest.WaitStreaming(t, conn, "debezium_slot", nil)
	pgtest.Exec(t, conn,
		"INSERT INTO public.orders VALUES (4, 'barbara', 42.00)",
		"UPDATE public.orders SET total = 11.00, customer = 'ada l.' WHERE id = 1",
		"DELETE FROM public.orders WHERE id = 2",
		"INSERT INTO public.order_items VALUES (4, 1, 'sku-1')",
	)
	// The old row of a delete holds only the key, as REPLICA IDENTITY
	// DEFAULT logs it.
	p.expectTopic(t, topic, "r 1 ada", "r 2 grace", "r 3 edsger", "c 4 barbara", "u 1 ada l.", "d 2 ")
	p.expectTopic(t, "cdc-order_items", "c 4 1")
	p.expectIndex(t, map[string]map[string]any{
		"1": {"id": 1.0, "customer": "ada l.", "total": 11.0},
		"3": {"id": 3.0, "customer": "edsger", "total": 0.01},
		"4": {"id": 4.0, "customer": "barbara", "total": 42.0},
	})
	p.expectDocs(t, flat, map[string]map[string]any{
		"1": {"id": 1.0, "customer": "ada l.", "total": 11.0, "__op": "u"},
		"3": {"id": 3.0, "customer": "edsger", "total": 0.01, "__op": "r"},
		"4": {"id": 4.0, "customer": "barbara", "total": 42.0, "__op": "c"},
	})
	p.d.terminate(15 * time.Second)
	// The unrouted topic was never written.
	cl := kafkatest.NewClient(t, p.brokers)
	ends, err := kadm.NewClient(cl).ListEndOffsets(t.Context(), "cdc.public.orders")
	if err != nil {
		t.Fatal(err)
	}
	if end, ok := ends.Lookup("cdc.public.orders", 0); ok && end.Err == nil && end.Offset > 0 {
		t.Fatalf("cdc.public.orders holds %d records; the transform should have routed every one", end.Offset)
	}
}
