package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/postgres"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/registry"
	"github.com/sluice-cdc/sluice/testenv/pgtest"
)

func dec(unscaled int64, scale int32) event.Decimal {
	return event.Decimal{Unscaled: big.NewInt(unscaled), Scale: scale}
}

// wantChange checks one decoded record: op, key, before and after rows.
func wantChange(t *testing.T, r record, op event.Op, key, before, after event.Row) {
	t.Helper()
	if r.value == nil {
		t.Fatalf("offset %d: tombstone, want op %s", r.offset, op)
	}
	if r.value.Op != op {
		t.Errorf("offset %d: op %s, want %s", r.offset, r.value.Op, op)
	}
	if !reflect.DeepEqual(r.key, key) {
		t.Errorf("offset %d: key %#v, want %#v", r.offset, r.key, key)
	}
	if !rowsEqual(r.value.Before, before) {
		t.Errorf("offset %d: before %#v, want %#v", r.offset, r.value.Before, before)
	}
	if !rowsEqual(r.value.After, after) {
		t.Errorf("offset %d: after %#v, want %#v", r.offset, r.value.After, after)
	}
}

// commitLSN is the commit LSN of a streamed change's transaction: the
// number after the colon of its transaction id, "xid:commit LSN".
func commitLSN(t *testing.T, e *event.Event) int64 {
	t.Helper()
	if e.Transaction == nil {
		t.Fatalf("%s event has no transaction block", e.Op)
	}
	_, commit, _ := strings.Cut(e.Transaction.ID, ":")
	n, err := strconv.ParseInt(commit, 10, 64)
	if err != nil {
		t.Fatalf("transaction id %q: want xid:commit LSN", e.Transaction.ID)
	}
	return n
}

// wantChangeLSNs checks the records of one transaction, one per change:
// each has the same transaction id, and in source.lsn the LSN of its own
// change, the second element of its source.sequence, rising from record to
// record and below the commit LSN of the transaction id.
func wantChangeLSNs(t *testing.T, recs []record) {
	t.Helper()
	var prev int64
	for i, r := range recs {
		s := r.value.Source
		var seq []*string
		if err := json.Unmarshal([]byte(s.Sequence), &seq); err != nil || len(seq) != 2 || seq[1] == nil {
			t.Fatalf("record %d: sequence %q (%v)", i, s.Sequence, err)
		}
		if id, first := r.value.Transaction.ID, recs[0].value.Transaction.ID; id != first {
			t.Fatalf("record %d: transaction id %q, want %q as the first record's", i, id, first)
		}
		commit := commitLSN(t, r.value)
		if *seq[1] != strconv.FormatInt(s.LSN, 10) || s.LSN <= prev || s.LSN >= commit {
			t.Fatalf("record %d: source.lsn %d (sequence %s) after %d, commit %d: want the change's own LSN, rising, before the commit", i, s.LSN, s.Sequence, prev, commit)
		}
		prev = s.LSN
	}
}

