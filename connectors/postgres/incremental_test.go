package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/daemon"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/testenv/sourcetest"
	"github.com/sluice-cdc/sluice/testenv/topictest"
)

// incrementalConfig captures t and reads signals from public.signal; the
// table is left to the incremental snapshot (snapshot.mode=no_data).
var incrementalConfig = map[string]string{
	"snapshot.mode":                   "no_data",
	"signal.data.collection":          "public.signal",
	"incremental.snapshot.chunk.size": "200",
	"table.include.list":              "public.t,public.marker",
}

// setupIncremental creates t with rows 1..rows, the signal table and the
// marker table.
func setupIncremental(h *harness, rows int) {
	h.exec(`CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL)`,
		`INSERT INTO t SELECT g, 0 FROM generate_series(1, `+itoa(rows)+`) g`,
		`CREATE TABLE signal (id text PRIMARY KEY, type text NOT NULL, data text)`,
		`CREATE TABLE marker (id int PRIMARY KEY)`)
}

func itoa(n int) string { return strconv.Itoa(n) }

// workload inserts, updates and deletes rows of t, a few per transaction,
// until stop; ids above from are new.
type workload struct {
	stop func()
	wg   sync.WaitGroup
	n    int
}

func startWorkload(t *testing.T, h *harness, from int) *workload {
	conn := h.pg.Connect(t)
	ctx, cancel := context.WithCancel(context.Background())
	w := &workload{stop: cancel}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		next := from
		for ctx.Err() == nil {
			err := pgx.BeginFunc(context.Background(), conn, func(tx pgx.Tx) error {
				for range 1 + rand.IntN(3) {
					var err error
					switch id := 1 + rand.IntN(next); rand.IntN(3) {
					case 0:
						next++
						_, err = tx.Exec(context.Background(), `INSERT INTO t VALUES ($1, 0)`, next)
					case 1:
						_, err = tx.Exec(context.Background(), `UPDATE t SET v = v + 1 WHERE id = $1`, id)
					default:
						_, err = tx.Exec(context.Background(), `DELETE FROM t WHERE id = $1`, id)
					}
					if err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Errorf("workload: %v", err)
				return
			}
			w.n++
			time.Sleep(time.Millisecond)
		}
	}()
	return w
}

func (w *workload) finish() int {
	w.stop()
	w.wg.Wait()
	return w.n
}

// signal inserts a signal row.
func (h *harness) signal(id, typ, data string) {
	h.t.Helper()
	if _, err := h.db.Exec(context.Background(), `INSERT INTO signal VALUES ($1, $2, $3)`, id, typ, data); err != nil {
		h.t.Fatal(err)
	}
}

// incremental reads the incremental snapshot progress from stored
// offsets: nil when none is under way.
func incremental(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	if len(raw) == 0 {
		return nil
	}
	var st struct {
		Incremental map[string]any `json:"incremental"`
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	return st.Incremental
}

// waitFor polls cond every 50 ms until it holds, failing after timeout.
func waitFor(t *testing.T, what string, timeout time.Duration, alive func(), cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if alive != nil {
			alive()
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkRebuilt rebuilds t from its topic (the latest event of each key)
// and compares it with the table, after a marker shows the stream caught
// up. It returns the number of snapshot reads in the topic and of keys
// only a snapshot read delivered.
func checkRebuilt(h *harness, marker int) (reads, onlyRead int) {
	h.t.Helper()
	return checkRebuiltAs(h, marker, event.SnapshotIncremental)
}

// checkRebuiltAs is checkRebuilt for snapshot reads marked kind.
func checkRebuiltAs(h *harness, marker int, kind event.Snapshot) (reads, onlyRead int) {
	h.t.Helper()
	h.exec(`INSERT INTO marker VALUES (` + itoa(marker) + `)`)
	h.reader.ReadUntil(h.t, h.topic("marker"), h.checkRunning, func(rs []topictest.Record) bool { return len(rs) >= marker })
	rows, err := h.db.Query(context.Background(), `SELECT id, v FROM t`)
	if err != nil {
		h.t.Fatal(err)
	}
	table, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]int32, error) {
		var p [2]int32
		return p, r.Scan(&p[0], &p[1])
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return sourcetest.CheckRebuilt(h.t, h.reader.ReadAll(h.t, h.topic("t"), h.checkRunning), table, kind)
}

// checkReadPositions checks that every snapshot read of t's topic is
// positioned where it stands among the streamed changes, as a sink that
// versions writes by position needs: its source.lsn (a read has no
// transaction block) is positive, at least the commit LSN (in
// transaction.id) of every change before it in the topic and at most that
// of every change after it: the topic's positions never decrease. It
// returns the number of reads.
func checkReadPositions(h *harness) int {
	h.t.Helper()
	return sourcetest.CheckReadPositions(h.t, h.reader.ReadAll(h.t, h.topic("t"), h.checkRunning), func(i int, e *event.Event) (uint64, string) {
		if e.Op == event.OpRead {
			if e.Transaction != nil || e.Source.LSN <= 0 {
				h.t.Fatalf("record %d: a read with source.lsn %d and transaction %+v, want a positive source.lsn and none", i, e.Source.LSN, e.Transaction)
			}
			return uint64(e.Source.LSN), fmt.Sprint(e.Source.LSN)
		}
		_, commit, _ := strings.Cut(e.Transaction.ID, ":")
		n, err := strconv.ParseUint(commit, 10, 64)
		if err != nil {
			h.t.Fatalf("record %d: transaction id %q", i, e.Transaction.ID)
		}
		return n, commit
	})
}

// TestIncrementalSnapshotUnderWorkload snapshots a table through a signal
// while a workload inserts, updates and deletes its rows: afterwards the
// table rebuilt from Kafka equals the source table, so no snapshot read
// overtook a newer streamed change. Bad signals before it change nothing.
func TestIncrementalSnapshotUnderWorkload(t *testing.T) {
	const rows = 5000
	h := newHarness(t, incrementalConfig)
	setupIncremental(h, rows)
	h.start()
	h.waitStreaming()
	w := startWorkload(t, h, rows)
	time.Sleep(300 * time.Millisecond)
	h.signal("bad-json", "execute-snapshot", `{"data-collections": [`)
	h.signal("bad-table", "execute-snapshot", `{"data-collections": ["public.nope"]}`)
	h.signal("bad-type", "explode", `{}`)
	h.signal("go", "execute-snapshot", `{"data-collections": ["public.t"], "type": "incremental"}`)
	waitFor(t, "the incremental snapshot to complete", 2*time.Minute, h.checkRunning, func() bool {
		list := h.signals.Snapshots()
		return len(list) == 1 && list[0].ID == "go" && list[0].State == "COMPLETED"
	})
	txs := w.finish()
	reads, onlyRead := checkRebuilt(h, 1)
	if n := checkReadPositions(h); n != reads {
		t.Fatalf("%d reads positioned, %d in the topic", n, reads)
	}
	t.Logf("%d workload transactions during the snapshot", txs)
	if onlyRead == 0 || reads < onlyRead {
		t.Fatalf("%d rows known only from snapshot reads (%d reads): the snapshot delivered nothing", onlyRead, reads)
	}
}

// TestIncrementalSnapshotResumesAfterKill9 kills the source, with SIGKILL,
// again and again while it snapshots a table under a workload: each
// restart continues after the last durable chunk, and in the end the
// table rebuilt from Kafka equals the source table. A bad signal is
// logged and ignored.
func TestIncrementalSnapshotResumesAfterKill9(t *testing.T) {
	const rows = 60000
	h := newHarness(t, incrementalConfig)
	h.extra = maps.Clone(incrementalConfig)
	h.extra["incremental.snapshot.chunk.size"] = "100"
	setupIncremental(h, rows)
	state := t.TempDir()
	c := h.startChild(state)
	h.waitStreaming()
	w := startWorkload(t, h, rows)
	h.signal("bad", "execute-snapshot", `{"data-collections": ["public.nope"]}`)
	h.signal("go", "execute-snapshot", `{"data-collections": ["public.t"]}`)
	key := "server=" + h.prefix
	progress := func() map[string]any {
		b, err := os.ReadFile(filepath.Join(state, "offsets.json"))
		if err != nil {
			return nil
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return nil // being replaced
		}
		return incremental(t, m[key])
	}
	alive := func() { c.Alive(t) }
	waitFor(t, "the incremental snapshot to start", time.Minute, alive, func() bool { return progress() != nil })
	waitFor(t, "the bad signal to be logged", 10*time.Second, alive, func() bool {
		return strings.Contains(c.Output(), "table public.nope is not captured")
	})
	const kills = 4
	killed := 0
	for kill := range kills {
		time.Sleep(time.Duration(100+rand.IntN(400)) * time.Millisecond)
		p := progress()
		if p == nil {
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
		t.Logf("kill %d with progress %v", kill+1, p["last_key"])
		c = h.startChild(state)
		waitFor(t, "the restarted source to read on", time.Minute, alive, func() bool {
			q := progress()
			return q == nil || fmt.Sprint(q["last_key"]) != fmt.Sprint(p["last_key"])
		})
	}
	waitFor(t, "the incremental snapshot to finish", 3*time.Minute, alive, func() bool { return progress() == nil })
	w.finish()
	reads, _ := checkRebuilt(h, 1)
	// A restart reads again only the chunks not yet durable when it was
	// killed, not the table from its start.
	if extra := reads - rows; extra > killed*20*100 {
		t.Fatalf("%d snapshot reads for %d rows: restarts read the table again instead of resuming", reads, rows)
	}
	if out := c.Output(); out != "" {
		t.Logf("child stderr: %s", out)
	}
}

// call sends a REST request with a JSON body ("" for none) and returns
// the status and the body of the answer.
func call(t *testing.T, method, url, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestIncrementalSnapshotThroughREST starts incremental snapshots with
// POST /connectors/{name}/snapshots under a workload, follows them with
// GET, stops one with DELETE and pauses and resumes another; bad requests
// are refused or logged, and the connector keeps running.
func TestIncrementalSnapshotThroughREST(t *testing.T) {
	const rows = 30000
	h := newHarness(t, map[string]string{"snapshot.mode": "no_data", "table.include.list": "public.t,public.marker", "incremental.snapshot.chunk.size": "200"})
	setupIncremental(h, rows)
	sup, url := startDaemon(t, h)
	url += "/connectors/pg"
	if code, body := call(t, "PUT", url+"/config", mustJSON(t, h.config())); code/100 != 2 {
		t.Fatalf("PUT config: %d %s", code, body)
	}
	running := func() {
		if s, _ := sup.Status("pg"); s.State == daemon.Failed {
			t.Fatalf("connector FAILED: %s", s.Trace)
		}
	}
	h.waitStreaming()
	w := startWorkload(t, h, rows)
	snapshot := func(id string) connectors.SnapshotStatus {
		code, body := call(t, "GET", url+"/snapshots", "")
		var list struct{ Snapshots []connectors.SnapshotStatus }
		if err := json.Unmarshal(body, &list); code != 200 || err != nil {
			t.Fatalf("GET snapshots: %d %s", code, body)
		}
		for _, s := range list.Snapshots {
			if s.ID == id {
				return s
			}
		}
		return connectors.SnapshotStatus{}
	}
	start := func(body string) string {
		code, answer := call(t, "POST", url+"/snapshots", body)
		var started struct{ ID string }
		if err := json.Unmarshal(answer, &started); code != 202 || err != nil || started.ID == "" {
			t.Fatalf("POST snapshots %s: %d %s", body, code, answer)
		}
		return started.ID
	}

	for body, want := range map[string]int{`{"data-collections": [`: 400, `{"data-collections": []}`: 400} {
		if code, answer := call(t, "POST", url+"/snapshots", body); code != want {
			t.Fatalf("POST snapshots %s: %d %s, want %d", body, code, answer, want)
		}
	}
	if code, answer := call(t, "DELETE", url+"/snapshots/nope", ""); code != 404 {
		t.Fatalf("DELETE an unknown snapshot: %d %s", code, answer)
	}
	start(`{"data-collections": ["public.nope"]}`) // logged by the source, which goes on
	// A condition that does not run skips its table, logged; the snapshot
	// ends without rows.
	bad := start(`{"data-collections": ["public.t"], "additional-conditions": [{"data-collection": "public.t", "filter": "no_such_column > 1"}]}`)
	waitFor(t, "snapshot "+bad+" to end", time.Minute, running, func() bool { return snapshot(bad).State == "COMPLETED" })
	if s := snapshot(bad); s.Rows != 0 {
		t.Fatalf("a snapshot whose condition does not run read %d rows", s.Rows)
	}
	// A condition that runs bounds the rows read.
	some := start(`{"data-collections": ["public.t"], "additional-conditions": [{"data-collection": "public.t", "filter": "id <= 500"}]}`)
	waitFor(t, "snapshot "+some+" to complete", time.Minute, running, func() bool { return snapshot(some).State == "COMPLETED" })
	if s := snapshot(some); s.Rows == 0 || s.Rows > 500 {
		t.Fatalf("a snapshot of the rows with id <= 500 read %d rows", s.Rows)
	}

	// One snapshot is stopped once it runs, the next completes.
	stopped := start(`{"data-collections": ["public.t"]}`)
	waitFor(t, "snapshot "+stopped+" to run", time.Minute, running, func() bool { return snapshot(stopped).State == "RUNNING" })
	var status struct {
		Snapshot *connectors.SnapshotStatus `json:"incremental_snapshot"`
	}
	if code, body := call(t, "GET", url+"/status", ""); code != 200 || json.Unmarshal(body, &status) != nil || status.Snapshot == nil || status.Snapshot.ID != stopped {
		t.Fatalf("GET status while snapshot %s runs: %d %s", stopped, code, body)
	}
	if code, answer := call(t, "DELETE", url+"/snapshots/"+stopped, ""); code != 202 {
		t.Fatalf("DELETE snapshot %s: %d %s", stopped, code, answer)
	}
	waitFor(t, "snapshot "+stopped+" to stop", time.Minute, running, func() bool { return snapshot(stopped).State == "STOPPED" })
	// The next is paused, reads nothing while paused, is resumed and
	// completes.
	id := start(`{"data-collections": ["public.t"], "type": "incremental"}`)
	waitFor(t, "snapshot "+id+" to run", time.Minute, running, func() bool { return snapshot(id).State == "RUNNING" })
	if code, answer := call(t, "PUT", url+"/snapshots/"+id+"/pause", ""); code != 202 {
		t.Fatalf("pause snapshot %s: %d %s", id, code, answer)
	}
	waitFor(t, "snapshot "+id+" to pause", time.Minute, running, func() bool { return snapshot(id).State == "PAUSED" })
	time.Sleep(300 * time.Millisecond) // a chunk read before the pause is handed on
	paused := snapshot(id).Rows
	time.Sleep(time.Second)
	if rows := snapshot(id).Rows; rows != paused {
		t.Fatalf("a paused snapshot read on: %d rows, then %d", paused, rows)
	}
	if code, answer := call(t, "PUT", url+"/snapshots/"+id+"/resume", ""); code != 202 {
		t.Fatalf("resume snapshot %s: %d %s", id, code, answer)
	}
	waitFor(t, "snapshot "+id+" to complete", 3*time.Minute, running, func() bool { return snapshot(id).State == "COMPLETED" })
	s := snapshot(id)
	t.Logf("snapshot %s: %d rows in %d chunks; the stopped one read %d", id, s.Rows, s.Chunks, snapshot(stopped).Rows)
	if s.Rows == 0 || !slices.Equal(s.Tables, []string{"public.t"}) || len(s.Remaining) != 0 || s.Finished == nil {
		t.Fatalf("completed snapshot %+v", s)
	}
	w.finish()
	checkRebuilt(h, 1)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
