package main

import (
	"math/rand/v2"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/testenv"
	"github.com/sluice-cdc/sluice/testenv/faults"
)

// TestFaultPostgresNetworkCut puts a TCP proxy the test controls between
// the daemon and Postgres, and cuts every connection through it at random
// moments — the first while the initial snapshot reads, the others while
// transactions of several rows stream — refusing new ones for a while
// each time. The source reconnects and resumes from its confirmed
// position: nothing is lost, order per key holds, and the snapshot's rows
// and the stream's changes end as the table.
func TestFaultPostgresNetworkCut(t *testing.T) {
	pgURL, err := url.Parse(testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := faults.NewProxy(t, pgURL.Host)
	r := newFaultRig(t, onPostgres, rigOptions{keys: map[string]string{
		"database.hostname": "127.0.0.1", "database.port": proxy.Port(), "snapshot.fetch.size": "50"}})
	r.steps(byLength(300, 3000))
	d := r.start()
	r.waitState("RUNNING", 60*time.Second)
	from := r.writer.Next()
	stopWriter := r.writer.Start(t.Context(), 150)
	var slowest time.Duration
	cuts := byLength(3, 20)
	for i := range cuts {
		if i > 0 {
			time.Sleep(500*time.Millisecond + rand.N(1500*time.Millisecond))
		}
		n := proxy.Cut(true)
		time.Sleep(rand.N(2 * time.Second))
		proxy.Restore()
		back, mark := time.Now(), r.writer.Next()
		took := r.recovered(mark, back, 2*time.Minute)
		slowest = max(slowest, took)
		t.Logf("cut %d: %d connections; changes flowing again %v after the network was back", i+1, n, took.Round(time.Millisecond))
	}
	if err := stopWriter(); err != nil {
		t.Fatalf("workload: %v", err)
	}
	rep, took := r.verify(from, true)
	t.Logf("%d cuts, %d transactions; %s; slowest recovery %v; caught up %v after the workload; replayed by key: %s",
		cuts, r.writer.Transactions(), rep, slowest.Round(time.Millisecond), took.Round(time.Millisecond), r.verifyState())
	d.terminate(20 * time.Second)
}

// TestFaultPostgresSlotDropped drops the source's replication slot behind
// its back while it streams: the connector FAILS, naming the slot, the
// position it had reached and what to do, and stays FAILED — it never
// creates a new slot and streams on as if nothing was skipped.
func TestFaultPostgresSlotDropped(t *testing.T) {
	r := newFaultRig(t, onPostgres, rigOptions{})
	d := r.start()
	r.waitState("RUNNING", 60*time.Second)
	from := r.writer.Next()
	r.steps(20)
	r.verify(from, false)

	admin := r.pg.conn
	dropped := time.Now()
	for {
		// The source reconnects at once: terminate its walsender and drop
		// the slot until the drop wins.
		_, err := admin.Exec(t.Context(), `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL`, r.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err = admin.Exec(t.Context(), `SELECT pg_drop_replication_slot($1)`, r.name); err == nil {
			break
		}
		if time.Since(dropped) > 30*time.Second {
			t.Fatalf("drop the slot: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.steps(5)
	took := r.waitState("FAILED", 60*time.Second)
	_, status := d.call("GET", "/connectors/source/status", "")
	want := regexp.MustCompile(`the streaming position is lost: slot \\"` + r.name + `\\" no longer exists although streaming had reached [0-9A-F]+/[0-9A-F]+; ` +
		`changes since may be lost. To take a new snapshot, reset the connector's offsets or set snapshot.mode=when_needed`)
	if !want.MatchString(status) {
		t.Fatalf("status after the slot was dropped: %s\nwant a trace matching %s", status, want)
	}
	time.Sleep(2 * time.Second)
	var slots int
	if err := admin.QueryRow(t.Context(), `SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1`, r.name).Scan(&slots); err != nil || slots != 0 {
		t.Fatalf("%d slots named %s after the failure (%v): the source made a new one", slots, r.name, err)
	}
	if s := r.state(); s != "FAILED" {
		t.Fatalf("source %s 2 s after it failed, want it to stay FAILED", s)
	}
	t.Logf("FAILED %v after the slot was dropped, with the error naming it", took.Round(time.Millisecond))
	d.terminate(20 * time.Second)
}
