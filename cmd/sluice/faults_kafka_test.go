package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/internal/procstat"
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
	d, from, stopWriter := r.startUnderLoad(100)

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

// TestFaultBackPressure freezes a private Kafka broker (SIGSTOP) for 30 s
// (3 min in make faults) while Postgres commits about 150 MB of rows to a
// captured table besides the workload's. The source cannot write, so it
// must stop reading: the WAL waits in Postgres (the slot's unconfirmed
// WAL grows past what was committed during the freeze, less the few MB a
// source buffers) and the daemon's resident memory stays under 256 MB
// throughout. Thawed, everything arrives, nothing missing.
func TestFaultBackPressure(t *testing.T) {
	priv := startPrivate(t, "kafka")
	r := newFaultRig(t, onPostgres, rigOptions{brokers: []string{priv.Env("SLUICE_TEST_KAFKA_BROKERS")},
		keys: map[string]string{"table.include.list": "public.items,public.ballast"}})
	r.pg.exec(t, "CREATE TABLE ballast (id bigserial PRIMARY KEY, pad text NOT NULL)")
	d := r.start()
	r.waitState("RUNNING", 60*time.Second)
	// The ballast table's schemas are registered before the broker, which
	// holds the registry's topic, freezes.
	r.pg.exec(t, "INSERT INTO ballast (pad) VALUES ('first')")
	from := r.writer.Next()
	stopWriter := r.writer.Start(t.Context(), 100)
	time.Sleep(2 * time.Second)

	const rssBound = 256 << 20
	frozen := byLength(30*time.Second, 3*time.Minute)
	priv.Signal("kafka", syscall.SIGSTOP)
	began := time.Now()
	var ballast int64
	for time.Since(began) < frozen {
		if ballast < 150<<20 {
			// 1,500 rows of 2 kB of incompressible text: 3 MB a statement.
			r.pg.exec(t, "INSERT INTO ballast (pad) SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 1500) r, generate_series(1, 64) c GROUP BY r")
			ballast += 1500 * 2048
		}
		time.Sleep(200 * time.Millisecond)
	}
	var retained int64
	if err := r.pg.conn.QueryRow(t.Context(), "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint FROM pg_replication_slots WHERE slot_name = $1", r.name).Scan(&retained); err != nil {
		t.Fatal(err)
	}
	priv.Signal("kafka", syscall.SIGCONT)
	back, mark := time.Now(), r.writer.Next()
	thawed := r.recovered(mark, back, 3*time.Minute)
	_, peak, err := procstat.Memory(d.cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if peak > rssBound {
		t.Fatalf("the daemon's peak resident memory (VmHWM) reached %d MB, over the bound of %d MB", peak>>20, rssBound>>20)
	}
	if retained < ballast-(32<<20) {
		t.Fatalf("the slot held %d MB of WAL unconfirmed after %d MB of rows were committed with the broker frozen: the source read past what it could write", retained>>20, ballast>>20)
	}
	time.Sleep(time.Second)
	if err := stopWriter(); err != nil {
		t.Fatalf("workload: %v", err)
	}
	rep, _ := r.verify(from, true)
	t.Logf("broker frozen %v with %d MB of rows committed meanwhile: the slot held %d MB unconfirmed, peak RSS %d MB; changes flowing again %v after SIGCONT; %s",
		frozen, ballast>>20, retained>>20, peak>>20, thawed.Round(time.Millisecond), rep)
	d.terminate(20 * time.Second)
}

// TestFaultKafkaDiskFull runs a private Kafka broker whose log directory
// is a 256 MiB tmpfs, fills that up under a steady Postgres workload,
// keeps it full for 10 s (60 s in make faults), frees the space and, if
// the broker shut itself down (as Kafka does when its only log directory
// fails), starts it again. The source waits and resumes: nothing is
// missing, order per key holds.
func TestFaultKafkaDiskFull(t *testing.T) {
	priv := startPrivate(t, "kafka")
	data := filepath.Join(priv.Dir(), "kafka", "data")
	priv.Kill("kafka")
	onDisk := data + ".disk"
	if err := os.Rename(data, onDisk); err != nil {
		t.Fatal(err)
	}
	mountTmpfs(t, data, "256m")
	if out, err := exec.Command("cp", "-a", onDisk+"/.", data).CombinedOutput(); err != nil {
		t.Fatalf("copy the broker's storage onto the tmpfs: %v: %s", err, out)
	}
	priv.Start("kafka")

	r := newFaultRig(t, onPostgres, rigOptions{brokers: []string{priv.Env("SLUICE_TEST_KAFKA_BROKERS")}})
	d, from, stopWriter := r.startUnderLoad(100)

	filler := filepath.Join(data, "filler")
	fill(t, filler)
	full := byLength(10*time.Second, 60*time.Second)
	time.Sleep(full)
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	brokerDied := priv.Pid("kafka") == 0
	if brokerDied {
		priv.Start("kafka")
	}
	back, mark := time.Now(), r.writer.Next()
	took := r.recovered(mark, back, 3*time.Minute)
	time.Sleep(time.Second)
	if err := stopWriter(); err != nil {
		t.Fatalf("workload: %v", err)
	}
	rep, _ := r.verify(from, true)
	t.Logf("the broker's disk full for %v (the broker shut itself down: %v); changes flowing again %v after space was back; %s",
		full, brokerDied, took.Round(time.Millisecond), rep)
	d.terminate(20 * time.Second)
}
