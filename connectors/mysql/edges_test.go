package mysql_test

import (
	"testing"

	"github.com/sluice-cdc/sluice/connectors/mysql"
	"github.com/sluice-cdc/sluice/schema/event"
)

// The values at the edges of what Debezium's encodings hold, as MariaDB
// stores them with an empty sql_mode (for zero dates) and time_zone +00:00.
const (
	edgesTable = `CREATE TABLE edges (id int PRIMARY KEY,
  d date NULL, d_nn date NOT NULL, dt datetime(6) NULL, dt_nn datetime NOT NULL,
  ts timestamp(6) NULL, ts_nn timestamp NOT NULL,
  tm time(6), tm0 time, dec65 decimal(65,30), ubig bigint unsigned, u uuid, i6 inet6, i4 inet4)`
	edgesInsert = `INSERT INTO edges VALUES
 (1, '0000-00-00', '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00',
  '838:59:59', '-838:59:59', 99999999999999999999999999999999999.999999999999999999999999999999, 18446744073709551615,
  '123e4567-e89b-12d3-a456-426614174000', '2001:db8::1', '10.0.0.1'),
 (2, '2020-00-15', '2020-05-00', '2020-05-00 10:00:00', '2020-00-01 00:00:00', NULL, '1970-01-01 00:00:01',
  '-00:00:01.5', '00:00:00', -99999999999999999999999999999999999.999999999999999999999999999999, 0,
  NULL, '::ffff:10.0.0.1', '255.255.255.255'),
 (3, '0001-01-01', '9999-12-31', '0001-01-01 00:00:00', '9999-12-31 23:59:59', '2038-01-19 03:14:07.999999', '2038-01-19 03:14:07',
  '-838:59:59', '838:59:59', NULL, NULL, '00000000-0000-0000-0000-000000000000', '::', '0.0.0.0'),
 (4, '1000-01-01', '0000-01-01', NULL, '0000-01-01 00:00:00', NULL, '1970-01-01 00:00:01', NULL, NULL, NULL, NULL, NULL, NULL, NULL)`
)

func ddec(s string) event.Decimal {
	d, err := event.ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

// wantEdges are the event values of the rows, in column order, with where
// Debezium 3.6.1 takes each from (BinlogValueConverters, RowDeserializers
// and the classes they call) or why sluice differs.
var wantEdges = map[int32][]any{
	1: {int32(1),
		// Zero dates: RowDeserializers.deserializeDate, deserializeDatetime(V2)
		// and deserializeTimestamp(V2) give null; JdbcValueConverters.convertValue
		// keeps it in a nullable column and gives the fallback, the epoch,
		// in a NOT NULL one without a DEFAULT (ZonedTimestamp's is
		// 1970-01-01T00:00:00Z).
		nil, int32(0), nil, int64(0), nil, "1970-01-01T00:00:00Z",
		// convertDurationToMicroseconds: Duration.toNanos()/1000.
		int64(3020399000000), int64(-3020399000000),
		ddec("99999999999999999999999999999999999.999999999999999999999999999999"),
		// BinlogUnsignedIntegerConverter.convertUnsignedBigint with
		// bigint.unsigned.handling.mode=precise: Decimal(20,0). In long mode
		// (the default) Debezium wraps it to -1 and sluice fails the change
		// (TestBigIntUnsignedLongNeverWraps).
		ddec("18446744073709551615"),
		// MariaDbValueConverters.convertUuid: io.debezium.data.Uuid text.
		// The binlog drops the value's trailing zero byte; Debezium's
		// MariaDB connector 3.5 then streams 00123e45-67e8-9b12-d3a4-564266141740.
		"123e4567-e89b-12d3-a456-426614174000",
		// INET6 and INET4 are unknown to Debezium, which leaves them out of
		// its events; sluice emits the server's text form.
		"2001:db8::1", "10.0.0.1"},
	2: {int32(2),
		nil, int32(0), nil, int64(0), nil, "1970-01-01T00:00:01Z", // a zero month or day is a zero date
		int64(-1500000), int64(0),
		ddec("-99999999999999999999999999999999999.999999999999999999999999999999"), ddec("0"),
		nil, "::ffff:10.0.0.1", "255.255.255.255"},
	3: {int32(3),
		// Date.toEpochDay, MicroTimestamp.toEpochMicros, Timestamp.toEpochMillis
		// at the first and last days MariaDB's types hold. With
		// enable.time.adjuster (its default) Debezium reads years 0 to 69 as
		// 2000 to 2069, so 0001-01-01 becomes 2001-01-01 (11323 days); sluice
		// keeps the stored date, as Debezium does with the adjuster off.
		int32(-719162), int32(2932896), int64(-62135596800000000), int64(253402300799000),
		// ZonedTimestamp.toIsoString with the column's fractional digits.
		"2038-01-19T03:14:07.999999Z", "2038-01-19T03:14:07Z",
		int64(-3020399000000), int64(3020399000000), nil, nil,
		"00000000-0000-0000-0000-000000000000", "::", "0.0.0.0"},
	4: {int32(4),
		int32(-354285),
		// Year 0 with a month and a day: Debezium's binlog reader takes any
		// zero field for a zero date (0 here), its snapshot reads the date
		// and adjusts year 0 to 2000 (10957); sluice reads the stored date
		// in both.
		int32(-719528), nil, int64(-62167219200000), nil, "1970-01-01T00:00:01Z",
		nil, nil, nil, nil, nil, nil, nil},
}

// checkEdges compares an event's row read back from Kafka with wantEdges.
func checkEdges(t *testing.T, e *event.Event) {
	t.Helper()
	id := e.After[0].(int32)
	want := wantEdges[id]
	if len(e.After) != len(want) {
		t.Fatalf("row %d: %d values, want %d", id, len(e.After), len(want))
	}
	for i, c := range e.Table.Columns {
		if !mysql.EqualValues(e.After[i], want[i]) {
			t.Errorf("op %s row %d column %s = %#v, want %#v", e.Op, id, c.Name, e.After[i], want[i])
		}
	}
}

// TestEdgeValuesSnapshottedAndStreamed reads zero dates, TIME at ±838:59:59,
// the first and last dates, datetimes and timestamps MariaDB stores, the
// largest decimals and unsigned integers, and MariaDB's UUID, INET6 and
// INET4 through Kafka, snapshotted and then streamed, with
// bigint.unsigned.handling.mode=precise for the largest BIGINT UNSIGNED.
func TestEdgeValuesSnapshottedAndStreamed(t *testing.T) {
	h := newHarness(t, map[string]string{"bigint.unsigned.handling.mode": "precise"})
	h.exec(edgesTable, "SET SESSION sql_mode = '', time_zone = '+00:00'", edgesInsert)
	h.start()
	h.waitRunning()
	n := len(wantEdges)
	for _, e := range values(h.read(h.topic("edges"), n)) {
		if e.Op != event.OpRead {
			t.Fatalf("want snapshot reads, got %s", e.Op)
		}
		checkEdges(t, e)
	}
	h.exec("DELETE FROM edges", edgesInsert)
	creates := 0
	for _, e := range values(h.read(h.topic("edges"), 4*n)) { // reads, deletes, tombstones, creates
		if e.Op == event.OpCreate {
			creates++
			checkEdges(t, e)
		}
	}
	if creates != n {
		t.Errorf("%d streamed creates, want %d", creates, n)
	}
}
