package compat_test

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sluice-cdc/sluice/testenv"
	"github.com/sluice-cdc/sluice/testenv/compat"
	"github.com/sluice-cdc/sluice/testenv/debezium"
	"github.com/sluice-cdc/sluice/testenv/kafkatest"
	"github.com/sluice-cdc/sluice/testenv/mysqltest"

	_ "github.com/sluice-cdc/sluice/connectors/mysql"
)

// myTables creates the captured tables in the database %[1]s: every column
// type sluice's MySQL type mapping supports in all_types, a table without
// a key, one to truncate, and the table whose row says every change has
// been made.
const myTables = `CREATE TABLE %[1]s.all_types (
  id int PRIMARY KEY,
  c_tiny tinyint, c_utiny tinyint unsigned, c_bool boolean, c_small smallint, c_usmall smallint unsigned,
  c_medium mediumint, c_umedium mediumint unsigned, c_int int, c_uint int unsigned NOT NULL,
  c_big bigint, c_ubig bigint unsigned,
  c_dec decimal(65,30), c_dec2 decimal(10,2), c_float float, c_double double,
  c_bit1 bit(1), c_bit64 bit(64), c_bit10 bit(10),
  c_char char(5), c_varchar varchar(100) CHARACTER SET utf8mb4, c_latin varchar(10) CHARACTER SET latin1, c_text text,
  c_binary binary(4), c_varbinary varbinary(10), c_blob blob, c_longblob longblob,
  c_date date, c_date_nn date NOT NULL, c_dt datetime(6), c_dt0 datetime, c_ts timestamp(6) NULL, c_ts0 timestamp NULL,
  c_time time(6), c_time0 time, c_year year,
  c_json json, c_enum enum('a','b','c'), c_set set('x','y','z')
) CHARACTER SET utf8mb4;
CREATE TABLE %[1]s.keyless (a int, b varchar(10));
CREATE TABLE %[1]s.trunc (id int PRIMARY KEY, v varchar(20));
CREATE TABLE %[1]s.compat_end (id int PRIMARY KEY)`

// myRows are three rows of all_types with ids base+1..base+3: extremes,
// zero dates, empty values and nulls.
const myRows = `INSERT INTO %[1]s.all_types VALUES
 (%[2]d+1, 127, 255, true, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615,
  99999999999999999999999999999999999.999999999999999999999999999999, 12345678.90, 1.5, 1.7976931348623157e308,
  b'1', b'1111111111111111111111111111111111111111111111111111111111111111', b'1000000001',
  'ab', 'héllo 😀', 'café', 'text', x'0102', x'ff00fe80', x'00', REPEAT('z', 100000),
  '2024-02-29', '2024-02-29', '2024-02-29 10:11:12.123456', '1000-01-01 00:00:00', '2024-02-29 15:41:12.123456', '2038-01-19 08:44:07',
  '-838:59:59.000000', '838:59:59', 2155,
  '{"a": [1, 2.5, null]}', 'c', 'x,z'),
 (%[2]d+2, -128, 0, false, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,
  -0.000000000000000000000000000001, -0.5, -0.25, -2.5,
  b'0', b'0', b'0000000000',
  '', '', '', '', x'', x'', x'', x'',
  '0000-00-00', '0000-00-00', '0000-00-00 00:00:00', '9999-12-31 23:59:59', '0000-00-00 00:00:00', '1970-01-01 05:30:01',
  '00:00:00.000001', '-00:00:01', 1901,
  '[]', 'invalid', ''),
 (%[2]d+3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 7, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, '1970-01-01', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`

// myAllowed are the only differences between what Debezium's MariaDB
// connector and sluice write from MariaDB, each with its reason; the known
// ones are sluice's to remove.
var myAllowed = []allowance{
	allow(`value\.payload\.source\.version`, "the version of the connector that wrote the record", nil),
	allow(`value\.payload\.ts_(ms|us|ns)`, "when the connector processed the change", nil),
	allow(`value\.payload\.source\.ts_(ms|us|ns)`, "a snapshot record's time is when the connector read the row or the table's structure", inRecords(snapshotRecord)),
	allow(`value\.payload\.source\.(file|pos)`, "a snapshot record's position is where the connector's own snapshot started", inRecords(snapshotRecord)),
	allow(`value\.payload\.(before|after)\.c_ts`, "Debezium's streamed changes write a zero TIMESTAMP of a nullable column as the epoch; its snapshot reads and sluice write null, as its documentation says", inRecords(func(v *compat.Value) bool { return !snapshotRead(v) })),
	allow(`value\.payload\.data_collections\[[0-9]+\]\..*`, "the order of a transaction END's data_collections: Debezium's follows a hash map", sameCollections),
	allow(`empty transaction`, "Debezium writes BEGIN and END for every transaction of the server, also those that change no captured table (event_count 0); sluice only for transactions with captured changes", nil),
	allow(`DDL BEGIN`, "Debezium writes a BEGIN and no END for the GTID of a DDL statement (the ALTER TABLE); sluice writes neither", nil),
	allow(`truncate BEGIN and END`, "sluice writes a BEGIN and an END around a TRUNCATE's truncate event; Debezium writes the BEGIN only, as for any DDL statement (set aside as DDL BEGIN)", nil),
}

