package sourcetest

import (
	"strconv"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/testenv/topictest"
)

// The checks of this file read back the topic of a table
// t (id INT PRIMARY KEY, v INT NOT NULL) that a snapshot read while a
// workload changed it.

// CheckRebuilt rebuilds the table from rs, the records of its topic (the
// latest event of each key wins, a delete removes the key), and fails the
// test unless it equals table, the table's rows as {id, v} read from the
// database once the topic caught up, and unless every snapshot read is
// marked kind (source.snapshot). It returns the number of snapshot reads
// and of the table's keys that only a snapshot read delivered.
func CheckRebuilt(t testing.TB, rs []topictest.Record, table [][2]int32, kind event.Snapshot) (reads, onlyRead int) {
	t.Helper()
	rebuilt := map[int32]int32{}
	streamed := map[int32]bool{}
	for _, r := range rs {
		key, e, err := r.Change()
		if err != nil {
			t.Fatal(err)
		}
		if e == nil {
			continue // tombstone
		}
		id := key[0].(int32)
		switch e.Op {
		case event.OpDelete:
			delete(rebuilt, id)
			streamed[id] = true
		case event.OpRead:
			if e.Source.Snapshot != kind {
				t.Fatalf("key %d: a read with source.snapshot=%q, want %s", id, e.Source.Snapshot, kind)
			}
			reads++
			rebuilt[id] = e.After[1].(int32)
		default:
			streamed[id] = true
			rebuilt[id] = e.After[1].(int32)
		}
	}
	itoa := func(n int32) string { return strconv.Itoa(int(n)) }
	var wrong []string
	for _, row := range table {
		if v, ok := rebuilt[row[0]]; !ok || v != row[1] {
			wrong = append(wrong, itoa(row[0])+": table "+itoa(row[1])+", kafka "+map[bool]string{true: itoa(v), false: "missing"}[ok])
		}
		delete(rebuilt, row[0])
		if !streamed[row[0]] {
			onlyRead++
		}
	}
	for id := range rebuilt {
		wrong = append(wrong, itoa(id)+": deleted, kafka has it")
	}
	if len(wrong) > 0 {
		t.Fatalf("%d keys differ between the table (%d rows) and Kafka, first %v", len(wrong), len(table), wrong[:min(10, len(wrong))])
	}
	t.Logf("table of %d rows equals Kafka: %d snapshot reads, %d rows known from a snapshot read only", len(table), reads, onlyRead)
	return reads, onlyRead
}

// CheckReadPositions checks that every snapshot read among rs, the
// records of a table's topic, is positioned where it stands among the
// streamed changes, as a sink that versions writes by position needs: the
// positions of the topic's changes never decrease. position returns the
// position of the i-th record's change as a number that orders changes,
// and as the text a failure names it by; it fails the test for a change
// without a valid position. CheckReadPositions returns the number of
// reads.
func CheckReadPositions(t testing.TB, rs []topictest.Record, position func(i int, e *event.Event) (at uint64, text string)) (reads int) {
	t.Helper()
	var last uint64 // the greatest position so far
	var lastText string
	for i, r := range rs {
		_, e, err := r.Change()
		if err != nil {
			t.Fatal(err)
		}
		if e == nil {
			continue // tombstone
		}
		at, text := position(i, e)
		if e.Op == event.OpRead {
			reads++
		}
		if at < last {
			t.Fatalf("record %d (op %s) at %s follows one at %s", i, e.Op, text, lastText)
		}
		last, lastText = at, text
	}
	return reads
}

// CheckHeld checks done, a blocking snapshot that read the table while a
// workload changed it, from rs, the records of the table's topic: its
// reads, reads of them, are one run, and some changes committed while it
// ran (by their source.ts_ms) follow that run. resolution is that of the
// source's commit timestamps (a second for the binlog's): a change
// committed during the snapshot may carry a timestamp up to that much
// before its start.
func CheckHeld(t testing.TB, rs []topictest.Record, reads int, done connectors.SnapshotStatus, resolution time.Duration) {
	t.Helper()
	events := make([]*event.Event, len(rs))
	for i, r := range rs {
		_, e, err := r.Change()
		if err != nil {
			t.Fatal(err)
		}
		events[i] = e
	}
	first, last := -1, -1
	for i, e := range events {
		if e != nil && e.Op == event.OpRead {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 || last-first+1 != reads {
		t.Fatalf("the %d snapshot reads span records %d to %d: streamed changes came between them", reads, first, last)
	}
	from, to := done.Started.Truncate(resolution).UnixMilli(), done.Finished.UnixMilli()
	during := 0
	for _, e := range events[last+1:] {
		if e != nil && e.Op != event.OpRead && e.Source.TsMillis() >= from && e.Source.TsMillis() <= to {
			during++
		}
	}
	if during == 0 {
		t.Fatalf("no change committed during the snapshot (%s to %s) follows its reads", done.Started, done.Finished)
	}
	t.Logf("%d snapshot reads in one run, %d changes committed during the snapshot after them, %d records before", reads, during, first)
}
