package main

import (
	"math/rand/v2"
	"testing"
	"time"
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
