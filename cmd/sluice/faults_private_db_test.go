package main

import (
	"context"
	"fmt"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-cdc/sluice/testenv/faults"
	"github.com/sluice-cdc/sluice/testenv/mysqltest"
)

// TestFaultPostgresRestart restarts a private Postgres (a fast shutdown,
// then a start) under a steady workload, several times in the long form:
// the source reconnects and resumes from its slot; nothing is lost and
// order per key holds.
func TestFaultPostgresRestart(t *testing.T) {
	priv := startPrivate(t, "pg")
	t.Setenv("SLUICE_TEST_PG_URL", priv.Env("SLUICE_TEST_PG_URL"))
	r := newFaultRig(t, onPostgres, rigOptions{})
	d := r.start()
	r.waitState("RUNNING", 60*time.Second)
	from := r.writer.Next()
	stopWriter := r.writer.Start(t.Context(), 100)
	var slowest time.Duration
	restarts := byLength(1, 5)
	for i := range restarts {
		time.Sleep(2 * time.Second)
		if err := stopWriter(); err != nil {
			t.Fatalf("workload: %v", err)
		}
		down := time.Now()
		pid := priv.Pid("pg")
		priv.Signal("pg", syscall.SIGINT) // fast shutdown
		for syscall.Kill(pid, 0) == nil {
			time.Sleep(50 * time.Millisecond)
		}
		priv.Start("pg")
		conn, err := pgx.ConnectConfig(t.Context(), r.pg.conn.Config().Copy())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(context.Background()) })
		r.writer.Use(faults.Postgres{Conn: conn})
		back, mark := time.Now(), r.writer.Next()
		stopWriter = r.writer.Start(t.Context(), 100)
		took := r.recovered(mark, back, 2*time.Minute)
		slowest = max(slowest, took)
		t.Logf("restart %d: Postgres down %v; changes flowing again %v after it was back", i+1, back.Sub(down).Round(time.Millisecond), took.Round(time.Millisecond))
	}
	time.Sleep(time.Second)
	if err := stopWriter(); err != nil {
		t.Fatalf("workload: %v", err)
	}
	rep, took := r.verify(from, true)
	t.Logf("%d restarts, %d transactions; %s; slowest recovery %v; caught up %v after the workload", restarts, r.writer.Transactions(), rep, slowest.Round(time.Millisecond), took.Round(time.Millisecond))
	d.terminate(20 * time.Second)
}

// TestFaultMariaDBBinlogsPurged purges a private MariaDB's binlogs past
// the position a stopped connector had reached: started again, it FAILS
// with the error naming the file and position and what to do, instead of
// streaming on from wherever the server now begins.
func TestFaultMariaDBBinlogsPurged(t *testing.T) {
	priv := startPrivate(t, "mysql")
	t.Setenv("SLUICE_TEST_MYSQL_DSN", priv.Env("SLUICE_TEST_MYSQL_DSN"))
	r := newFaultRig(t, onMariaDB, rigOptions{})
	d, _ := r.streamSome()
	d.terminate(20 * time.Second)

	r.steps(20)
	// MariaDB keeps a file that crash recovery may still need, so the
	// purge is repeated until only the newest file is left.
	admin := mysqltest.Connect(t)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		mysqltest.Exec(t, admin, "FLUSH BINARY LOGS")
		res, err := admin.Execute("SHOW MASTER STATUS")
		if err != nil {
			t.Fatal(err)
		}
		current, _ := res.GetString(0, 0)
		mysqltest.Exec(t, admin, fmt.Sprintf("PURGE BINARY LOGS TO '%s'", current))
		if res, err = admin.Execute("SHOW BINARY LOGS"); err != nil {
			t.Fatal(err)
		}
		if len(res.Values) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d binlog files left after PURGE BINARY LOGS TO '%s'", len(res.Values), current)
		}
	}
	r.steps(5)

	d = r.start()
	took := r.waitState("FAILED", 60*time.Second)
	_, status := d.call("GET", "/connectors/source/status", "")
	want := regexp.MustCompile(`the streaming position is lost: binlog file mysql-bin\.[0-9]+ \(position [0-9]+\) is no longer on the server; ` +
		`changes since may be lost. To take a new snapshot, reset the connector's offsets or set snapshot.mode=when_needed`)
	if !want.MatchString(status) {
		t.Fatalf("status after the binlogs were purged: %s\nwant a trace matching %s", status, want)
	}
	time.Sleep(2 * time.Second)
	if s := r.state(); s != "FAILED" {
		t.Fatalf("source %s 2 s after it failed, want it to stay FAILED", s)
	}
	t.Logf("FAILED %v after the restart, with the error naming the purged file", took.Round(time.Millisecond))
	d.terminate(20 * time.Second)
}

