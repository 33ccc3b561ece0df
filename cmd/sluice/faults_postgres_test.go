package main

import (
	"regexp"
	"testing"
	"time"
)

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
