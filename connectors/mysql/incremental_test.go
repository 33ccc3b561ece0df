package mysql_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/testenv/sourcetest"
)

// setupIncremental configures the harness to capture t and marker and
// read signals from the signal table, leaving t to the incremental
// snapshot (snapshot.mode=no_data), and creates t with rows 1..rows.
func setupIncremental(h *harness, rows int) {
	h.extra = map[string]string{"snapshot.mode": "no_data", "signal.data.collection": h.db + ".signal",
		"incremental.snapshot.chunk.size": "200", "table.include.list": h.db + `\.(t|marker)`}
	h.exec("CREATE TABLE "+h.db+".t (id INT PRIMARY KEY, v INT NOT NULL)",
		"CREATE TABLE "+h.db+".signal (id VARCHAR(64) PRIMARY KEY, type VARCHAR(32) NOT NULL, data TEXT)",
		"CREATE TABLE "+h.db+".marker (id INT PRIMARY KEY)")
	for from := 1; from <= rows; from += 1000 {
		values := make([]string, 0, 1000)
		for id := from; id < from+1000 && id <= rows; id++ {
			values = append(values, "("+strconv.Itoa(id)+",0)")
		}
		h.exec("INSERT INTO " + h.db + ".t VALUES " + strings.Join(values, ","))
	}
}