// TestFaultPostgresSlotInvalidated lets a private Postgres invalidate the
// slot of a stopped source (max_slot_wal_keep_size exceeded, the WAL it
// needed removed at a checkpoint): started again, the source FAILS with the
// error naming the slot, why it is lost and what to do, keeps the slot for
// the operator to look at, and never streams on from where the server now
// begins.
func TestFaultPostgresSlotInvalidated(t *testing.T) {
	priv := startPrivate(t, "pg")
	t.Setenv("SLUICE_TEST_PG_URL", priv.Env("SLUICE_TEST_PG_URL"))
	r := newFaultRig(t, onPostgres, rigOptions{})
	ctx := t.Context()
	r.pg.exec(t, "ALTER SYSTEM SET max_slot_wal_keep_size = '32MB'", "SELECT pg_reload_conf()")
	d, _ := r.streamSome()
	d.terminate(20 * time.Second)

	r.steps(5)
	walStatus := ""
	for round := 0; walStatus != "lost"; round++ {
		if round == 20 {
			t.Fatalf("slot %s still %q after 20 rounds of WAL past max_slot_wal_keep_size", r.name, walStatus)
		}
		r.pg.exec(t, "CREATE TABLE IF NOT EXISTS filler (v text)",
			"INSERT INTO filler SELECT repeat('x', 1000) FROM generate_series(1, 20000)",
			"SELECT pg_switch_wal()", "CHECKPOINT")
		if err := r.pg.conn.QueryRow(ctx, "SELECT coalesce(wal_status, '') FROM pg_replication_slots WHERE slot_name = $1", r.name).Scan(&walStatus); err != nil {
			t.Fatal(err)
		}
	}
	mark := r.writer.Next()
	r.steps(5)

	d = r.start()
	took := r.waitState("FAILED", 60*time.Second)
	_, status := d.call("GET", "/connectors/source/status", "")
	want := regexp.MustCompile(`the streaming position is lost: slot \\"` + r.name + `\\" has wal_status=lost \(the WAL it needed was removed, see max_slot_wal_keep_size\); ` +
		`changes since its position are gone. To recover, drop the slot \(SELECT pg_drop_replication_slot\('` + r.name + `'\)\), reset the connector's offsets and restart it to take a new snapshot`)
	if !want.MatchString(status) {
		t.Fatalf("status after the slot was invalidated: %s\nwant a trace matching %s", status, want)
	}
	time.Sleep(2 * time.Second)
	if s := r.state(); s != "FAILED" {
		t.Fatalf("source %s 2 s after it failed, want it to stay FAILED", s)
	}
	var slots int
	if err := r.pg.conn.QueryRow(ctx, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1 AND wal_status = 'lost'", r.name).Scan(&slots); err != nil || slots != 1 {
		t.Fatalf("%d lost slots named %s after the failure (%v), want the one the source had", slots, r.name, err)
	}
	for _, e := range r.events() {
		if e.Seq >= mark {
			t.Fatalf("%s: change %d, committed after the slot was lost, was produced", e.At, e.Seq)
		}
	}
	t.Logf("slot invalidated; FAILED %v after the restart, with the error naming it", took.Round(time.Millisecond))
	d.terminate(20 * time.Second)
}
