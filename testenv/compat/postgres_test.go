package compat_test

import (
	"fmt"
	"testing"

	"github.com/sluice-cdc/sluice/testenv"
	"github.com/sluice-cdc/sluice/testenv/compat"
	"github.com/sluice-cdc/sluice/testenv/debezium"
	"github.com/sluice-cdc/sluice/testenv/kafkatest"
	"github.com/sluice-cdc/sluice/testenv/pgtest"

	_ "github.com/sluice-cdc/sluice/connectors/postgres"
)

// pgSchema creates the captured tables: every column type sluice's
// Postgres type mapping supports in all_types (with a full replica
// identity, so before images carry every column), out-of-line TOASTed
// values in toasted, a table without a key, one to truncate, and the table
// whose row says every change has been made. Geometric types are left out:
// sluice writes them as text, Debezium as io.debezium.data.geometry
// structs.
const pgSchema = `
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN price AS numeric(10,2) CHECK (VALUE >= 0);
CREATE DOMAIN code AS varchar(5) NOT NULL;
CREATE TABLE all_types (
  id int4 PRIMARY KEY,
  c_bool bool, c_int2 int2, c_int4 int4, c_int8 int8 NOT NULL, c_oid oid,
  c_float4 float4, c_float8 float8,
  c_num numeric(38,10), c_numvar numeric, c_money money,
  c_text text, c_varchar varchar(10), c_char char(3), c_name name,
  c_bytea bytea,
  c_date date, c_time time(3), c_time6 time, c_timetz timetz, c_ts timestamp, c_ts0 timestamp(0), c_tstz timestamptz, c_interval interval,
  c_uuid uuid, c_json json, c_jsonb jsonb, c_xml xml,
  c_inet inet, c_cidr cidr, c_mac macaddr, c_mac8 macaddr8,
  c_bit bit(1), c_bits bit(10), c_varbit varbit,
  c_enum mood, c_price price, c_code code,
  c_int_arr int4[], c_text_arr text[], c_2d int4[][], c_num_arr numeric(5,2)[], c_enum_arr mood[],
  c_tstz_arr timestamptz[], c_int4range int4range,
  c_default int4 NOT NULL DEFAULT 42, c_label text DEFAULT 'none'
);
ALTER TABLE all_types REPLICA IDENTITY FULL;
CREATE TABLE toasted (id int4 PRIMARY KEY, note text, big text);
ALTER TABLE toasted ALTER COLUMN big SET STORAGE EXTERNAL;
CREATE TABLE keyless (a int4, b text);
ALTER TABLE keyless REPLICA IDENTITY FULL; -- sluice refuses a keyless table whose updates would fail
CREATE TABLE trunc (id int4 PRIMARY KEY, v text);
CREATE TABLE compat_end (id int4 PRIMARY KEY);
`

// pgRows are three rows of all_types with ids base+1..base+3: extremes,
// special values, empty values and nulls.
const pgRows = `INSERT INTO all_types VALUES
 (%[1]d+1, true, 32767, 2147483647, 9223372036854775807, 4294967295,
  'NaN', 'Infinity',
  1234567890123456789012345678.0123456789, 'NaN', '92233720368547758.07',
  '', 'héllo😀', 'ab', 'pg_name',
  '\x00ff80fe',
  '2024-02-29', '23:59:59.999', '12:34:56.789012', '10:11:12.123456+05:30', '2024-02-29 10:11:12.123456', '2024-02-29 10:11:12', '2024-02-29 10:11:12.123456+00',
  '1 year 2 months 3 days 04:05:06.78',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2.5, null], "b": "ü"}', '{"b": 1, "a": [true]}', '<a>x</a>',
  '192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05',
  B'1', B'1000000001', B'101',
  'happy', 12.5, 'AB',
  '{1,NULL,3}', ARRAY['a b', 'c"d', 'NULL', NULL, '', 'x\y', 'é,}'], '{{1,2},{3,4}}', '{1.5,NaN,NULL}', '{sad,happy}',
  ARRAY['2024-02-29 10:11:12+00'::timestamptz, NULL], '[1,10)', 1, 'one'),
 (%[1]d+2, false, -32768, -2147483648, -9223372036854775808, 0,
  '-Infinity', 1.7976931348623157e308,
  -0.0000000001, 3.14159265358979323846264338327950288, '-92233720368547758.08',
  repeat('x', 100000), '', 'abc', 'n',
  '\x',
  'infinity', '00:00:00', '00:00:00', '00:00:00-03', '-infinity', '1970-01-01 00:00:00', '2024-03-01 01:00:00.5+05:30',
  '-1 days +02:03:00',
  '00000000-0000-0000-0000-000000000000', '[]', '"str"', '<b/>',
  '::1', '2001:db8::/32', 'ff:ff:ff:ff:ff:ff', '00:00:00:00:00:00:00:00',
  B'0', B'0000000000', B'',
  'sad', 0, 'Z',
  '{}', '{}', '{{{1}}}', '{}', '{}',
  '{}', 'empty', DEFAULT, DEFAULT),
 (%[1]d+3, NULL, NULL, NULL, 0, NULL, 1.5, 0.1, 0.5, -7.25, NULL, NULL, NULL, NULL, NULL, NULL,
  '1969-12-31', NULL, NULL, NULL, '1970-01-01 00:00:00.000001', NULL, '0044-03-15 12:00:00+00 BC', NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'N',
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, DEFAULT, NULL)`

