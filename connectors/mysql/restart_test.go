package mysql_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/cdc"
	"github.com/sluice-cdc/sluice/schema/event"
)

// TestStopAndRestartNeitherDuplicatesNorLoses stops the source cleanly
// between two runs of writes, some made while it is stopped: the topic
// holds each change exactly once.
func TestStopAndRestartNeitherDuplicatesNorLoses(t *testing.T) {
	h := newHarness(t, map[string]string{"tombstones.on.delete": "false"})
	h.exec("CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL, s varchar(20))", "INSERT INTO t VALUES (1, 1, 'a'), (2, 2, 'b')")
	h.start()
	h.waitRunning()
	h.exec("INSERT INTO t VALUES (3, 3, 'c')", "UPDATE t SET v = 10 WHERE id = 1")
	h.read(h.topic("t"), 4)
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	h.exec("INSERT INTO t VALUES (4, 4, 'd')", "DELETE FROM t WHERE id = 2")
	h.start()
	h.waitRunning()
	h.exec("UPDATE t SET s = 'z' WHERE id = 4")
	es := values(h.settle(h.topic("t"), 7))
	if got := ops(es); got != "rrcucdu" {
		t.Fatalf("ops = %s, want rrcucdu (each change once)", got)
	}
	if got, want := rebuild(es), h.tableState("t"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("rebuilt %v, want %v", got, want)
	}
	// The transaction block and positions of streamed events.
	last := es[len(es)-1]
	if last.Transaction == nil || last.Transaction.TotalOrder != 1 || last.Source.GTID == "" || last.Transaction.ID != last.Source.GTID ||
		last.Source.File == "" || last.Source.Pos <= es[len(es)-2].Source.Pos || last.Source.TsMillis() == 0 {
		t.Errorf("last event: source %+v, transaction %+v", last.Source, last.Transaction)
	}
}

// TestDDLMidStreamReplayedFromOlderPosition adds, drops and moves columns
// while streaming, then replays everything from the position before the
// first change: every value lands under its own column name, because each
// row event's table map names the columns as they were then.
func TestDDLMidStreamReplayedFromOlderPosition(t *testing.T) {
	h := newHarness(t, map[string]string{"tombstones.on.delete": "false"})
	h.exec("CREATE TABLE t (id int PRIMARY KEY, a varchar(10), b int)")
	h.start()
	h.waitRunning()
	// The DDL below is for the stream: the (empty) table's snapshot must be
	// over first, or it reads the table as the DDL changes it.
	var saved []byte
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(string(saved), `"snapshot_completed":true`); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the snapshot did not complete: offsets %s", saved)
		}
		saved, _ = h.offsets.Load(context.Background(), cdc.OffsetKey(h.db))
	}
	h.exec("INSERT INTO t VALUES (1, 'a1', 1)",
		"ALTER TABLE t ADD COLUMN c varchar(10)",
		"INSERT INTO t VALUES (2, 'a2', 2, 'c2')",
		"ALTER TABLE t DROP COLUMN b",
		"INSERT INTO t VALUES (3, 'a3', 'c3')",
		"ALTER TABLE t MODIFY c varchar(10) AFTER id",
		"INSERT INTO t (id, a, c) VALUES (4, 'a4', 'c4')")
	check := func(es []*event.Event) {
		t.Helper()
		want := []map[string]any{
			{"id": int32(1), "a": "a1", "b": int32(1)},
			{"id": int32(2), "a": "a2", "b": int32(2), "c": "c2"},
			{"id": int32(3), "a": "a3", "c": "c3"},
			{"id": int32(4), "a": "a4", "c": "c4"},
		}
		if len(es) != len(want) || ops(es) != "cccc" {
			t.Fatalf("got %d events (%s), want %d", len(es), ops(es), len(want))
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
		if names := columnNames(es[3]); names != "id,c,a" {
			t.Errorf("columns after the move: %s, want id,c,a", names)
		}
	}
	check(values(h.read(h.topic("t"), 4)))
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	// Replay from before the first insert, into a fresh topic prefix.
	if err := h.offsets.Save(context.Background(), cdc.OffsetKey(h.db+"_replay"), saved); err != nil {
		t.Fatal(err)
	}
	h.extra["topic.prefix"] = h.db + "_replay"
	h.extra["snapshot.mode"] = "no_data" // stream from the stored position
	h.start()
	h.waitRunning()
	check(values(h.read(h.db+"_replay."+h.db+".t", 4)))
}

func columnNames(e *event.Event) string {
	var names []string
	for _, c := range e.Table.Columns {
		names = append(names, c.Name)
	}
	return strings.Join(names, ",")
}

// TestPurgedPositionFailsNamingIt starts from stored offsets in a binlog
// file the server no longer has.
func TestPurgedPositionFailsNamingIt(t *testing.T) {
	h := newHarness(t, map[string]string{})
	raw, _ := json.Marshal(map[string]any{"file": "mysql-bin.999999", "pos": 1234, "snapshot_completed": true})
	if err := h.offsets.Save(context.Background(), cdc.OffsetKey(h.db), raw); err != nil {
		t.Fatal(err)
	}
	h.start()
	err := h.wait(30e9)
	want := "the streaming position is lost: binlog file mysql-bin.999999 (position 1234) is no longer on the server; changes since may be lost. " +
		"To take a new snapshot, reset the connector's offsets or set snapshot.mode=when_needed"
	if err == nil || err.Error() != want || !errors.Is(err, connectors.ErrPermanent) || !errors.Is(err, cdc.ErrPositionLost) {
		t.Fatalf("err = %v, want permanent %q", err, want)
	}

	// With snapshot.mode=when_needed the source snapshots afresh instead.
	h.exec("CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL, s varchar(20))", "INSERT INTO t VALUES (1, 1, 'a')")
	h.extra["snapshot.mode"] = "when_needed"
	h.start()
	h.waitRunning()
	if got := ops(values(h.read(h.topic("t"), 1))); got != "r" {
		t.Fatalf("ops = %s, want r", got)
	}
}
