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
	d := r.start()
	r.waitState("RUNNING", 60*time.Second)
	from := r.writer.Next()
	step := func(n int) {
		for range n {
			if err := r.writer.Step(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
	}
	step(20)
	r.verify(from, false)
	d.terminate(20 * time.Second)

	step(20)
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
	step(5)

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
