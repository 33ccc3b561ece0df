package mysql_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/mysql"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/testenv/sourcetest"
	"github.com/sluice-cdc/sluice/testenv/topictest"
)

// failMessage is the error of a change of db.t whose column v holds the
// rejected marker, in the transaction of GTID gtid, at any binlog position.
func failMessage(db, gtid string) *regexp.Regexp {
	return regexp.MustCompile(`^cannot convert column v \(varchar\) of ` + regexp.QuoteMeta(db) + `\.t at binlog mysql-bin\.[0-9]+:[0-9]+ row 0 \(GTID ` +
		regexp.QuoteMeta(gtid) + `\): ` + regexp.QuoteMeta(`"`+mysql.Rejected+`" is rejected. The change was not delivered and the connector stopped `+
		`(event.processing.failure.handling.mode=fail); to drop such changes and go on, set event.processing.failure.handling.mode=warn or skip `+
		`(errors.deadletterqueue.topic.name keeps them)`) + `$`)
}

// commit runs sqls in one transaction on conn and returns its GTID.
func commit(t *testing.T, conn *client.Conn, sqls ...string) string {
	t.Helper()
	for _, q := range append(append([]string{"BEGIN"}, sqls...), "COMMIT") {
		if _, err := conn.Execute(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	res, err := conn.Execute("SELECT @@last_gtid")
	if err != nil {
		t.Fatal(err)
	}
	gtid, _ := res.GetString(0, 0)
	return gtid
}

// changes are the distinct changes among rs, as "op id", in the order they
// first appear: replays after a restart are allowed.
func changes(rs []record) []string {
	var out []string
	for _, e := range values(rs) {
		row := e.After
		if row == nil {
			row = e.Before
		}
		if c := fmt.Sprintf("%s %d", e.Op, row[0]); !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// deadLetter decodes a dead-letter record's value, with ts_ms set to 0 and
// its binlog position to X:X.
func deadLetter(t *testing.T, value []byte) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(value, &m); err != nil {
		t.Fatalf("dead letter %s: %v", value, err)
	}
	m["ts_ms"] = 0
	m["position"] = regexp.MustCompile(`mysql-bin\.[0-9]+:[0-9]+`).ReplaceAllString(m["position"].(string), "X:X")
	b, _ := json.Marshal(m)
	return string(b)
}

// TestConversionFailureStopsForGoodAndSkipResumes streams a transaction
// holding a value that does not convert: with the default mode the source
// stops at once with a permanent error naming the table, column, type and
// binlog position, having delivered nothing of that transaction or after
// it. Restarted from the same offsets with
// event.processing.failure.handling.mode=skip and a dead-letter topic, it
// drops that change, writes it to the dead-letter topic, counts it, and
// delivers everything else.
func TestConversionFailureStopsForGoodAndSkipResumes(t *testing.T) {
	h := newHarness(t, nil)
	h.exec("CREATE TABLE t (id int PRIMARY KEY, v varchar(40))", "CREATE TABLE other (id int PRIMARY KEY)",
		"INSERT INTO t VALUES (1, 'a')", "INSERT INTO other VALUES (1)")
	h.start()
	h.waitRunning()
	h.read(h.topic("t"), 1)
	h.exec("INSERT INTO t VALUES (2, 'b')")
	h.read(h.topic("t"), 2)
	gtid := commit(t, h.conn, "INSERT INTO other VALUES (2)", fmt.Sprintf("INSERT INTO t VALUES (3, '%s')", mysql.Rejected), "INSERT INTO t VALUES (4, 'd')")
	h.exec("INSERT INTO t VALUES (5, 'e')")

	err := h.wait(30 * time.Second)
	if !errors.Is(err, connectors.ErrPermanent) || !failMessage(h.db, gtid).MatchString(err.Error()) {
		t.Fatalf("Run = %v, want a permanent error matching %s", err, failMessage(h.db, gtid))
	}
	if got := changes(h.readAll(h.topic("t"))); !slices.Equal(got, []string{"r 1", "c 2"}) {
		t.Errorf("t before the restart: %v, want the changes before the failing transaction", got)
	}
	if got := changes(h.readAll(h.topic("other"))); !slices.Equal(got, []string{"r 1"}) {
		t.Errorf("other before the restart: %v, want nothing of the failing transaction", got)
	}

	dlq := h.db + ".dlq"
	h.extra = map[string]string{"event.processing.failure.handling.mode": "skip", "errors.deadletterqueue.topic.name": dlq}
	h.start()
	if got := changes(h.read(h.topic("t"), 4)); !slices.Equal(got, []string{"r 1", "c 2", "c 4", "c 5"}) {
		t.Errorf("t after the restart: %v", got)
	}
	if got := changes(h.read(h.topic("other"), 2)); !slices.Equal(got, []string{"r 1", "c 2"}) {
		t.Errorf("other after the restart: %v", got)
	}
	letters := topictest.NewRawReader(h.brokers).Read(t, dlq, 1, h.checkRunning)
	want := fmt.Sprintf(`{"after":{"id":"3","v":%q},"before":null,"column":"v","connector":"test","error":%q,"op":"c","position":"binlog X:X row 0 (GTID %s)",`+
		`"table":"%s.t","ts_ms":0,"type":"varchar"}`, mysql.Rejected, fmt.Sprintf("%q is rejected", mysql.Rejected), gtid, h.db)
	if got := deadLetter(t, letters[0].Raw.Value); string(letters[0].Raw.Key) != h.db+".t" || got != want {
		t.Errorf("dead letter %s: %s, want %s", letters[0].Raw.Key, got, want)
	}
	if got := sourcetest.FailedChanges(t, h.metrics); got != 1 {
		t.Errorf("sluice_source_failed_changes_total = %d, want 1", got)
	}
}

// TestSnapshotDropsRowsThatDoNotConvert snapshots three tables in warn
// mode, one row a chunk: the row that does not convert goes to the
// dead-letter topic and every other row of every table is delivered.
func TestSnapshotDropsRowsThatDoNotConvert(t *testing.T) {
	h := newHarness(t, map[string]string{"event.processing.failure.handling.mode": "warn", "snapshot.fetch.size": "1"})
	dlq := h.db + ".dlq"
	h.extra["errors.deadletterqueue.topic.name"] = dlq
	h.exec("CREATE TABLE a (id int PRIMARY KEY, v varchar(40))", "CREATE TABLE t (id int PRIMARY KEY, v varchar(40))", "CREATE TABLE z (id int PRIMARY KEY, v varchar(40))",
		"INSERT INTO a VALUES (1, 'a'), (2, 'a'), (3, 'a')",
		fmt.Sprintf("INSERT INTO t VALUES (1, 'x'), (2, '%s'), (3, 'y')", mysql.Rejected),
		"INSERT INTO z VALUES (1, 'z'), (2, 'z'), (3, 'z')")
	h.start()
	for table, want := range map[string][]string{"a": {"r 1", "r 2", "r 3"}, "t": {"r 1", "r 3"}, "z": {"r 1", "r 2", "r 3"}} {
		if got := changes(h.read(h.topic(table), len(want))); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", table, got, want)
		}
	}
	letters := topictest.NewRawReader(h.brokers).Read(t, dlq, 1, h.checkRunning)
	want := fmt.Sprintf(`{"after":{"id":"2","v":%q},"before":null,"column":"v","connector":"test","error":%q,"op":"r","position":"snapshot at binlog X:X",`+
		`"table":"%s.t","ts_ms":0,"type":"varchar"}`, mysql.Rejected, fmt.Sprintf("%q is rejected", mysql.Rejected), h.db)
	if got := deadLetter(t, letters[0].Raw.Value); got != want {
		t.Errorf("dead letter %s, want %s", got, want)
	}
	if got := sourcetest.FailedChanges(t, h.metrics); got != 1 {
		t.Errorf("sluice_source_failed_changes_total = %d, want 1", got)
	}
}

// TestKillNineDuringConversionFailures runs the scenario of
// sourcetest.KillDuringConversionFailures on MariaDB: kills in warn mode,
// fail mode stopping twice at the same change, then skip mode.
func TestKillNineDuringConversionFailures(t *testing.T) {
	h := newHarness(t, nil)
	h.exec("CREATE TABLE t (id int PRIMARY KEY, v varchar(40))", "CREATE TABLE marker (id int PRIMARY KEY)")
	writer := h.connect()
	defer writer.Close()
	if _, err := writer.Execute("USE " + h.db); err != nil {
		t.Fatal(err)
	}
	sourcetest.KillDuringConversionFailures(t, sourcetest.ConversionFailures{
		Target: h.target(), Config: h.config(), DeadLetterTopic: h.db + ".dlq", Topic: h.topic,
		Rejected:    mysql.Rejected,
		Commit:      func(stmts ...string) string { return commit(t, writer, stmts...) },
		FailMessage: func(gtid string) *regexp.Regexp { return failMessage(h.db, gtid) },
		Retire:      func(c *sourcetest.Child) { c.Stop(t, 30*time.Second) }, // its last position is stored
	})
}

// TestInvalidCalendarDatesAreConversionFailures stores dates that no
// calendar has (allowed by ALLOW_INVALID_DATES) in a DATE and a DATETIME
// column, in the snapshot and in the stream. No date is made up for them:
// each such change is a conversion failure, here dropped to the
// dead-letter topic (warn), and every valid row is delivered.
func TestInvalidCalendarDatesAreConversionFailures(t *testing.T) {
	h := newHarness(t, map[string]string{"event.processing.failure.handling.mode": "warn"})
	dlq := h.db + ".dlq"
	h.extra["errors.deadletterqueue.topic.name"] = dlq
	h.exec("CREATE TABLE t (id int PRIMARY KEY, d date, dt datetime)")
	commit(t, h.conn, "SET SESSION sql_mode = 'ALLOW_INVALID_DATES'",
		"INSERT INTO t VALUES (1, '2024-02-29', '2024-02-29 12:00:00'), (2, '2023-02-31', '2023-01-01 00:00:00')")
	h.start()
	h.waitRunning()
	commit(t, h.conn, "SET SESSION sql_mode = 'ALLOW_INVALID_DATES'",
		"INSERT INTO t VALUES (3, '2023-04-30', '2023-04-31 08:30:00')", "INSERT INTO t VALUES (4, '2023-12-31', '2023-12-31 23:59:59')")
	if got := changes(h.read(h.topic("t"), 2)); !slices.Equal(got, []string{"r 1", "c 4"}) {
		t.Errorf("t: %v, want the rows with valid dates only", got)
	}
	letters := topictest.NewRawReader(h.brokers).Read(t, dlq, 2, h.checkRunning)
	var got []string
	for _, l := range letters {
		var m map[string]any
		if err := json.Unmarshal(l.Raw.Value, &m); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %s %s: %s", m["op"], m["column"], m["type"], m["error"]))
	}
	want := []string{
		`r d date: invalid date "2023-02-31": 2023-02 has no day 31 (stored under ALLOW_INVALID_DATES)`,
		`c dt datetime(0): datetime: invalid date "2023-04-31 08:30:00": 2023-04 has no day 31 (stored under ALLOW_INVALID_DATES)`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("dead letters:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// ubigFailure is the error of a change of db.t whose column u holds
// 18446744073709551615, at a position matching the regular expression
// position.
func ubigFailure(db, position string) *regexp.Regexp {
	return regexp.MustCompile(`^cannot convert column u \(bigint unsigned\) of ` + regexp.QuoteMeta(db) + `\.t at ` + position + `: ` +
		regexp.QuoteMeta(`18446744073709551615 does not fit in int64 (bigint.unsigned.handling.mode=long, as Debezium's default): `+
			`set bigint.unsigned.handling.mode=precise to emit Decimal(20,0), which holds every BIGINT UNSIGNED value. `+
			`The change was not delivered and the connector stopped (event.processing.failure.handling.mode=fail)`))
}

// TestBigIntUnsignedLongNeverWraps reads BIGINT UNSIGNED values with the
// default bigint.unsigned.handling.mode, long: int64, as Debezium. Values
// up to 9223372036854775807 arrive exactly; 18446744073709551615, which
// Debezium wraps to -1, does not convert, in the snapshot and in the
// stream. With the default failure mode the source stops naming the
// column; with warn the change is dropped and the next ones arrive.
func TestBigIntUnsignedLongNeverWraps(t *testing.T) {
	h := newHarness(t, nil)
	h.exec("CREATE TABLE t (id int PRIMARY KEY, u bigint unsigned)",
		"INSERT INTO t VALUES (1, 9223372036854775807), (2, 18446744073709551615), (3, 0)")
	h.start()
	err := h.wait(30 * time.Second)
	if want := ubigFailure(h.db, `snapshot at binlog mysql-bin\.[0-9]+:[0-9]+`); !errors.Is(err, connectors.ErrPermanent) || !want.MatchString(err.Error()) {
		t.Fatalf("snapshot: Run = %v, want a permanent error matching %s", err, want)
	}

	h.extra = map[string]string{"event.processing.failure.handling.mode": "warn"}
	h.start()
	h.waitRunning()
	h.exec("INSERT INTO t VALUES (4, 18446744073709551615)", "INSERT INTO t VALUES (5, 9223372036854775806)")
	es := values(h.read(h.topic("t"), 3))
	var got []string
	for _, e := range es {
		got = append(got, fmt.Sprintf("%s %v %#v", e.Op, e.After[0], field(e, e.After, "u")))
	}
	want := []string{"r 1 9223372036854775807", "r 3 0", "c 5 9223372036854775806"}
	if !slices.Equal(got, want) {
		t.Errorf("t with warn: %v, want %v", got, want)
	}
	if s := es[0].Table.Columns[1].Schema; s.Type != event.Int64 || s.Name != "" {
		t.Errorf("u's schema = %+v, want int64", s)
	}
	if n := sourcetest.FailedChanges(t, h.metrics); n != 2 {
		t.Errorf("sluice_source_failed_changes_total = %d, want 2", n)
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}

	h.extra = nil
	gtid := commit(t, h.conn, "INSERT INTO t VALUES (6, 18446744073709551615)")
	h.start()
	err = h.wait(30 * time.Second)
	if want := ubigFailure(h.db, `binlog mysql-bin\.[0-9]+:[0-9]+ row 0 \(GTID `+regexp.QuoteMeta(gtid)+`\)`); !errors.Is(err, connectors.ErrPermanent) || !want.MatchString(err.Error()) {
		t.Fatalf("stream: Run = %v, want a permanent error matching %s", err, want)
	}
}

// TestBigIntUnsignedPreciseHoldsEveryValue reads 18446744073709551615 with
// bigint.unsigned.handling.mode=precise, snapshotted and streamed: the
// exact value, as Decimal(20,0).
func TestBigIntUnsignedPreciseHoldsEveryValue(t *testing.T) {
	h := newHarness(t, map[string]string{"bigint.unsigned.handling.mode": "precise"})
	h.exec("CREATE TABLE t (id int PRIMARY KEY, u bigint unsigned)", "INSERT INTO t VALUES (1, 18446744073709551615)")
	h.start()
	h.waitRunning()
	h.exec("INSERT INTO t VALUES (2, 18446744073709551615)")
	es := values(h.read(h.topic("t"), 2))
	if got := ops(es); got != "rc" {
		t.Fatalf("ops = %s, want rc", got)
	}
	for _, e := range es {
		if u := field(e, e.After, "u"); !mysql.EqualValues(u, event.Decimal{Unscaled: new(big.Int).SetUint64(math.MaxUint64)}) {
			t.Errorf("op %s row %v: u = %#v, want Decimal 18446744073709551615", e.Op, e.After[0], u)
		}
		if s := e.Table.Columns[1].Schema; s.Name != event.DecimalName || s.Params["connect.decimal.precision"] != "20" || s.Params["scale"] != "0" {
			t.Errorf("u's schema = %+v, want Decimal(20,0)", s)
		}
	}
}