// pgChanges are the changes made once every side streams, each statement
// its own transaction unless it says BEGIN.
var pgChanges = []string{
	fmt.Sprintf(pgRows, 10),
	`UPDATE all_types SET c_text = 'changed', c_int4 = 7, c_num_arr = '{2.25}' WHERE id = 11`,
	`UPDATE all_types SET id = 22 WHERE id = 12`, // a primary-key change
	`DELETE FROM all_types WHERE id = 13`,
	`UPDATE toasted SET note = 'toast kept' WHERE id = 1`, // big is unchanged and not in the WAL
	`INSERT INTO toasted VALUES (2, 'new', (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 300) i))`,
	`DELETE FROM toasted WHERE id = 2`,
	`BEGIN; INSERT INTO keyless VALUES (1, 'one'), (2, NULL); UPDATE trunc SET v = 'in a transaction' WHERE id = 1; COMMIT`,
	`TRUNCATE trunc`,
	`INSERT INTO compat_end VALUES (1)`,
}

// pgAllowed are the only differences between what Debezium's Postgres
// connector and sluice write, each with its reason; the known ones are
// sluice's to remove.
var pgAllowed = []allowance{
	allow(`value\.payload\.source\.version`, "the version of the connector that wrote the record", nil),
	allow(`value\.payload\.ts_(ms|us|ns)`, "when the connector processed the change", nil),
	allow(`value\.payload\.source\.ts_(ms|us|ns)`, "a snapshot read's time is when the connector read the row", inRecords(snapshotRead)),
	allow(`value\.payload\.source\.(lsn|txId|sequence)`, "a snapshot read's position is that of the connector's own snapshot, taken when its slot was created", inRecords(snapshotRead)),
	allow(`value\.payload\.(before|after)\.c_2d(\[[0-9]+\])?`, "Debezium writes a multi-dimensional array as one null per outer element; sluice writes its elements in row-major order", nil),
	allow(`value\.payload\.(before|after)\.c_num_arr`, "Debezium writes null for a whole numeric array when an element is NaN; sluice writes null for that element only", nil),
	allow(`value\.payload\.(before|after)\.c_name`, "Debezium 3.6.1 writes null for a column of type name in streamed changes (its snapshot reads have the value)", inRecords(func(v *compat.Value) bool { return !snapshotRead(v) })),
	allow(`value\.payload\.after\.c_date`, "Debezium's snapshot reads a date of 'infinity' through JDBC as a far date; its streamed changes and sluice write the int32 maximum", inRecords(snapshotRead)),
	allow(`(key|value)\.payload\.(transaction\.)?id`, "Debezium's Postgres transaction ids are the txId and the LSN of the record's own change (so they differ within a transaction); sluice's are the txId and the commit LSN, the same on every record of the transaction", sameTransaction),
}

// TestPostgresMatchesDebezium runs Debezium's Postgres connector and
// sluice's Postgres source on the same tables and changes — a snapshot,
// then inserts, updates, a primary-key change, deletes, unchanged TOASTed
// values, a transaction over two tables and a truncate — and compares what
// they write with the JSON converter field by field, and sluice's Avro
// schemas with Debezium's Connect schemas. Transaction metadata is on, so
// the transaction topics and the changes' transaction blocks are compared.
func TestPostgresMatchesDebezium(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	worker := debezium.Start(t, debezium.Current, brokers)
	db := pgtest.NewDatabase(t, "compat")
	conn := db.Connect(t)
	pgtest.Exec(t, conn, pgSchema, fmt.Sprintf(pgRows, 0),
		`INSERT INTO toasted VALUES (1, 'first', (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 300) i))`,
		`INSERT INTO trunc VALUES (1, 'a'), (2, 'b')`)

	s := sides{dbz: testenv.Name(t, "dbz"), json: testenv.Name(t, "slj"), avro: testenv.Name(t, "sla")}
	kafkatest.DeleteTopicsAtCleanup(t, brokers, func(topic string) bool {
		return tableOf(topic, s.dbz) != "" || tableOf(topic, s.json) != "" || tableOf(topic, s.avro) != ""
	})
	password, _ := db.URL.User.Password()
	common := map[string]string{
		"database.hostname": db.URL.Hostname(), "database.port": db.URL.Port(),
		"database.user": db.URL.User.Username(), "database.password": password, "database.dbname": db.Name,
		"plugin.name": "pgoutput", "publication.autocreate.mode": "filtered", "snapshot.mode": "initial",
		"table.include.list": "public.all_types,public.toasted,public.keyless,public.trunc,public.compat_end",
		// Truncates too (Debezium's default skips them), and transaction metadata.
		"skipped.operations": "none", "provide.transaction.metadata": "true",
	}
	side := func(prefix string) map[string]string {
		return map[string]string{"topic.prefix": prefix, "slot.name": prefix, "publication.name": prefix}
	}
	worker.AddConnector(t, s.dbz, with(common, side(s.dbz), map[string]string{
		"connector.class": "io.debezium.connector.postgresql.PostgresConnector",
	}))
	target, sluiceJSON, sluiceAvro := startSluice(t, brokers, with(common, map[string]string{"connector.class": "io.debezium.connector.postgresql.PostgresConnector"}), s, side)
	pgtest.WaitStreaming(t, conn, s.dbz, nil)
	pgtest.WaitStreaming(t, conn, s.json, sluiceJSON.Alive)
	pgtest.WaitStreaming(t, conn, s.avro, sluiceAvro.Alive)
	for _, sql := range pgChanges {
		pgtest.Exec(t, conn, sql)
	}

	recs := readAll(t, target, s, "public.compat_end", worker.Check(t, s.dbz), sluiceJSON.Alive, sluiceAvro.Alive)
	c := newChecker(pgAllowed)
	dbz := compareTopics(t, c, recs, s)
	compareAvroSchemas(t, c, target, recs, dbz, s)
	c.report(t)
}