// startWorkload inserts, updates and deletes rows of t, one statement a
// transaction, until the returned function is called; ids above from are
// new.
func startWorkload(t *testing.T, h *harness, from int) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		conn := h.connect()
		defer conn.Close()
		next := from
		for ctx.Err() == nil {
			var q string
			switch id := 1 + rand.IntN(next); rand.IntN(3) {
			case 0:
				next++
				q = "INSERT INTO " + h.db + ".t VALUES (" + strconv.Itoa(next) + ", 0)"
			case 1:
				q = "UPDATE " + h.db + ".t SET v = v + 1 WHERE id = " + strconv.Itoa(id)
			default:
				q = "DELETE FROM " + h.db + ".t WHERE id = " + strconv.Itoa(id)
			}
			if _, err := conn.Execute(q); err != nil {
				t.Errorf("workload: %v", err)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	return func() { cancel(); wg.Wait() }
}

// incremental reads whether stored offsets hold an incremental snapshot
// under way, and its last key.
func incremental(raw []byte) (bool, string) {
	var st struct {
		Incremental *struct {
			LastKey []string `json:"last_key"`
		} `json:"incremental"`
	}
	_ = json.Unmarshal(raw, &st)
	if st.Incremental == nil {
		return false, ""
	}
	return true, fmt.Sprint(st.Incremental.LastKey)
}

// snapshotState is the state of incremental snapshot id, as the source
// publishes it ("" until it does).
func (h *harness) snapshotState(id string) string {
	for _, s := range h.signals.Snapshots() {
		if s.ID == id {
			return s.State
		}
	}
	return ""
}

// waitFor polls cond every 50 ms until it holds, failing after timeout.
func waitFor(t *testing.T, what string, timeout time.Duration, alive func(), cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		alive()
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkRebuilt rebuilds t from its topic (the latest event of each key)
// once a marker shows the stream caught up, and compares it with the
// table. It returns the number of snapshot reads in the topic.
func checkRebuilt(h *harness) int {
	h.t.Helper()
	return checkRebuiltAs(h, event.SnapshotIncremental)
}

// checkRebuiltAs is checkRebuilt for snapshot reads marked kind.
func checkRebuiltAs(h *harness, kind event.Snapshot) int {
	t := h.t
	t.Helper()
	h.exec("INSERT INTO " + h.db + ".marker VALUES (1)")
	h.read(h.topic("marker"), 1)
	res, err := h.conn.Execute("SELECT id, v FROM " + h.db + ".t")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	table := make([][2]int32, len(res.Values))
	for i := range res.Values {
		id, _ := res.GetInt(i, 0)
		v, _ := res.GetInt(i, 1)
		table[i] = [2]int32{int32(id), int32(v)}
	}
	reads, _ := sourcetest.CheckRebuilt(t, h.reader.ReadAll(t, h.topic("t"), h.checkRunning), table, kind)
	return reads
}

// checkReadPositions checks that every snapshot read of t's topic is
// positioned where it stands among the streamed changes, as a sink that
// versions writes by position needs: its binlog file and position (the
// fields a streamed change says where it is with) are at least those of
// every change before it in the topic and at most those of every change
// after it: the topic's positions never decrease. It returns the number of
// reads.
func checkReadPositions(h *harness) int {
	t := h.t
	t.Helper()
	return sourcetest.CheckReadPositions(t, h.reader.ReadAll(t, h.topic("t"), h.checkRunning), func(i int, e *event.Event) (uint64, string) {
		src := e.Source
		at, err := event.BinlogCommit(src.File, uint32(src.Pos))
		if err != nil || src.Pos <= 0 {
			t.Fatalf("record %d (op %s): binlog position %q:%d", i, e.Op, src.File, src.Pos)
		}
		return at, fmt.Sprintf("%s:%d", src.File, src.Pos)
	})
}

// TestIncrementalSnapshotUnderWorkload snapshots a table through a row of
// the signal table while a workload inserts, updates and deletes its
// rows: afterwards the table rebuilt from Kafka (the latest event of each
// key) equals the source table, so no snapshot read overtook a newer
// streamed change. A bad signal changes nothing.
func TestIncrementalSnapshotUnderWorkload(t *testing.T) {
	const rows = 5000
	h := newHarness(t, nil)
	setupIncremental(h, rows)
	h.start()
	h.waitRunning()
	stop := startWorkload(t, h, rows)
	signal := "INSERT INTO " + h.db + ".signal VALUES "
	h.exec(signal+`('bad', 'execute-snapshot', '{"data-collections": ["`+h.db+`.nope"]}')`,
		signal+`('go', 'execute-snapshot', '{"data-collections": ["`+h.db+`.t"]}')`)
	waitFor(t, "the incremental snapshot to complete", 2*time.Minute, h.checkRunning, func() bool { return h.snapshotState("go") == "COMPLETED" })
	stop()
	reads := checkRebuilt(h)
	if reads < rows/2 {
		t.Fatalf("%d snapshot reads of a %d-row table", reads, rows)
	}
	if n := checkReadPositions(h); n != reads {
		t.Fatalf("%d reads positioned, %d in the topic", n, reads)
	}
}

// TestIncrementalSnapshotResumesAfterKill9 kills the source with SIGKILL
// again and again while it snapshots a table under a workload: each
// restart continues after the last durable chunk, and in the end the
// table rebuilt from Kafka equals the source table.
func TestIncrementalSnapshotResumesAfterKill9(t *testing.T) {
	const rows, kills = 60000, 4
	h := newHarness(t, nil)
	setupIncremental(h, rows)
	h.extra["incremental.snapshot.chunk.size"] = "100"
	state := t.TempDir()
	c := h.startChild(state)
	alive := func() { c.Alive(t) }
	progress := func() (bool, string) {
		b, err := os.ReadFile(filepath.Join(state, "offsets.json"))
		if err != nil {
			return false, ""
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(b, &m) != nil {
			return false, ""
		}
		return incremental(m["server="+h.db])
	}
	// Running: its start position is stored, and the signal comes after it.
	waitFor(t, "the source to run", time.Minute, alive, func() bool { return strings.Contains(c.Output(), "running") })
	stop := startWorkload(t, h, rows)
	h.exec("INSERT INTO " + h.db + `.signal VALUES ('go', 'execute-snapshot', '{"data-collections": ["` + h.db + `.t"]}')`)
	waitFor(t, "the incremental snapshot to start", time.Minute, alive, func() bool { running, _ := progress(); return running })
	killed := 0
	for kill := range kills {
		time.Sleep(time.Duration(100+rand.IntN(400)) * time.Millisecond)
		running, last := progress()
		if !running {
			// A fast machine reads the table between kills: two are proof
			// enough of resuming.
			if kill < 2 {
				t.Fatalf("the snapshot finished before kill %d: make the table larger", kill+1)
			}
			t.Logf("the snapshot finished before kill %d", kill+1)
			break
		}
		c.Kill()
		killed++
		t.Logf("kill %d after key %s", kill+1, last)
		c = h.startChild(state)
		waitFor(t, "the restarted source to read on", time.Minute, alive, func() bool {
			running, now := progress()
			return !running || now != last
		})
	}
	waitFor(t, "the incremental snapshot to finish", 3*time.Minute, alive, func() bool { running, _ := progress(); return !running })
	stop()
	// A restart reads again only the chunks not yet durable when it was
	// killed, not the table from its start.
	if reads := checkRebuilt(h); reads-rows > killed*20*100 {
		t.Fatalf("%d snapshot reads for %d rows: restarts read the table again instead of resuming", reads, rows)
	}
}
