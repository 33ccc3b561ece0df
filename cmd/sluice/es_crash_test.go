package main

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http/httptest"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestElasticsearchSurvivesKill runs the daemon with a Postgres source and
// an Elasticsearch sink on the same topic, on the real Kafka of the test
// environment (the registry runs in the test, as an external one), while a
// random workload changes the table, and kills the daemon with SIGKILL five
// times at random moments, restarting it each time. Kills 1, 3 and 5 land
// while the sink waits for the answer to a bulk request carrying changes
// never sent before, which a proxy in front of Elasticsearch holds back and
// never forwards, and after the source's slot has confirmed those changes,
// so that the source does not produce them again: a sink that committed
// offsets before Elasticsearch acknowledged would lose them. Afterwards the
// index must equal the table, document by document, and the held changes
// must be in it. The sink is a static group member: restarted, it takes its
// partitions back at once rather than after the dead member's session
// timeout (45 s), which would outlast the catch-up allowed here.
func TestElasticsearchSurvivesKill(t *testing.T) {
	rig := newESRig(t)
	db, index := rig.db, rig.index
	ctx := t.Context()
	wl, seed := rig.items(ctx, 500) // read by the snapshot
	rng := rand.New(rand.NewPCG(seed, 2))
	ctrl, err := pgx.ConnectConfig(ctx, db.conn.Config().Copy()) // the workload has db.conn
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctrl.Close(context.Background()) })

	holder, err := newBulkHolder(rig.esURL)
	if err != nil {
		t.Fatal(err)
	}
	esProxy := httptest.NewServer(holder)
	t.Cleanup(esProxy.Close)
	rig.configure(nil, esProxy.URL, map[string]string{
		"read.timeout.ms": "20000"}) // a held request must not time out before the kill
	start := rig.start

	const (
		workFor   = 20 * time.Second
		txPerSec  = 150
		kills     = 5
		heldWait  = 5 * time.Second
		holdFor   = 3 * time.Second // how long a held request waits at least
		catchUpIn = 40 * time.Second
	)
	began := time.Now()
	d := start()
	werr, stop := make(chan error, 1), make(chan struct{})
	go func() { werr <- wl.run(ctx, db.conn, stop, txPerSec) }()

	// Each kill comes a random 0.5 to 3 s after the daemon was (re)started.
	var fresh []bulkAction // held writes: in flight, never acknowledged, confirmed by the slot, at a kill
	for i := range kills {
		select {
		case <-time.After(500*time.Millisecond + time.Duration(rng.Int64N(int64(2500*time.Millisecond)))):
		case err := <-werr:
			t.Fatalf("workload ended before kill %d: %v", i+1, err)
		}
		what := "at a random moment"
		if i%2 == 0 {
			select {
			case b := <-holder.arm():
				heldAt := time.Now()
				f := b.fresh()
				wl.freeze(actionIDs(t, f))
				// Once the slot has confirmed the held changes, the source
				// does not produce them again after the restart: only the
				// sink's own offsets can bring them back.
				confirmed := waitConfirmed(t, ctrl, db.name, heldWait)
				if confirmed {
					fresh = append(fresh, f...)
				}
				// A sink that commits offsets on a timer, and wrongly
				// before the answer, would have committed them by now.
				time.Sleep(time.Until(heldAt.Add(holdFor)))
				what = fmt.Sprintf("while a bulk request of %d actions, %d never sent before, waits for Elasticsearch (the slot confirmed them: %v)", len(b.actions), len(f), confirmed)
			case <-time.After(heldWait):
				what = fmt.Sprintf("at a random moment (no bulk request with a new change came within %v)", heldWait)
			}
		}
		killedAt := time.Since(began)
		d.kill9()
		holder.disarm()
		if !holder.settle(5 * time.Second) {
			t.Fatalf("requests to Elasticsearch still in flight 5 s after kill %d", i+1)
		}
		down := time.Now()
		d = start()
		t.Logf("kill %d at %.1f s %s; restarted, REST API ready in %v",
			i+1, killedAt.Seconds(), what, time.Since(down).Round(time.Millisecond))
	}
	// The workload goes on for workFor, and at least 2 s after the last
	// restart.
	time.Sleep(max(time.Until(began.Add(workFor)), 2*time.Second))
	close(stop)
	if err := <-werr; err != nil {
		t.Fatalf("workload: %v", err)
	}
	if len(fresh) == 0 {
		t.Fatalf("no kill landed while a write with a new change, confirmed by the slot, waited for Elasticsearch; daemon logs:\n%s", d.log())
	}
	t.Logf("workload done at %.1f s: %v; table has %d rows", time.Since(began).Seconds(), wl.counts, len(readItems(t, db)))

	// Caught up: the index equals the table and the sink's group has
	// committed every record of the topic.
	caughtUp := time.Now()
	want, got := rig.waitEqual(ctx, d, catchUpIn)
	if got, err = index.docs(ctx, "id"); err != nil {
		t.Fatal(err)
	}
	if diffs := diffIndex(want, got); len(diffs) > 0 || len(got) != len(want) {
		t.Fatalf("the index changed after the sink caught up: %d rows, %d documents:\n%s", len(want), len(got), strings.Join(diffs, "\n"))
	}
	t.Logf("caught up %.1f s after the workload: table %d rows, index %d documents, equal field by field", time.Since(caughtUp).Seconds(), len(want), len(got))

	// The index equals the table, so every held write is in it, or was
	// overwritten by a later change. Those still the row's last change
	// (the document at the held version, or a held delete) are there only
	// because the sink replayed them after the restart; there must be some.
	final := 0
	for _, a := range fresh {
		doc, ok := got[a.id]
		switch {
		case a.op == "delete" && !ok, ok && doc.version == a.version:
			final++
		case ok && doc.version < a.version:
			t.Errorf("held %s of %s (version %d) was not replayed: the document is at version %d", a.op, a.id, a.version, doc.version)
		}
	}
	t.Logf("%d writes were in flight and unacknowledged at a kill; the index holds %d of them only because they were replayed (the row's last change)", len(fresh), final)
	if final == 0 {
		t.Fatal("no held write is a row's last change: the kills did not test replay")
	}
	t.Logf("bulk requests forwarded to Elasticsearch: %d", holder.bulks.Load())

	for _, c := range []string{"source", rig.sink} {
		d.waitFor(c+" RUNNING", func() bool {
			_, b := d.call("GET", "/connectors/"+c+"/status", "")
			return strings.Contains(b, `"state":"RUNNING"`) && !strings.Contains(b, `"FAILED"`)
		})
	}
	d.terminate(10 * time.Second)
}

