package mysql_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/cdc"
)

// TestSchemaHistoryWithoutColumnNames streams from table maps without
// column names or metadata (as binlog_row_metadata=NO_LOG logs them)
// across added, dropped, moved and renamed columns, then replays it all
// from the position before the first change with the history stored then:
// every value lands under its own column name both times, because each row
// is decoded with the definition the schema history held at its position.
func TestSchemaHistoryWithoutColumnNames(t *testing.T) {
	h := newHarness(t, map[string]string{"tombstones.on.delete": "false", "include.schema.changes": "false"})
	h.noRowMetadata = true
	h.exec("CREATE TABLE t (id int PRIMARY KEY, a varchar(10), b int, e enum('x','y'), u int unsigned)")
	h.start()
	h.waitRunning()
	ctx := context.Background()
	// The DDL below is for the stream: the (empty) table's snapshot must be
	// over first, or it reads the table as the DDL changes it.
	var savedOffsets []byte
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(string(savedOffsets), `"snapshot_completed":true`); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the snapshot did not complete: offsets %s", savedOffsets)
		}
		savedOffsets, _ = h.offsets.Load(ctx, cdc.OffsetKey(h.db))
	}
	savedHistory, _ := h.offsets.Load(ctx, "history="+h.db)
	if len(savedHistory) == 0 {
		t.Fatal("no schema history stored at the start position")
	}
	h.exec("INSERT INTO t VALUES (1, 'a1', 1, 'y', 4294967295)",
		"ALTER TABLE t ADD COLUMN c varchar(10)",
		"INSERT INTO t VALUES (2, 'a2', 2, 'x', 1, 'c2')",
		"ALTER TABLE t DROP COLUMN b",
		"INSERT INTO t VALUES (3, 'a3', 'y', 2, 'c3')",
		"ALTER TABLE t MODIFY c varchar(10) AFTER id",
		"INSERT INTO t (id, a, c, e, u) VALUES (4, 'a4', 'c4', 'x', 3)",
		"ALTER TABLE t RENAME COLUMN a TO a2",
		"INSERT INTO t (id, a2, c) VALUES (5, 'a5', 'c5')",
		"UPDATE t SET a2 = 'a1z' WHERE id = 1")
	check := func(rs []record) {
		t.Helper()
		es := values(rs)
		want := []map[string]any{
			{"id": int32(1), "a": "a1", "b": int32(1), "e": "y", "u": int64(4294967295)},
			{"id": int32(2), "a": "a2", "b": int32(2), "e": "x", "u": int64(1), "c": "c2"},
			{"id": int32(3), "a": "a3", "e": "y", "u": int64(2), "c": "c3"},
			{"id": int32(4), "c": "c4", "a": "a4", "e": "x", "u": int64(3)},
			{"id": int32(5), "c": "c5", "a2": "a5", "e": nil, "u": nil},
			{"id": int32(1), "c": nil, "a2": "a1z", "e": "y", "u": int64(4294967295)},
		}
		if ops(es) != "cccccu" {
			t.Fatalf("got %d events (%s), want cccccu", len(es), ops(es))
		}
		for i, e := range es {
			got := map[string]any{}
			for j, c := range e.Table.Columns {
				got[c.Name] = e.After[j]
			}
			if fmt.Sprint(got) != fmt.Sprint(want[i]) {
				t.Errorf("event %d: %v, want %v", i, got, want[i])
			}
		}
		for i, names := range map[int]string{0: "id,a,b,e,u", 1: "id,a,b,e,u,c", 2: "id,a,e,u,c", 3: "id,c,a,e,u", 4: "id,c,a2,e,u"} {
			if got := columnNames(es[i]); got != names {
				t.Errorf("event %d columns %s, want %s", i, got, names)
			}
		}
		for i, r := range rs {
			if fmt.Sprint(r.key) != fmt.Sprint([]any{es[i].After[0]}) {
				t.Errorf("record %d: key %v, want [%v]", i, r.key, es[i].After[0])
			}
		}
	}
	check(h.read(h.topic("t"), 6))
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}

	// Replay from before the first insert, with the history stored then.
	replay := h.db + "_replay"
	if err := h.offsets.Save(ctx, cdc.OffsetKey(replay), savedOffsets); err != nil {
		t.Fatal(err)
	}
	if err := h.offsets.Save(ctx, "history="+replay, savedHistory); err != nil {
		t.Fatal(err)
	}
	h.extra["topic.prefix"] = replay
	h.extra["snapshot.mode"] = "no_data"
	h.start()
	h.waitRunning()
	check(h.read(replay+"."+h.db+".t", 6))
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}

	// Without the history of that position the replay cannot tell the columns.
	again := h.db + "_nohist"
	if err := h.offsets.Save(ctx, cdc.OffsetKey(again), savedOffsets); err != nil {
		t.Fatal(err)
	}
	h.extra["topic.prefix"] = again
	h.start()
	err := h.wait(30 * time.Second)
	want := regexp.MustCompile(`^no schema history at or before the stored position \S+:\d+ \(offset-store key history=` + regexp.QuoteMeta(again) +
		`\): binlog_row_metadata is not FULL, so the columns of the row events since cannot be told. Set binlog_row_metadata=FULL, or reset the connector's offsets to take a new snapshot$`)
	if err == nil || !want.MatchString(err.Error()) || !errors.Is(err, connectors.ErrPermanent) {
		t.Fatalf("err = %v, want permanent %s", err, want)
	}
}

// TestSchemaHistoryUnparsableDDLStops reads, away from the server's current
// position, a DDL statement the history's parser does not read: without
// column names in the binlog the stream cannot go on, and says which
// statement at which position stopped it.
func TestSchemaHistoryUnparsableDDLStops(t *testing.T) {
	h := newHarness(t, map[string]string{"tombstones.on.delete": "false"})
	h.noRowMetadata = true
	h.exec("CREATE TABLE t (id int PRIMARY KEY, a varchar(10))")
	h.start()
	h.waitRunning()
	h.exec("INSERT INTO t VALUES (1, 'a')")
	h.read(h.topic("t"), 1)
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	h.exec("ALTER TABLE t ADD COLUMN d INET6", "INSERT INTO t VALUES (2, 'b', '::1')")
	h.start()
	err := h.wait(30 * time.Second)
	want := regexp.MustCompile(`^schema history: cannot apply the DDL statement at mysql-bin\.\d+:\d+ \(ALTER TABLE t ADD COLUMN d INET6\): ` +
		`DDL statement not supported by the schema history: line 1 column 32 near "INET6" ; ` +
		`the binlog is not read at the server's current position, so the tables cannot be read again from information_schema. ` +
		`Set binlog_row_metadata=FULL, or reset the connector's offsets to take a new snapshot$`)
	if err == nil || !want.MatchString(err.Error()) || !errors.Is(err, connectors.ErrPermanent) {
		t.Fatalf("err = %v\nwant permanent %s", err, want)
	}
}
