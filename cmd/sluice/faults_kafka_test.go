package main

import (
	"syscall"
	"testing"
	"time"
)

// TestFaultKafkaBroker harms a private Kafka broker under a steady
// Postgres workload: killed with SIGKILL and started again 20 s later (the
// long form only), then frozen with SIGSTOP for longer than the producer's
// request timeout (20 s) and thawed. The source waits and resumes each
// time: nothing is lost and order per key holds; the replays of a
// restarted source are allowed.
func TestFaultKafkaBroker(t *testing.T) {
	priv := startPrivate(t, "kafka")
	r := newFaultRig(t, onPostgres, rigOptions{brokers: []string{priv.Env("SLUICE_TEST_KAFKA_BROKERS")}})
	d := r.start()
	r.waitState("RUNNING", 60*time.Second)
	from := r.writer.Next()
	stopWriter := r.writer.Start(t.Context(), 100)
	time.Sleep(2 * time.Second)

	if faultsLong() { // a broker start takes half a minute or more: the long form only
		killedAt := time.Now()
		priv.Kill("kafka")
		time.Sleep(20 * time.Second)
		priv.Start("kafka")
		back, mark := time.Now(), r.writer.Next()
		killed := r.recovered(mark, back, 3*time.Minute)
		t.Logf("broker killed, down %v, changes flowing again %v after it was back", back.Sub(killedAt).Round(time.Second), killed.Round(time.Millisecond))
	}

	frozen := byLength(22*time.Second, 60*time.Second)
	priv.Signal("kafka", syscall.SIGSTOP)
	time.Sleep(frozen)
	priv.Signal("kafka", syscall.SIGCONT)
	back, mark := time.Now(), r.writer.Next()
	thawed := r.recovered(mark, back, 3*time.Minute)
	t.Logf("broker frozen %v, changes flowing again %v after SIGCONT; source %s", frozen, thawed.Round(time.Millisecond), r.state())

	time.Sleep(time.Second)
	if err := stopWriter(); err != nil {
		t.Fatalf("workload: %v", err)
	}
	rep, took := r.verify(from, true)
	t.Logf("%d transactions; %s; caught up %v after the workload", r.writer.Transactions(), rep, took.Round(time.Millisecond))
	d.terminate(20 * time.Second)
}
