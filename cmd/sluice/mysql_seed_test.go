package main

import (
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/testenv/mysqltest"
)

// TestMySQLSeedExampleReachesElasticsearch runs the seed document's
// Debezium MySQL example as written but for the server's address — its
// user "debezium" with Debezium's documented grants, its server id, its
// topic prefix, database and table lists, its schema history keys — with
// the seed's Confluent Elasticsearch sink reading one of its topics, in the
// built binary on the real MariaDB, Kafka and Elasticsearch. The orders
// table, snapshotted then changed while streaming, must end up in the
// index document by document, versioned by binlog position, and its topic
// must hold Debezium's events.
func TestMySQLSeedExampleReachesElasticsearch(t *testing.T) {
	srv := mysqltest.Lookup(t)
	conn := mysqltest.Connect(t)
	const topic = "myapp.orders_db.orders"
	p := newSeedPipeline(t, topic, "myapp", "myapp.orders_db.order_items")
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

	p.start(t, "mysql-source-connector.json", map[string]string{"database.hostname": srv.Host(), "database.port": srv.Port()})
	mysqltest.Exec(t, conn,
		"INSERT INTO orders_db.orders VALUES (4, 'barbara', 42.00, '2026-12-03 12:00:00')",
		"UPDATE orders_db.orders SET total = 11.00, customer = 'ada l.' WHERE id = 1",
		"DELETE FROM orders_db.orders WHERE id = 2",
		"INSERT INTO orders_db.order_items VALUES (4, 1, 'sku-1')",
	)
	p.expectTopic(t, topic, "r 1 ada", "r 2 grace", "r 3 edsger", "c 4 barbara", "u 1 ada l.", "d 2 grace")
	got := p.expectIndex(t, map[string]map[string]any{
		"1": {"id": 1.0, "customer": "ada l.", "total": 11.0, "placed": 1796119200125.0},
		"3": {"id": 3.0, "customer": "edsger", "total": 0.01, "placed": 1796200200000.0},
		"4": {"id": 4.0, "customer": "barbara", "total": 42.0, "placed": 1796299200000.0},
	})
	// Versions come from binlog positions, not Elasticsearch's counters: the
	// snapshot's rows share the snapshot's, and later changes are newer.
	snap, inserted, updated := got["3"].version, got["4"].version, got["1"].version
	if snap <= 1<<16 || !(snap < inserted && inserted < updated) {
		t.Fatalf("document versions: snapshot %d, insert %d, update %d; want binlog positions, increasing", snap, inserted, updated)
	}
	p.d.terminate(15 * time.Second)
}
