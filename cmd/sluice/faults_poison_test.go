package main

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestFaultRecordTooLarge commits, between two runs of the workload, a row
// whose record is larger than the producer may send
// (producer.override.max.request.size 64 KiB, the topic sluice creates
// allowing as much). By default the source FAILS with an error saying what
// to change, nothing after the row is produced, and it stays FAILED rather
// than restarting into the same row. With errors.tolerance=all the record
// is skipped and logged, as Kafka Connect's source tasks skip records they
// cannot produce, and every change around it is delivered exactly once.
func TestFaultRecordTooLarge(t *testing.T) {
	const bigKey = 1_000_000_000
	for _, tolerance := range []string{"none", "all"} {
		t.Run("errors.tolerance="+tolerance, func(t *testing.T) {
			r := newFaultRig(t, onPostgres, rigOptions{keys: map[string]string{
				"producer.override.max.request.size": "65536", "errors.tolerance": tolerance}})
			d := r.start()
			r.waitState("RUNNING", 60*time.Second)
			from := r.writer.Next()
			r.steps(10)
			r.pg.exec(t, "INSERT INTO items (id, seq, v) VALUES (1000000000, 0, repeat('x', 200000))")
			r.steps(10)

			if tolerance == "all" {
				rep, _ := r.verify(from, false)
				for _, e := range r.events() {
					if e.Key == bigKey {
						t.Fatalf("%s: the row too large to produce was delivered", e.At)
					}
				}
				if !strings.Contains(d.log(), `"msg":"skipped a record too large to produce (errors.tolerance=all)"`) {
					t.Fatalf("no log line for the skipped record; logs:\n%s", d.log())
				}
				t.Logf("the large record skipped and logged; %s", rep)
				d.terminate(20 * time.Second)
				return
			}
			took := r.waitState("FAILED", 60*time.Second)
			_, status := d.call("GET", "/connectors/source/status", "")
			want := regexp.MustCompile(`produce to topic \\"` + regexp.QuoteMeta(r.topic) + `\\": a record of [0-9]+ bytes is larger than producer.override.max.request.size \(65536 bytes\) allows: MESSAGE_TOO_LARGE.*` +
				`Nothing after it is acknowledged; raise producer.override.max.request.size and the topic's max.message.bytes, leave the large columns out \(column.exclude.list\), ` +
				`or set errors.tolerance=all to skip records too large to produce`)
			if !want.MatchString(status) {
				t.Fatalf("status after the large row: %s\nwant a trace matching %s", status, want)
			}
			time.Sleep(2 * time.Second)
			if s := r.state(); s != "FAILED" {
				t.Fatalf("source %s 2 s after it failed, want it to stay FAILED", s)
			}
			for _, e := range r.events() {
				if e.Key == bigKey {
					t.Fatalf("%s: the row too large to produce was produced", e.At)
				}
			}
			// Changes after it may have been produced before the refusal
			// came back, but none was acknowledged: restarted, the source
			// reads the large row again and fails the same way.
			d.expect("POST", "/connectors/source/restart", "", 204, "")
			for deadline := time.Now().Add(60 * time.Second); d.logCount("connector failed; it stays FAILED until restarted") < 2; time.Sleep(50 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("restarted, the source did not fail on the large row again; logs:\n%s", d.log())
				}
			}
			if _, again := d.call("GET", "/connectors/source/status", ""); !want.MatchString(again) {
				t.Fatalf("status after the restart: %s\nwant a trace matching %s", again, want)
			}
			t.Logf("FAILED %v after the large row, naming what to change; restarted, FAILED again on it", took.Round(time.Millisecond))
			d.terminate(20 * time.Second)
		})
	}
}
