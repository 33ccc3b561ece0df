package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"time"

	"github.com/jackc/pglogrepl"

	"github.com/sluice-cdc/sluice/bench/internal/baseline"
	"github.com/sluice-cdc/sluice/bench/internal/figures"
	"github.com/sluice-cdc/sluice/internal/procstat"
)

// runDrain measures how fast sluice drains a backlog of -rows inserted
// rows already in the WAL, how fast pg_recvlogical reads the same WAL, and
// with -debezium how fast Debezium drains it.
func (o *options) runDrain(ctx context.Context, run int) (result, error) {
	var r result
	e, err := newRunEnv(ctx, o, "drain", run)
	if err != nil {
		return r, err
	}
	defer e.close()

	// sluice creates its slot and publication state on a first start; stop
	// it once it streams, so the backlog accumulates in its slot.
	c, err := e.StartChild(ctx, "")
	if err != nil {
		return r, err
	}
	if _, err := e.waitSlotActive(ctx, c); err != nil {
		c.Kill()
		return r, err
	}
	if _, _, err := c.Stop(); err != nil {
		return r, err
	}
	// The ceiling's slot starts at the same point.
	if _, err := e.db.Exec(ctx, "SELECT pg_create_logical_replication_slot($1, 'pgoutput')", e.rawSlot); err != nil {
		return r, fmt.Errorf("create slot %s: %w", e.rawSlot, err)
	}
	if e.workers != nil {
		o.Logf("run %d: Debezium's connectors take their positions", run)
		err := e.workers.Prepare(ctx, e.Kafka, e.dbz, func(n int) error {
			_, err := e.db.Exec(ctx, "INSERT INTO public.marker VALUES ($1)", n)
			return err
		})
		if err != nil {
			return r, err
		}
	}
	startLSN, err := currentLSN(ctx, e)
	if err != nil {
		return r, err
	}

	o.Logf("run %d: writing %d rows", run, o.Rows)
	t0 := time.Now()
	if err := o.shape.writeRows(ctx, e.db, 1, int64(o.Rows)+1, o.copyBatch); err != nil {
		return r, err
	}
	r.BacklogWriteSeconds = time.Since(t0).Seconds()
	endLSN, err := currentLSN(ctx, e)
	if err != nil {
		return r, err
	}
	r.WALMB = float64(endLSN-startLSN) / (1 << 20)
	r.Rows = float64(o.Rows)

	o.Logf("run %d: pg_recvlogical reads %.0f MiB of WAL", run, r.WALMB)
	wall, walsender, err := ceiling(ctx, o, e, endLSN)
	if err != nil {
		return r, err
	}
	r.CeilingWallSeconds, r.CeilingWalsenderCPU = wall.Seconds(), walsender.Seconds()
	if err := e.confirmedPast(ctx, e.rawSlot, endLSN); err != nil {
		return r, err
	}

	o.Logf("run %d: sluice drains the backlog", run)
	if c, err = e.StartChild(ctx, figures.RunFile(o.CPUProfile, run)); err != nil {
		return r, err
	}
	pid, err := e.waitSlotActive(ctx, c)
	if err != nil {
		c.Kill()
		return r, err
	}
	cpu, err := e.Measure(c, procstat.Sample(pid)).Drained(ctx, &r.Figures)
	r.WalsenderCPU, r.BrokerCPU = cpu.Database, cpu.Broker
	if err != nil {
		return r, err
	}
	if err := e.Producer(ctx, run, &r.Figures, &r.ProducerCeiling); err != nil {
		return r, err
	}
	r.derive()
	if e.workers != nil {
		err = e.workers.DrainAll(ctx, e.Kafka, e.dbz, int64(o.Rows), r.RowsPerSecond, &r.Debezium, func(v baseline.Variant) {
			o.Logf("run %d: Debezium %s drains the backlog", run, v)
		})
	}
	return r, err
}

// currentLSN returns the server's current WAL insert position: the end of
// every record written so far, which pg_current_wal_lsn (the write
// position) may trail by megabytes right after a backlog written with
// synchronous_commit off.
func currentLSN(ctx context.Context, e *runEnv) (pglogrepl.LSN, error) {
	var s string
	if err := e.db.QueryRow(ctx, "SELECT pg_current_wal_insert_lsn()::text").Scan(&s); err != nil {
		return 0, fmt.Errorf("read the current WAL position: %w", err)
	}
	return pglogrepl.ParseLSN(s)
}

// confirmedPast checks that the reader of slot confirmed reading up to lsn
// at least: that it did not stop before the end of the backlog.
func (e *runEnv) confirmedPast(ctx context.Context, slot string, lsn pglogrepl.LSN) error {
	var s string
	if err := e.admin.QueryRow(ctx, "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1", slot).Scan(&s); err != nil {
		return fmt.Errorf("read the confirmed position of slot %s: %w", slot, err)
	}
	confirmed, err := pglogrepl.ParseLSN(s)
	if err != nil {
		return err
	}
	if confirmed < lsn {
		return fmt.Errorf("slot %s confirmed %s, short of the backlog's end %s", slot, confirmed, lsn)
	}
	return nil
}

// ceiling reads the run's raw slot with pg_recvlogical up to endpos, with
// the pgoutput options sluice uses, into /dev/null. It returns the wall time
// from start to exit and the CPU time of the walsender that decoded for it.
func ceiling(ctx context.Context, o *options, e *runEnv, endpos pglogrepl.LSN) (time.Duration, time.Duration, error) {
	u := *e.pgURL
	pw, _ := u.User.Password()
	u.User = url.User(u.User.Username())
	cmd := exec.CommandContext(ctx, o.recvlogical, "--dbname", u.String(), "--slot", e.rawSlot, "--start",
		"--endpos", endpos.String(), "--no-loop", "--file", "/dev/null",
		"-o", "proto_version=2", "-o", "publication_names="+e.Name, "-o", "messages=true", "-o", "streaming=true")
	cmd.Env = append(os.Environ(), "PGPASSWORD="+pw)
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, fmt.Errorf("start pg_recvlogical: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	failed := func() error {
		select {
		case err := <-exited:
			exited <- err
			return fmt.Errorf("pg_recvlogical ended before reading: %v", err)
		default:
			return nil
		}
	}
	var ws *procstat.Sampler
	if pid, err := e.waitActive(ctx, e.rawSlot, failed); err == nil {
		ws = procstat.Sample(pid)
	}
	err := <-exited
	wall := time.Since(start)
	if err != nil {
		return 0, 0, fmt.Errorf("pg_recvlogical: %w", err)
	}
	if ws == nil {
		return wall, 0, nil // it finished before its walsender was seen
	}
	return wall, ws.Finish(), nil
}
