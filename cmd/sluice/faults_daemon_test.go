package main

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/testenv/mysqltest"
)

// TestFaultSIGTERMUnderLoad stops the daemon with SIGTERM at random
// moments under a steady workload of multi-row transactions and starts it
// again: a clean stop drains and acknowledges what it read, so the topic
// holds every change exactly once, in order per key.
func TestFaultSIGTERMUnderLoad(t *testing.T) {
	for _, src := range []faultSource{onPostgres, onMariaDB} {
		t.Run(src.String(), func(t *testing.T) {
			restartUnderLoad(t, src, byLength(3, 20), false)
		})
	}
}

// TestFaultKill9UnderLoad kills the daemon with SIGKILL at random moments
// (a few times in the short form, 50 in make faults) under a steady
// workload of multi-row transactions and starts it again: nothing is
// lost and order per key holds; changes read but not yet acknowledged
// when it died are delivered again.
func TestFaultKill9UnderLoad(t *testing.T) {
	for _, src := range []faultSource{onPostgres, onMariaDB} {
		t.Run(src.String(), func(t *testing.T) {
			restartUnderLoad(t, src, byLength(3, 50), true)
		})
	}
}

// restartUnderLoad stops the daemon times times, killing it when kill
// says so, each a random 0.3 to 1.5 s after it was running again.
func restartUnderLoad(t *testing.T, src faultSource, times int, kill bool) {
	r := newFaultRig(t, src, rigOptions{})
	d := r.start()
	r.waitState("RUNNING", 60*time.Second)
	from := r.writer.Next()
	stopWriter := r.writer.Start(t.Context(), 150)
	var slowest, total time.Duration
	for i := range times {
		time.Sleep(300*time.Millisecond + rand.N(1200*time.Millisecond))
		down := time.Now()
		if kill {
			d.kill9()
		} else {
			d.terminate(20 * time.Second)
		}
		d = r.start()
		r.waitState("RUNNING", 60*time.Second)
		took := time.Since(down)
		slowest, total = max(slowest, took), total+took
		if testing.Verbose() && (i < 3 || (i+1)%10 == 0) {
			t.Logf("stop %d: RUNNING again %v after it", i+1, took.Round(time.Millisecond))
		}
	}
	time.Sleep(500 * time.Millisecond)
	if err := stopWriter(); err != nil {
		t.Fatalf("workload: %v", err)
	}
	rep, took := r.verify(from, kill)
	t.Logf("%d stops (kill -9: %v), %d transactions; %s; back to RUNNING in %v on average, %v at most; caught up %v after the workload",
		times, kill, r.writer.Transactions(), rep, (total / time.Duration(times)).Round(time.Millisecond), slowest.Round(time.Millisecond), took.Round(time.Millisecond))
	d.terminate(20 * time.Second)
}

// TestFaultKill9AfterIdle lets a source sit idle — its tables quiet while
// the database writes to a table it does not capture — for 5 s (2 min in
// make faults), kills the daemon with SIGKILL, commits changes while it is
// down, and starts it again: the position the source confirmed while idle
// (on Postgres the slot moves past the uncaptured writes, so that WAL is
// not held back) skips nothing, and as it was stored a second after the
// last change, nothing is replayed either: every change arrives once, in
// order per key.
func TestFaultKill9AfterIdle(t *testing.T) {
	for _, src := range []faultSource{onPostgres, onMariaDB} {
		t.Run(src.String(), func(t *testing.T) {
			r := newFaultRig(t, src, rigOptions{})
			d, from := r.streamSome()

			idle := byLength(5*time.Second, 2*time.Minute)
			other := r.uncapturedWriter(t)
			began := time.Now()
			for time.Since(began) < idle {
				other()
				time.Sleep(500 * time.Millisecond)
			}
			moved := ""
			if src == onPostgres {
				moved = "; the slot confirmed past the uncaptured writes " + r.slotCaughtUp(30*time.Second).Round(time.Millisecond).String() + " after the last"
			}
			d.kill9()
			mark := r.writer.Next()
			r.steps(20)
			d = r.start()
			r.waitState("RUNNING", 60*time.Second)
			rep, took := r.verify(from, false)
			t.Logf("idle %v%s; killed; %d changes committed while down; %s; caught up %v after the restart",
				idle, moved, r.writer.Next()-mark, rep, took.Round(time.Millisecond))
			d.terminate(20 * time.Second)
		})
	}
}

// uncapturedWriter creates a table in the rig's database that the source
// does not capture and returns a function committing a row to it.
func (r *faultRig) uncapturedWriter(t *testing.T) func() {
	t.Helper()
	if r.pg != nil {
		r.pg.exec(t, "CREATE TABLE other (id serial PRIMARY KEY, v text)")
		return func() { r.pg.exec(t, "INSERT INTO other (v) VALUES (repeat('x', 200))") }
	}
	admin := mysqltest.Connect(t)
	mysqltest.Exec(t, admin, "CREATE TABLE "+r.name+".other (id int AUTO_INCREMENT PRIMARY KEY, v text)")
	return func() { mysqltest.Exec(t, admin, "INSERT INTO "+r.name+".other (v) VALUES (repeat('x', 200))") }
}

// slotCaughtUp waits until the Postgres slot's confirmed position reaches
// the server's current WAL position and returns how long that took.
func (r *faultRig) slotCaughtUp(within time.Duration) time.Duration {
	r.t.Helper()
	ctx := r.t.Context()
	var target string
	if err := r.pg.conn.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&target); err != nil {
		r.t.Fatal(err)
	}
	began := time.Now()
	for {
		var caught bool
		err := r.pg.conn.QueryRow(ctx, "SELECT confirmed_flush_lsn >= $2::pg_lsn FROM pg_replication_slots WHERE slot_name = $1", r.name, target).Scan(&caught)
		if err != nil {
			r.t.Fatal(err)
		}
		if caught {
			return time.Since(began)
		}
		if time.Since(began) > within {
			r.t.Fatalf("slot %s not confirmed up to %s %v after the last write", r.name, target, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