// kill9 kills the daemon with SIGKILL and waits for it to be gone.
func (d *daemonProc) kill9() {
	d.t.Helper()
	if err := d.cmd.Process.Kill(); err != nil {
		d.t.Fatalf("kill -9 the daemon: %v", err)
	}
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		d.t.Fatal("the daemon is still running 10 s after SIGKILL")
	}
}

// waitConfirmed waits until slot's confirmed flush position reaches the
// current end of the WAL, at most d, and says whether it did.
func waitConfirmed(t *testing.T, conn *pgx.Conn, slot string, d time.Duration) bool {
	t.Helper()
	ctx := context.Background()
	var end string
	if err := conn.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&end); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var done bool
		err := conn.QueryRow(ctx, "SELECT coalesce(confirmed_flush_lsn >= $2::pg_lsn, false) FROM pg_replication_slots WHERE slot_name = $1", slot, end).Scan(&done)
		if err != nil {
			t.Fatalf("read the confirmed position of slot %s: %v", slot, err)
		}
		if done {
			return true
		}
	}
	return false
}

// actionIDs returns the integer ids of actions.
func actionIDs(t *testing.T, actions []bulkAction) []int {
	t.Helper()
	var ids []int
	for _, a := range actions {
		id, err := strconv.Atoi(a.id)
		if err != nil {
			t.Fatalf("bulk action %s of document %q: the id is not an items id", a.op, a.id)
		}
		ids = append(ids, id)
	}
	return ids
}

// readItems returns the rows of items as the documents the sink writes for
// them, by id: every column, numbers as JSON decodes them.
func readItems(t *testing.T, db *database) map[string]map[string]any {
	t.Helper()
	rows, err := db.conn.Query(context.Background(), "SELECT "+strings.Join(itemsColumns, ", ")+" FROM items")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]map[string]any{}
	for rows.Next() {
		var (
			id, rev   int32
			n         int64
			name      string
			flag      bool
			score     float64
			note, big *string
		)
		if err := rows.Scan(&id, &n, &name, &flag, &score, &note, &big, &rev); err != nil {
			t.Fatal(err)
		}
		doc := map[string]any{"id": float64(id), "n": float64(n), "name": name, "flag": flag, "score": score, "note": nil, "big": nil, "rev": float64(rev)}
		if note != nil {
			doc["note"] = *note
		}
		if big != nil {
			doc["big"] = *big
		}
		out[strconv.Itoa(int(id))] = doc
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// diffIndex lists how the index differs from want, by document id.
func diffIndex(want map[string]map[string]any, got map[string]esDoc) []string {
	var out []string
	for id, w := range want {
		g, ok := got[id]
		switch {
		case !ok:
			out = append(out, "missing from the index: "+id)
		case !reflect.DeepEqual(g.source, w):
			keys := maps.Clone(w)
			maps.Copy(keys, g.source)
			var fields []string
			for _, k := range slices.Sorted(maps.Keys(keys)) {
				if !reflect.DeepEqual(w[k], g.source[k]) {
					fields = append(fields, fmt.Sprintf("%s: index %s, table %s", k, short(g.source[k]), short(w[k])))
				}
			}
			out = append(out, fmt.Sprintf("document %s (version %d) differs: %s", id, g.version, strings.Join(fields, "; ")))
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			out = append(out, "in the index, not in the table: "+id)
		}
	}
	sort.Strings(out)
	return out
}

// short formats a value, cut to 60 characters.
func short(v any) string {
	s := fmt.Sprint(v)
	if f, ok := v.(float64); ok {
		s = strconv.FormatFloat(f, 'f', -1, 64)
	}
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

// groupLag returns how many records of the group's topics it has not
// committed; -1 when it cannot tell.
func groupLag(t *testing.T, cl *kgo.Client, group string) int64 {
	t.Helper()
	lags, err := kadm.NewClient(cl).Lag(context.Background(), group)
	if err != nil {
		t.Logf("lag of group %s: %v", group, err)
		return -1
	}
	l, ok := lags[group]
	if !ok || l.Error() != nil {
		t.Logf("lag of group %s: %v", group, l.Error())
		return -1
	}
	return l.Lag.Total()
}

// dropGroupAndIndex deletes the group, with the members a daemon killed by
// an earlier failure left in it, and the index.
func dropGroupAndIndex(t *testing.T, cl *kgo.Client, group string, index esIndex) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	adm := kadm.NewClient(cl)
	if _, err := evictMembers(ctx, cl, group); err != nil {
		t.Logf("%v", err)
	}
	if _, err := adm.DeleteGroup(ctx, group); err != nil {
		t.Logf("delete group %s: %v", group, err)
	}
	if err := index.remove(ctx); err != nil {
		t.Logf("%v", err)
	}
}
