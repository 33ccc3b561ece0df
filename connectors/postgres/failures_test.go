package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/postgres"
	"github.com/sluice-cdc/sluice/testenv/sourcetest"
	"github.com/sluice-cdc/sluice/testenv/topictest"
)

// failMessage is the error of a change of public.t whose column v holds
// the rejected marker, at any LSN, in transaction xid.
func failMessage(xid uint32) *regexp.Regexp {
	return regexp.MustCompile(`^cannot convert column v \(text\) of public\.t at LSN [0-9A-F]+/[0-9A-F]+ \(transaction ` + fmt.Sprint(xid) + `\): ` +
		regexp.QuoteMeta(`"`+postgres.Rejected+`" is rejected. The change was not delivered and the connector stopped (event.processing.failure.handling.mode=fail); `+
			`to drop such changes and go on, set event.processing.failure.handling.mode=warn or skip (errors.deadletterqueue.topic.name keeps them)`) + `$`)
}

// commitXid runs sqls in one transaction and returns its id as pgoutput
// gives it.
func commitXid(t *testing.T, db *pgx.Conn, sqls ...string) uint32 {
	t.Helper()
	var xid uint32
	err := pgx.BeginFunc(context.Background(), db, func(tx pgx.Tx) error {
		if err := tx.QueryRow(context.Background(), "SELECT (pg_current_xact_id()::text::bigint % 4294967296)::bigint").Scan(&xid); err != nil {
			return err
		}
		for _, q := range sqls {
			if _, err := tx.Exec(context.Background(), q); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return xid
}

// ids are the distinct changes among rs, as "op id", in the order they
// first appear: replays after a restart are allowed.
func ids(rs []record) []string {
	var out []string
	for _, r := range rs {
		if r.value == nil {
			continue
		}
		row := r.value.After
		if row == nil {
			row = r.value.Before
		}
		if c := fmt.Sprintf("%s %d", r.value.Op, row[0]); !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// waitConfirmed waits until the slot has confirmed everything written so
// far, so that a source started afterwards replays nothing before now.
func (h *harness) waitConfirmed() {
	h.t.Helper()
	var now string
	if err := h.db.QueryRow(context.Background(), "SELECT pg_current_wal_lsn()::text").Scan(&now); err != nil {
		h.t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var done bool
		err := h.db.QueryRow(context.Background(), "SELECT confirmed_flush_lsn >= $1::pg_lsn FROM pg_replication_slots WHERE slot_name = $2", now, h.slot).Scan(&done)
		if err == nil && done {
			return
		}
	}
	h.t.Fatalf("slot %s did not confirm %s within 30s", h.slot, now)
}

// deadLetter decodes a dead-letter record's value, with ts_ms set to 0 and
// its LSN to X/X.
func deadLetter(t *testing.T, value []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(value, &m); err != nil {
		t.Fatalf("dead letter %s: %v", value, err)
	}
	m["ts_ms"] = 0.0
	m["position"] = regexp.MustCompile(`LSN [0-9A-F]+/[0-9A-F]+`).ReplaceAllString(m["position"].(string), "LSN X/X")
	return m
}

// TestConversionFailureStopsForGoodAndSkipResumes streams a transaction
// holding a value that does not convert: with the default mode the source
// stops at once with a permanent error naming the table, column, type and
// position, having delivered nothing of that transaction or after it.
// Restarted from the same offsets with event.processing.failure.handling.mode=skip
// and a dead-letter topic, it drops that change, writes it to the
// dead-letter topic, counts it, and delivers everything else.
func TestConversionFailureStopsForGoodAndSkipResumes(t *testing.T) {
	h := newHarness(t, nil)
	h.exec(`CREATE TABLE t (id int PRIMARY KEY, v text)`, `CREATE TABLE other (id int PRIMARY KEY)`,
		`INSERT INTO t VALUES (1, 'a')`, `INSERT INTO other VALUES (1)`)
	h.start()
	h.read(h.topic("t"), 1)
	h.waitStreaming()
	h.exec(`INSERT INTO t VALUES (2, 'b')`)
	h.read(h.topic("t"), 2)
	xid := commitXid(t, h.db, `INSERT INTO other VALUES (2)`, fmt.Sprintf(`INSERT INTO t VALUES (3, '%s')`, postgres.Rejected), `INSERT INTO t VALUES (4, 'd')`)
	h.exec(`INSERT INTO t VALUES (5, 'e')`)

	err := h.wait(30 * time.Second)
	if !errors.Is(err, connectors.ErrPermanent) || !failMessage(xid).MatchString(err.Error()) {
		t.Fatalf("Run = %v, want a permanent error matching %s", err, failMessage(xid))
	}
	if got := ids(h.readAll(h.topic("t"))); !slices.Equal(got, []string{"r 1", "c 2"}) {
		t.Errorf("t before the restart: %v, want the changes before the failing transaction", got)
	}
	if got := ids(h.readAll(h.topic("other"))); !slices.Equal(got, []string{"r 1"}) {
		t.Errorf("other before the restart: %v, want nothing of the failing transaction", got)
	}

	dlq := h.prefix + ".dlq"
	h.extra = map[string]string{"event.processing.failure.handling.mode": "skip", "errors.deadletterqueue.topic.name": dlq}
	h.start()
	got := ids(h.read(h.topic("t"), 4))
	if !slices.Equal(got, []string{"r 1", "c 2", "c 4", "c 5"}) {
		t.Errorf("t after the restart: %v", got)
	}
	if got := ids(h.read(h.topic("other"), 2)); !slices.Equal(got, []string{"r 1", "c 2"}) {
		t.Errorf("other after the restart: %v", got)
	}
	letters := topictest.NewRawReader(h.brokers).Read(t, dlq, 1, h.checkRunning)
	want := map[string]any{"connector": "test", "table": "public.t", "op": "c", "position": fmt.Sprintf("LSN X/X (transaction %d)", xid),
		"column": "v", "type": "text", "error": fmt.Sprintf("%q is rejected", postgres.Rejected),
		"before": nil, "after": map[string]any{"id": "3", "v": postgres.Rejected}, "ts_ms": 0.0}
	if string(letters[0].Raw.Key) != "public.t" || !equalJSON(deadLetter(t, letters[0].Raw.Value), want) {
		t.Errorf("dead letter %s: %s, want %v", letters[0].Raw.Key, letters[0].Raw.Value, want)
	}
	if got := sourcetest.FailedChanges(t, h.metrics); got != 1 {
		t.Errorf("sluice_source_failed_changes_total = %d, want 1", got)
	}
}

// TestSnapshotDropsRowsThatDoNotConvert snapshots two tables in warn mode,
// one chunk a row: the row that does not convert goes to the dead-letter
// topic and every other row of both tables is delivered.
func TestSnapshotDropsRowsThatDoNotConvert(t *testing.T) {
	dlq := "dlq"
	h := newHarness(t, map[string]string{"event.processing.failure.handling.mode": "warn", "snapshot.fetch.size": "1"})
	h.extra["errors.deadletterqueue.topic.name"] = h.prefix + "." + dlq
	h.exec(`CREATE TABLE a (id int PRIMARY KEY, v text)`, `CREATE TABLE t (id int PRIMARY KEY, v text)`, `CREATE TABLE z (id int PRIMARY KEY, v text)`,
		`INSERT INTO a SELECT g, 'a' FROM generate_series(1, 3) g`,
		fmt.Sprintf(`INSERT INTO t VALUES (1, 'x'), (2, '%s'), (3, 'y')`, postgres.Rejected),
		`INSERT INTO z SELECT g, 'z' FROM generate_series(1, 3) g`)
	h.start()
	for table, want := range map[string][]string{"a": {"r 1", "r 2", "r 3"}, "t": {"r 1", "r 3"}, "z": {"r 1", "r 2", "r 3"}} {
		if got := ids(h.read(h.topic(table), len(want))); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", table, got, want)
		}
	}
	letters := topictest.NewRawReader(h.brokers).Read(t, h.prefix+"."+dlq, 1, h.checkRunning)
	want := map[string]any{"connector": "test", "table": "public.t", "op": "r", "position": "snapshot at LSN X/X",
		"column": "v", "type": "text", "error": fmt.Sprintf("%q is rejected", postgres.Rejected),
		"before": nil, "after": map[string]any{"id": "2", "v": postgres.Rejected}, "ts_ms": 0.0}
	if !equalJSON(deadLetter(t, letters[0].Raw.Value), want) {
		t.Errorf("dead letter %s, want %v", letters[0].Raw.Value, want)
	}
	if got := sourcetest.FailedChanges(t, h.metrics); got != 1 {
		t.Errorf("sluice_source_failed_changes_total = %d, want 1", got)
	}
}

// TestKillNineDuringConversionFailures runs the scenario of
// sourcetest.KillDuringConversionFailures on Postgres: kills in warn mode,
// fail mode stopping twice at the same change, then skip mode.
func TestKillNineDuringConversionFailures(t *testing.T) {
	h := newHarness(t, nil)
	h.exec(`CREATE TABLE t (id int PRIMARY KEY, v text)`, `CREATE TABLE marker (id int PRIMARY KEY)`)
	writer := h.pg.Connect(t)
	sourcetest.KillDuringConversionFailures(t, sourcetest.ConversionFailures{
		Target: h.target(), Config: h.config(), DeadLetterTopic: h.prefix + ".dlq", Topic: h.topic,
		Rejected: postgres.Rejected,
		Commit:   func(stmts ...string) string { return fmt.Sprint(commitXid(t, writer, stmts...)) },
		FailMessage: func(xid string) *regexp.Regexp {
			n, err := strconv.ParseUint(xid, 10, 32)
			if err != nil {
				t.Fatal(err)
			}
			return failMessage(uint32(n))
		},
		Capturing: h.waitStreaming,
		Retire: func(c *sourcetest.Child) {
			h.waitConfirmed()
			c.Kill()
		},
	})
}

func equalJSON(a, b map[string]any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