// TestMariaDBMatchesDebezium runs Debezium's MariaDB connector and sluice's
// MySQL source, both configured as MariaDbConnector, on the same MariaDB
// tables and changes — a snapshot, then inserts, updates, a primary-key
// change, deletes, a transaction over two tables, a truncate and a column
// added — and compares what they write with the JSON converter field by
// field, schema-change topics included, and sluice's Avro schemas with
// Debezium's Connect schemas.
func TestMariaDBMatchesDebezium(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	worker := debezium.Start(t, debezium.MariaDB, brokers)
	server := mysqltest.Lookup(t)
	conn := mysqltest.Connect(t)
	db := testenv.Name(t, "compat")
	mysqltest.Exec(t, conn, "CREATE DATABASE "+db)
	t.Cleanup(func() { mysqltest.Exec(t, mysqltest.Connect(t), "DROP DATABASE IF EXISTS "+db) })
	mysqltest.Exec(t, conn, "SET SESSION sql_mode = '', time_zone = '+05:30'")
	mysqltest.Exec(t, conn, strings.Split(fmt.Sprintf(myTables, db), ";\n")...)
	mysqltest.Exec(t, conn, fmt.Sprintf(myRows, db, 0), "INSERT INTO "+db+".trunc VALUES (1, 'a'), (2, 'b')")

	s := sides{dbz: testenv.Name(t, "dbz"), json: testenv.Name(t, "slj"), avro: testenv.Name(t, "sla")}
	kafkatest.DeleteTopicsAtCleanup(t, brokers, func(topic string) bool {
		return tableOf(topic, s.dbz) != "" || tableOf(topic, s.json) != "" || tableOf(topic, s.avro) != ""
	})
	common := map[string]string{
		"database.hostname": server.Host(), "database.port": server.Port(),
		"database.user": server.User, "database.password": server.Password,
		"database.include.list": db, "snapshot.mode": "initial",
		// Truncates too (Debezium's default skips them), and transaction metadata.
		"skipped.operations": "none", "provide.transaction.metadata": "true",
		// c_ubig holds 18446744073709551615: Debezium's default, long, wraps
		// it to -1, where sluice's fails the change.
		"bigint.unsigned.handling.mode": "precise",
	}
	serverID := 0
	side := func(prefix string) map[string]string {
		serverID++
		return map[string]string{"topic.prefix": prefix, "database.server.id": strconv.Itoa(54000 + serverID)}
	}
	worker.AddConnector(t, s.dbz, with(common, side(s.dbz), map[string]string{
		"connector.class":                       "io.debezium.connector.mariadb.MariaDbConnector",
		"schema.history.internal":               "io.debezium.storage.file.history.FileSchemaHistory",
		"schema.history.internal.file.filename": filepath.Join(worker.Dir, s.dbz+".history"),
		// Only the test's database: other tests' tables may use types
		// Debezium's DDL parser does not know (inet4).
		"schema.history.internal.store.only.captured.databases.ddl": "true",
		"schema.history.internal.skip.unparseable.ddl":              "true",
	}))
	target, sluiceJSON, sluiceAvro := startSluice(t, brokers, with(common, map[string]string{"connector.class": "io.debezium.connector.mariadb.MariaDbConnector"}), s, side)
	sluiceJSON.WaitRunning()
	sluiceAvro.WaitRunning()
	// Debezium's snapshot must be over too before the changes: its last
	// read is the first row of trunc's, whose topic then has both rows.
	readAll(t, target, s, db+".trunc", worker.Check(t, s.dbz), sluiceJSON.Alive, sluiceAvro.Alive)

	for _, sql := range []string{
		fmt.Sprintf(myRows, db, 10),
		"UPDATE " + db + ".all_types SET c_text = 'changed', c_int = 7 WHERE id = 11",
		"UPDATE " + db + ".all_types SET id = 22 WHERE id = 12",
		"DELETE FROM " + db + ".all_types WHERE id = 13",
		"BEGIN",
		"INSERT INTO " + db + ".keyless VALUES (1, 'one'), (2, NULL)",
		"UPDATE " + db + ".trunc SET v = 'in a transaction' WHERE id = 1",
		"COMMIT",
		"TRUNCATE TABLE " + db + ".trunc",
		"ALTER TABLE " + db + ".trunc ADD COLUMN added int DEFAULT 5",
		"INSERT INTO " + db + ".trunc (id) VALUES (3)",
		"INSERT INTO " + db + ".compat_end VALUES (1)",
	} {
		mysqltest.Exec(t, conn, sql)
	}

	recs := readAll(t, target, s, db+".compat_end", worker.Check(t, s.dbz), sluiceJSON.Alive, sluiceAvro.Alive)
	c := newChecker(myAllowed)
	empty, ended := map[string]bool{}, map[string]bool{}
	for _, r := range recs[topicOf(s.dbz, "transaction")] {
		if v, err := compat.Parse(r.Value); err == nil && v.Get("payload.status").Text == "END" {
			ended[v.Get("payload.id").Text] = true
			empty[v.Get("payload.id").Text] = v.Get("payload.event_count").Text == "0"
		}
	}
	setAside(c, recs, topicOf(s.dbz, "transaction"), "empty transaction", func(v *compat.Value) bool { return empty[v.Get("payload.id").Text] })
	setAside(c, recs, topicOf(s.dbz, "transaction"), "DDL BEGIN", func(v *compat.Value) bool { return !ended[v.Get("payload.id").Text] })
	truncates := map[string]bool{}
	for _, r := range recs[topicOf(s.json, db+".trunc")] {
		if v, err := compat.Parse(r.Value); err == nil && v.Get("payload.op").Text == "t" {
			truncates[v.Get("payload.transaction.id").Text] = true
		}
	}
	if len(truncates) != 1 {
		t.Errorf("sluice wrote %d truncate events, want 1", len(truncates))
	}
	setAside(c, recs, topicOf(s.json, "transaction"), "truncate BEGIN and END", func(v *compat.Value) bool { return truncates[v.Get("payload.id").Text] })
	dbz := compareTopics(t, c, recs, s)
	compareAvroSchemas(t, c, target, recs, dbz, s)
	c.report(t)
}
