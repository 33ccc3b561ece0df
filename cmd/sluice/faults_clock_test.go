package main

import (
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/testenv/mysqltest"
)

// libfaketime is Debian's faketime library (testenv/install.sh installs it).
const libfaketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

// TestFaultClockSkew runs a private database whose clock is an hour off —
// Postgres an hour behind, MariaDB an hour ahead, through libfaketime —
// under a steady workload, with a kill -9 of the daemon in the middle:
// commit times an hour off change nothing, since positions, not clocks,
// order every change. Nothing is missing and order per key holds.
func TestFaultClockSkew(t *testing.T) {
	for _, c := range []struct {
		src    faultSource
		offset time.Duration
	}{{onPostgres, -time.Hour}, {onMariaDB, time.Hour}} {
		t.Run(c.src.String(), func(t *testing.T) {
			faketime := "FAKETIME=+1h"
			if c.offset < 0 {
				faketime = "FAKETIME=-1h"
			}
			environ := []string{"LD_PRELOAD=" + libfaketime, faketime, "FAKETIME_DONT_FAKE_MONOTONIC=1"}
			var r *faultRig
			var dbNow time.Time
			if c.src == onPostgres {
				priv := startPrivateWith(t, environ, "pg")
				t.Setenv("SLUICE_TEST_PG_URL", priv.Env("SLUICE_TEST_PG_URL"))
				r = newFaultRig(t, c.src, rigOptions{})
				if err := r.pg.conn.QueryRow(t.Context(), "SELECT clock_timestamp()").Scan(&dbNow); err != nil {
					t.Fatal(err)
				}
			} else {
				priv := startPrivateWith(t, environ, "mysql")
				t.Setenv("SLUICE_TEST_MYSQL_DSN", priv.Env("SLUICE_TEST_MYSQL_DSN"))
				r = newFaultRig(t, c.src, rigOptions{})
				res, err := mysqltest.Connect(t).Execute("SELECT UNIX_TIMESTAMP(SYSDATE(6))")
				if err != nil {
					t.Fatal(err)
				}
				secs, _ := res.GetFloat(0, 0)
				dbNow = time.UnixMicro(int64(secs * 1e6))
			}
			skew := dbNow.Sub(time.Now())
			if d := skew - c.offset; d < -5*time.Minute || d > 5*time.Minute {
				t.Fatalf("the private database's clock is %v off, want about %v", skew.Round(time.Second), c.offset)
			}
			d, from, stopWriter := r.startUnderLoad(100)
			d.kill9()
			d = r.start()
			r.waitState("RUNNING", 60*time.Second)
			time.Sleep(2 * time.Second)
			if err := stopWriter(); err != nil {
				t.Fatalf("workload: %v", err)
			}
			rep, _ := r.verify(from, true)
			t.Logf("database clock %v off; a kill -9 in the middle; %s", skew.Round(time.Second), rep)
			d.terminate(20 * time.Second)
		})
	}
}
