package postgres_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/daemon"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/testenv/topictest"
)

// TestNewTablesAddedByAConfigUpdateAreSnapshotted runs the source under
// the daemon with snapshot.new.tables=parallel: a table that PUT
// /connectors/{name}/config adds to table.include.list gets an
// incremental snapshot, the tables captured before are not read again,
// and a restart snapshots nothing.
func TestNewTablesAddedByAConfigUpdateAreSnapshotted(t *testing.T) {
	h := newHarness(t, map[string]string{"table.include.list": "public.t,public.marker", "snapshot.new.tables": "parallel",
		"incremental.snapshot.chunk.size": "500"})
	h.exec(`CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL)`, `INSERT INTO t SELECT g, 0 FROM generate_series(1, 3000) g`,
		`CREATE TABLE u (id int PRIMARY KEY, v int NOT NULL)`, `INSERT INTO u SELECT g, g FROM generate_series(1, 2000) g`,
		`CREATE TABLE marker (id int PRIMARY KEY)`)
	sup, url := startDaemon(t, h)
	url += "/connectors/pg"
	running := func() {
		if s, _ := sup.Status("pg"); s.State == daemon.Failed {
			t.Fatalf("connector FAILED: %s", s.Trace)
		}
	}
	put := func() {
		t.Helper()
		if code, body := call(t, "PUT", url+"/config", mustJSON(t, h.config())); code/100 != 2 {
			t.Fatalf("PUT config: %d %s", code, body)
		}
	}
	snapshots := func() []connectors.SnapshotStatus {
		code, body := call(t, "GET", url+"/snapshots", "")
		var list struct{ Snapshots []connectors.SnapshotStatus }
		if err := json.Unmarshal(body, &list); code != 200 || err != nil {
			t.Fatalf("GET snapshots: %d %s", code, body)
		}
		return list.Snapshots
	}
	marker := func(n int) {
		t.Helper()
		h.exec(`INSERT INTO marker VALUES (` + itoa(n) + `)`)
		h.reader.ReadUntil(t, h.topic("marker"), running, func(rs []topictest.Record) bool { return len(rs) >= n })
	}
	count := func(table string) (reads, changes int) {
		for _, r := range h.readAll(h.topic(table)) {
			switch {
			case r.value == nil:
			case r.value.Op == event.OpRead:
				reads++
			default:
				changes++
			}
		}
		return reads, changes
	}

	put()
	h.read(h.topic("t"), 3000)
	h.exec(`UPDATE u SET v = v + 1 WHERE id <= 10`) // not captured yet
	marker(1)                                       // the slot confirms past the update

	h.extra["table.include.list"] = "public.t,public.u,public.marker"
	put()
	waitFor(t, "the snapshot of the new table", time.Minute, running, func() bool {
		list := snapshots()
		return len(list) == 1 && list[0].State == "COMPLETED"
	})
	s := snapshots()[0]
	if s.Type != "incremental" || !slices.Equal(s.Tables, []string{"public.u"}) || s.Rows != 2000 || s.Chunks != 4 {
		t.Fatalf("snapshot of the new table: %+v", s)
	}
	h.exec(`UPDATE u SET v = 0 WHERE id = 1`)
	marker(2)
	rebuilt := map[int32]int32{}
	for _, r := range h.readAll(h.topic("u")) {
		if r.value.Op == event.OpRead && r.value.Source.Snapshot != event.SnapshotIncremental {
			t.Fatalf("a read of u with source.snapshot=%q", r.value.Source.Snapshot)
		}
		rebuilt[r.key[0].(int32)] = r.value.After[1].(int32)
	}
	for id := int32(1); id <= 2000; id++ {
		want := id
		switch {
		case id == 1:
			want = 0
		case id <= 10:
			want = id + 1
		}
		if rebuilt[id] != want {
			t.Fatalf("u rebuilt from Kafka: id %d has v %d, want %d", id, rebuilt[id], want)
		}
	}
	if reads, changes := count("u"); reads != 2000 || changes != 1 {
		t.Fatalf("u's topic: %d reads, %d changes; want 2000 and 1", reads, changes)
	}
	if reads, changes := count("t"); reads != 3000 || changes != 0 {
		t.Fatalf("t's topic: %d reads, %d changes; want the initial snapshot's 3000 only", reads, changes)
	}

	// Restarted with the same tables, the source snapshots nothing.
	if code, body := call(t, "POST", url+"/restart", ""); code/100 != 2 {
		t.Fatalf("restart: %d %s", code, body)
	}
	time.Sleep(time.Second)
	marker(3)
	if list := snapshots(); len(list) != 0 {
		t.Fatalf("after a restart: snapshots %+v", list)
	}
	if reads, _ := count("u"); reads != 2000 {
		t.Fatalf("after a restart u's topic has %d reads", reads)
	}
}
