package main

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/schema/event"
)

// TestFaultIncompatibleSchema changes a column's type mid-stream so that
// the table's new value schema is incompatible (BACKWARD, the registry's
// default) with the one registered: the connector FAILS with the
// registry's refusal, produces nothing after it, and keeps its slot's
// position before the change. Once the subject's compatibility is NONE
// and the connector restarted, it resumes where it stopped: every change
// arrives, in order per key.
func TestFaultIncompatibleSchema(t *testing.T) {
	r := newFaultRig(t, onPostgres, rigOptions{})
	r.pg.exec(t, "ALTER TABLE items ADD COLUMN extra text")
	d := r.start()
	r.waitState("RUNNING", 60*time.Second)
	from := r.writer.Next()
	ctx := t.Context()
	r.steps(20)
	r.verify(from, false)

	r.pg.exec(t, "ALTER TABLE items ALTER COLUMN extra TYPE integer USING NULL")
	before := r.writer.Next()
	r.steps(20)
	took := r.waitState("FAILED", 60*time.Second)
	_, status := d.call("GET", "/connectors/source/status", "")
	subject := r.topic + "-value"
	want := regexp.MustCompile(`register schema .*` + regexp.QuoteMeta(subject) + `.*incompatible`)
	if !want.MatchString(status) {
		t.Fatalf("status after the incompatible change: %s\nwant a trace matching %s", status, want)
	}
	t.Logf("FAILED %v after the change", took.Round(time.Millisecond))

	// Nothing after the refused change was produced, and the slot did not
	// move past it.
	for _, e := range r.events() {
		if e.Op != 'd' && e.Seq >= before {
			t.Fatalf("%s: change %d, committed after the incompatible change, was produced", e.At, e.Seq)
		}
	}
	// The slot still holds every insert and update after the refused
	// change: a peek (once the failed connector's walsender let the slot
	// go) finds them all. Deletes are left out on both sides: a delete's
	// key-only image may be written before the refusal, as above, and the
	// slot then rightly moves past its transaction.
	// A peek decodes only the WAL flushed so far, and the test server runs
	// with synchronous_commit off: one synchronous commit flushes the
	// writer's commits before it.
	if _, err := r.pg.conn.Exec(ctx, `BEGIN; SET LOCAL synchronous_commit = on; CREATE TEMP TABLE wal_flush (); COMMIT`); err != nil {
		t.Fatal(err)
	}
	pending, required := 0, 0
	for _, c := range r.writer.Log() {
		if c.Seq >= before && c.Op != event.OpDelete {
			required++
		}
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		err := r.pg.conn.QueryRow(ctx, `SELECT count(*) FROM pg_logical_slot_peek_binary_changes($1::name, NULL, NULL, 'proto_version', '1', 'publication_names', $2::text)
			WHERE get_byte(data, 0) IN (ascii('I'), ascii('U'))`, r.name, r.name).Scan(&pending)
		if err == nil {
			break
		}
		// The failed connector's walsender may hold the slot a moment longer.
		if !strings.Contains(err.Error(), "SQLSTATE 55006") || time.Now().After(deadline) {
			t.Fatal(err)
		}
	}
	if pending < required {
		t.Fatalf("the slot holds %d inserts and updates, fewer than the %d committed after the refused schema: its position moved past changes never delivered", pending, required)
	}

	req, _ := http.NewRequest("PUT", r.reg.URL+"/config/"+subject, strings.NewReader(`{"compatibility": "NONE"}`))
	req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("PUT /config/%s: %v %v", subject, res, err)
	}
	res.Body.Close()
	d.expect("POST", "/connectors/source/restart?includeTasks=true", "", 202, "")
	back := time.Now()
	r.waitState("RUNNING", 60*time.Second)
	r.steps(20)
	// A failure is no clean stop: what the source had acknowledged since
	// its last status update (within 200 ms) may be replayed.
	rep, _ := r.verify(from, true)
	t.Logf("the slot held %d changes for the %d committed after the refusal; %s; RUNNING again and caught up in %v", pending, required, rep, time.Since(back).Round(time.Millisecond))
	d.terminate(20 * time.Second)
}