func rowsEqual(a, b event.Row) bool {
	if len(a) != len(b) || (a == nil) != (b == nil) {
		return false
	}
	for i := range a {
		da, ok1 := a[i].(event.Decimal)
		db, ok2 := b[i].(event.Decimal)
		if ok1 && ok2 {
			if !da.Equal(db) {
				return false
			}
			continue
		}
		if !reflect.DeepEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}

func TestSnapshotThenStream(t *testing.T) {
	h := newHarness(t, nil)
	h.exec(`CREATE TABLE orders (id int PRIMARY KEY, customer text NOT NULL, amount numeric(10,2), placed timestamptz)`,
		`INSERT INTO orders VALUES (1, 'ada', 12.50, '2024-02-29 10:11:12.123456+00'), (2, 'bob', NULL, NULL), (3, 'cy', 0.01, '1999-12-31 23:59:59+05')`)
	h.start()
	snap := h.read(h.topic("orders"), 3)
	wantChange(t, snap[0], event.OpRead, event.Row{int32(1)}, nil, event.Row{int32(1), "ada", dec(1250, 2), "2024-02-29T10:11:12.123456Z"})
	wantChange(t, snap[1], event.OpRead, event.Row{int32(2)}, nil, event.Row{int32(2), "bob", nil, nil})
	wantChange(t, snap[2], event.OpRead, event.Row{int32(3)}, nil, event.Row{int32(3), "cy", dec(1, 2), "1999-12-31T18:59:59.000000Z"})
	if got := []event.Snapshot{snap[0].value.Source.Snapshot, snap[2].value.Source.Snapshot}; got[0] != event.SnapshotFirst || got[1] != event.SnapshotLast {
		t.Errorf("snapshot markers %v, want first … last", got)
	}
	if s := snap[0].value.Source; s.Connector != "postgresql" || s.Name != h.prefix || s.DB != h.pg.Name || s.Schema != "public" || s.Table != "orders" || s.LSN == 0 {
		t.Errorf("source block %+v", s)
	}

	h.exec(`INSERT INTO orders VALUES (4, 'dee', 99999999.99, NULL)`,
		`UPDATE orders SET customer = 'ada lovelace' WHERE id = 1`,
		`DELETE FROM orders WHERE id = 2`)
	all := h.read(h.topic("orders"), 7)
	wantChange(t, all[3], event.OpCreate, event.Row{int32(4)}, nil, event.Row{int32(4), "dee", dec(9999999999, 2), nil})
	wantChange(t, all[4], event.OpUpdate, event.Row{int32(1)}, nil, event.Row{int32(1), "ada lovelace", dec(1250, 2), "2024-02-29T10:11:12.123456Z"})
	// With REPLICA IDENTITY DEFAULT a delete carries only the key; the
	// NOT NULL customer gets its type's zero value, as in Debezium.
	wantChange(t, all[5], event.OpDelete, event.Row{int32(2)}, event.Row{int32(2), "", nil, nil}, nil)
	if all[6].value != nil || !reflect.DeepEqual(all[6].key, event.Row{int32(2)}) {
		t.Errorf("record after the delete: key %v value %v, want the tombstone of key 2", all[6].key, all[6].value)
	}
	c, u := all[3].value, all[4].value
	if c.Transaction == nil || c.Transaction.TotalOrder != 1 || c.Source.TxID == 0 || c.Source.Snapshot != event.SnapshotFalse {
		t.Errorf("create event source %+v transaction %+v", c.Source, c.Transaction)
	}
	if u.Source.LSN <= c.Source.LSN {
		t.Errorf("update LSN %d not after create LSN %d", u.Source.LSN, c.Source.LSN)
	}
	// source.sequence, as Debezium writes it: the end of the transaction
	// read before and the change's own LSN, which is source.lsn and comes
	// before its commit; the update's transaction follows the create's.
	var lastC *string
	var lsnC, lastU, lsnU string
	if err := json.Unmarshal([]byte(c.Source.Sequence), &[]any{&lastC, &lsnC}); err != nil {
		t.Fatalf("create's sequence %q: %v", c.Source.Sequence, err)
	}
	if err := json.Unmarshal([]byte(u.Source.Sequence), &[]any{&lastU, &lsnU}); err != nil {
		t.Fatalf("update's sequence %q: %v", u.Source.Sequence, err)
	}
	n := func(s string) int64 { v, _ := strconv.ParseInt(s, 10, 64); return v }
	commitC, commitU := commitLSN(t, c), commitLSN(t, u)
	if n(lsnC) != c.Source.LSN || n(lsnU) != u.Source.LSN {
		t.Errorf("source.lsn: create %d, update %d; want the change LSNs of the sequences %s and %s", c.Source.LSN, u.Source.LSN, c.Source.Sequence, u.Source.Sequence)
	}
	if n(lsnC) <= 0 || n(lsnC) >= commitC || n(lastU) <= commitC || n(lsnU) < n(lastU) || n(lsnU) >= commitU {
		t.Errorf("sequences: create %s (commit %d), update %s (commit %d); want each change before its commit, the update's previous commit end after the create's commit", c.Source.Sequence, commitC, u.Source.Sequence, commitU)
	}

	// Six events are durable; the three streamed ones have a commit latency.
	events := h.metrics.Counter("sluice_source_events_total", "", []string{"connector"}, "test")
	latency := h.metrics.Histogram("sluice_source_commit_to_ack_seconds", "", nil, []string{"connector"}, "test")
	for deadline := time.Now().Add(5 * time.Second); events.Value() < 6 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if events.Value() != 6 || latency.Count() != 3 {
		t.Errorf("metrics: %d events, %d latencies; want 6 and 3", events.Value(), latency.Count())
	}
	// Kafka Connect's figures: six events polled and written; the source
	// lag in bytes is the slot's lag, in seconds that of the last change.
	polled := h.metrics.Counter("sluice_connector_records_polled_total", "", []string{"connector"}, "test")
	written := h.metrics.Counter("sluice_connector_records_written_total", "", []string{"connector"}, "test")
	if polled.Value() != 6 || written.Value() != 6 {
		t.Errorf("records polled %d, written %d; want 6 and 6", polled.Value(), written.Value())
	}
	lagSeconds := h.metrics.Gauge("sluice_source_lag_seconds", "", []string{"connector"}, "test").Value()
	if lagSeconds < 0 || lagSeconds > 5 {
		t.Errorf("source lag %v s, want between 0 and 5", lagSeconds)
	}
	slotLag := h.metrics.Gauge("sluice_postgres_slot_lag_bytes", "", []string{"connector"}, "test")
	lagBytes := h.metrics.Gauge("sluice_source_lag_bytes", "", []string{"connector"}, "test")
	for deadline := time.Now().Add(2 * time.Second); slotLag.Value() != lagBytes.Value() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if slotLag.Value() != lagBytes.Value() {
		t.Errorf("source lag %v bytes, slot lag %v bytes; want them equal", lagBytes.Value(), slotLag.Value())
	}
	var text strings.Builder
	h.metrics.WritePrometheus(&text)
	for _, line := range []string{`sluice_postgres_slot_lag_bytes{connector="test"}`, `sluice_source_lag_bytes{connector="test"}`, `sluice_connector_records_written_total{connector="test"} 6`} {
		if !strings.Contains(text.String(), line) {
			t.Errorf("no %s in the metrics:\n%s", line, text.String())
		}
	}
}

func TestRestartResumesWithoutLoss(t *testing.T) {
	h := newHarness(t, nil)
	h.exec(`CREATE TABLE t (id int PRIMARY KEY, v text)`, `INSERT INTO t VALUES (1, 'a')`)
	h.start()
	h.read(h.topic("t"), 1)
	h.exec(`INSERT INTO t VALUES (2, 'b')`)
	h.read(h.topic("t"), 2)
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	confirmed := h.slotLSN()
	if confirmed == "" {
		t.Fatal("slot has no confirmed position after a clean stop")
	}
	h.exec(`INSERT INTO t VALUES (3, 'c')`, `UPDATE t SET v = 'bb' WHERE id = 2`)
	h.start()
	got := h.read(h.topic("t"), 4)
	// No second snapshot: the change made while stopped follows directly.
	wantChange(t, got[2], event.OpCreate, event.Row{int32(3)}, nil, event.Row{int32(3), "c"})
	wantChange(t, got[3], event.OpUpdate, event.Row{int32(2)}, nil, event.Row{int32(2), "bb"})
}

func TestSchemaChangeMidStream(t *testing.T) {
	h := newHarness(t, nil)
	h.exec(`CREATE TABLE t (id int PRIMARY KEY, v text)`)
	h.start()
	h.waitStreaming()
	h.exec(`INSERT INTO t VALUES (1, 'a')`)
	h.read(h.topic("t"), 1)
	h.exec(`ALTER TABLE t ADD COLUMN n bigint NOT NULL DEFAULT 7`, `INSERT INTO t VALUES (2, 'b', 8)`,
		`ALTER TABLE t DROP COLUMN v`, `INSERT INTO t VALUES (3, 9)`)
	got := h.read(h.topic("t"), 3)
	wantChange(t, got[0], event.OpCreate, event.Row{int32(1)}, nil, event.Row{int32(1), "a"})
	wantChange(t, got[1], event.OpCreate, event.Row{int32(2)}, nil, event.Row{int32(2), "b", int64(8)})
	wantChange(t, got[2], event.OpCreate, event.Row{int32(3)}, nil, event.Row{int32(3), int64(9)})
}

func TestIncompatibleSchemaChangeStopsTheConnector(t *testing.T) {
	h := newHarness(t, nil)
	h.exec(`CREATE TABLE t (id int PRIMARY KEY, n bigint)`)
	h.start()
	h.waitStreaming()
	h.exec(`INSERT INTO t VALUES (1, 1)`)
	h.read(h.topic("t"), 1)
	h.exec(`ALTER TABLE t ALTER COLUMN n TYPE text`, `INSERT INTO t VALUES (2, 'two')`)
	for attempt := 0; attempt < 2; attempt++ {
		err := h.wait(30 * time.Second)
		if !errors.Is(err, connectors.ErrPermanent) || !errors.Is(err, registry.ErrIncompatible) {
			t.Fatalf("attempt %d: err = %v, want a permanent incompatible-schema error", attempt, err)
		}
		want := `value of public.t: register value schema ` + h.topic("t") + `.Envelope for topic "` + h.topic("t") + `": register schema under subject "` + h.topic("t") + `-value" (latest registered version 1): rejected as incompatible`
		if !strings.HasPrefix(err.Error(), want) {
			t.Errorf("error does not name topic, subject and version:\n%v", err)
		}
		// The rejected change was not acknowledged: a restart meets it again.
		h.start()
	}
	h.stop()
}

func TestTruncatePrimaryKeyChangeAndToast(t *testing.T) {
	h := newHarness(t, map[string]string{"skipped.operations": "none"}) // Debezium's default skips truncates
	h.exec(`CREATE TABLE a (id int PRIMARY KEY, doc text, note text)`, `CREATE TABLE b (id int PRIMARY KEY)`,
		`ALTER TABLE a ALTER COLUMN doc SET STORAGE EXTERNAL`)
	h.start()
	h.waitStreaming()
	big := strings.Repeat("0123456789abcdef", 1024) // 16 KiB, stored out of line
	if _, err := h.db.Exec(context.Background(), `INSERT INTO a VALUES (1, $1, 'x')`, big); err != nil {
		t.Fatal(err)
	}
	h.exec(`UPDATE a SET note = 'y' WHERE id = 1`,
		`UPDATE a SET id = 10 WHERE id = 1`,
		`INSERT INTO b VALUES (1)`,
		`TRUNCATE a, b`)
	got := h.read(h.topic("a"), 6)
	wantChange(t, got[0], event.OpCreate, event.Row{int32(1)}, nil, event.Row{int32(1), big, "x"})
	// The unchanged TOASTed doc is not in the WAL: it carries the placeholder, not null.
	wantChange(t, got[1], event.OpUpdate, event.Row{int32(1)}, nil, event.Row{int32(1), "__debezium_unavailable_value", "y"})
	// A key change is a delete of the old key, its tombstone, and a create of the new key.
	wantChange(t, got[2], event.OpDelete, event.Row{int32(1)}, event.Row{int32(1), nil, nil}, nil)
	if got[3].value != nil || !reflect.DeepEqual(got[3].key, event.Row{int32(1)}) {
		t.Errorf("want the tombstone of key 1, got key %v value %v", got[3].key, got[3].value)
	}
	wantChange(t, got[4], event.OpCreate, event.Row{int32(10)}, nil, event.Row{int32(10), "__debezium_unavailable_value", "y"})
	if got[5].value == nil || got[5].value.Op != event.OpTruncate || got[5].key != nil {
		t.Errorf("want a truncate with a null key, got key %v value %+v", got[5].key, got[5].value)
	}
	gb := h.read(h.topic("b"), 2)
	if gb[1].value == nil || gb[1].value.Op != event.OpTruncate {
		t.Errorf("table b: want a truncate after the insert, got %s", describe(gb))
	}
	if got[5].value.Transaction.ID != gb[1].value.Transaction.ID {
		t.Errorf("one TRUNCATE of two tables is one transaction: %q vs %q", got[5].value.Transaction.ID, gb[1].value.Transaction.ID)
	}
}

func TestLargeTransactionsStreamAndAbort(t *testing.T) {
	h := newHarness(t, nil)
	// A small logical_decoding_work_mem makes Postgres stream these
	// transactions before they commit.
	h.exec(`ALTER DATABASE `+h.pg.Name+` SET logical_decoding_work_mem = '64kB'`,
		`CREATE TABLE t (id int PRIMARY KEY, pad text)`)
	h.start()
	h.waitStreaming()
	h.exec(`BEGIN`,
		`INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, 3000) g`,
		`SAVEPOINT s1`,
		`INSERT INTO t SELECT g, 'rolled back' FROM generate_series(3001, 6000) g`,
		`ROLLBACK TO SAVEPOINT s1`,
		`INSERT INTO t VALUES (9999, 'last')`,
		`COMMIT`)
	h.exec(`BEGIN`, `INSERT INTO t SELECT g, repeat('y', 200) FROM generate_series(10001, 14000) g`, `ROLLBACK`)
	h.exec(`INSERT INTO t VALUES (20000, 'after'), (20001, 'after')`)
	got := h.read(h.topic("t"), 3003)
	for i := 0; i < 3000; i++ {
		if got[i].value.Op != event.OpCreate || got[i].key[0] != int32(i+1) {
			t.Fatalf("record %d: op %s key %v, want c %d", i, got[i].value.Op, got[i].key, i+1)
		}
	}
	wantChange(t, got[3000], event.OpCreate, event.Row{int32(9999)}, nil, event.Row{int32(9999), "last"})
	wantChange(t, got[3001], event.OpCreate, event.Row{int32(20000)}, nil, event.Row{int32(20000), "after"})
	wantChange(t, got[3002], event.OpCreate, event.Row{int32(20001)}, nil, event.Row{int32(20001), "after"})
	// The spilled changes keep their own LSNs, rising through the
	// transaction and before its commit, and so does a transaction that
	// was not streamed.
	wantChangeLSNs(t, got[:3001])
	wantChangeLSNs(t, got[3001:])
	if got[0].value.Transaction.ID != got[3000].value.Transaction.ID || got[3000].value.Transaction.TotalOrder != 3001 {
		t.Errorf("streamed transaction: ids %q/%q, total order %d", got[0].value.Transaction.ID, got[3000].value.Transaction.ID, got[3000].value.Transaction.TotalOrder)
	}
}

// A source stopped while Postgres streams it a backlog ends the stream
// before it closes the connection, so that the server reads its final
// status: once the server process has gone, the slot stands exactly where
// the source's saved offset does, and a next run replays nothing. (Closed
// with the server's data unread, the connection was reset and the server
// lost the final status, leaving the slot at an earlier one.)
func TestStopWhileStreamingLeavesTheSlotAtTheSavedPosition(t *testing.T) {
	h := newHarness(t, nil)
	h.exec(`CREATE TABLE t (id int PRIMARY KEY, v text)`)
	var inserts []string
	for i := range 40 {
		inserts = append(inserts, fmt.Sprintf(`INSERT INTO t SELECT g, repeat('x', 500) FROM generate_series(%d, %d) g`, i*1000+1, i*1000+1000))
	}
	for stop := range 8 {
		h.start()
		h.waitStreaming()
		h.exec(`DELETE FROM t`)
		h.exec(inserts...)
		time.Sleep(300 * time.Millisecond) // the backlog is being streamed
		if err := h.stop(); err != nil {
			t.Fatal(err)
		}
		var released bool
		var confirmed string
		for deadline := time.Now().Add(10 * time.Second); !released; time.Sleep(50 * time.Millisecond) {
			err := h.db.QueryRow(context.Background(), "SELECT active_pid IS NULL, confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1", h.slot).
				Scan(&released, &confirmed)
			if err != nil || time.Now().After(deadline) {
				t.Fatalf("stop %d: the slot's server process still runs 10 s after the stop (%v)", stop+1, err)
			}
		}
		raw, _ := h.offsets.Load(context.Background(), "server="+h.prefix)
		var saved struct {
			LSN uint64 `json:"lsn"`
		}
		if err := json.Unmarshal(raw, &saved); err != nil {
			t.Fatalf("stop %d: saved offset %s: %v", stop+1, raw, err)
		}
		if want := pglogrepl.LSN(saved.LSN).String(); confirmed != want {
			t.Fatalf("stop %d: the slot is at %s, the saved offset at %s", stop+1, confirmed, want)
		}
	}
}

func TestDroppedSlotIsAnExplicitPermanentError(t *testing.T) {
	h := newHarness(t, nil)
	h.exec(`CREATE TABLE t (id int PRIMARY KEY)`, `INSERT INTO t VALUES (1)`)
	h.start()
	h.read(h.topic("t"), 1)
	time.Sleep(200 * time.Millisecond) // let the snapshot's completion be acknowledged
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	pgtest.DropSlot(t, h.db, h.slot)
	h.start()
	err := h.wait(30 * time.Second)
	if !errors.Is(err, postgres.ErrSlotLost) || !errors.Is(err, connectors.ErrPermanent) {
		t.Fatalf("err = %v, want ErrSlotLost and permanent", err)
	}
	if !strings.Contains(err.Error(), "no longer exists") || !strings.Contains(err.Error(), "snapshot.mode=when_needed") {
		t.Errorf("error does not say what happened and the way out: %v", err)
	}
}

// TestIdleTableHeartbeatAdvancesSlot: with heartbeat.interval.ms, the slot
// moves on while only uncaptured tables change, and heartbeat records go to
// Debezium's heartbeat topic.
func TestIdleTableHeartbeatAdvancesSlot(t *testing.T) {
	h := newHarness(t, map[string]string{"table.include.list": "public.quiet", "heartbeat.interval.ms": "100", "publication.autocreate.mode": "filtered"})
	h.exec(`CREATE TABLE quiet (id int PRIMARY KEY)`, `CREATE TABLE busy (id int PRIMARY KEY)`, `INSERT INTO quiet VALUES (1)`)
	h.start()
	h.read(h.topic("quiet"), 1)
	first := h.slotLSN()
	h.exec(`INSERT INTO busy SELECT generate_series(1, 5000)`)
	var walEnd string
	h.db.QueryRow(context.Background(), "SELECT pg_current_wal_lsn()::text").Scan(&walEnd)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var passed bool
		h.db.QueryRow(context.Background(), "SELECT confirmed_flush_lsn >= $1::pg_lsn FROM pg_replication_slots WHERE slot_name = $2", walEnd, h.slot).Scan(&passed)
		if passed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("slot stayed at %s (started at %s) while WAL moved to %s", h.slotLSN(), first, walEnd)
		}
		time.Sleep(200 * time.Millisecond)
	}
	start := time.Now().Add(-time.Minute).UnixMilli()
	beats := h.reader.Read(t, "__debezium-heartbeat."+h.prefix, 2, h.checkRunning)
	for _, b := range beats {
		key, value := b.Key.(event.Row), b.Value.(event.Row)
		if b.KeySchema.Name != "io.debezium.connector.common.ServerNameKey" || b.ValueSchema.Name != "io.debezium.connector.common.Heartbeat" ||
			len(key) != 1 || key[0] != h.prefix || len(value) != 1 || value[0].(int64) < start {
			t.Errorf("heartbeat %s %v %s %v, want ServerNameKey [%s] and a recent Heartbeat ts_ms", b.KeySchema.Name, key, b.ValueSchema.Name, value, h.prefix)
		}
	}
}

func TestPartitionedTableIsOneTopic(t *testing.T) {
	h := newHarness(t, nil)
	h.exec(`CREATE TABLE m (id int, at date, PRIMARY KEY (id, at)) PARTITION BY RANGE (at)`,
		`CREATE TABLE m_2023 PARTITION OF m FOR VALUES FROM ('2023-01-01') TO ('2024-01-01')`,
		`CREATE TABLE m_2024 PARTITION OF m FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')`,
		`INSERT INTO m VALUES (1, '2023-05-01')`)
	h.start()
	h.waitStreaming()
	h.exec(`INSERT INTO m VALUES (2, '2024-05-01')`)
	got := h.read(h.topic("m"), 2)
	wantChange(t, got[0], event.OpRead, event.Row{int32(1), int32(19478)}, nil, event.Row{int32(1), int32(19478)})
	wantChange(t, got[1], event.OpCreate, event.Row{int32(2), int32(19844)}, nil, event.Row{int32(2), int32(19844)})
}
