package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-cdc/sluice/bench/internal/figures"
	"github.com/sluice-cdc/sluice/bench/internal/rowgen"
	"github.com/sluice-cdc/sluice/bench/internal/sourcebench"
	"github.com/sluice-cdc/sluice/internal/procstat"
)

// runSteady streams a fixed rate of inserts, updates and deletes through
// sluice and measures the latency from each commit to the Kafka append;
// with -debezium, the same load again through each of Debezium's
// connectors in turn.
func (o *options) runSteady(ctx context.Context, run int) (result, error) {
	var r result
	if err := o.CheckSteady(); err != nil {
		return r, err
	}
	e, err := newRunEnv(ctx, o, "steady", run)
	if err != nil {
		return r, err
	}
	defer e.close()
	// Rows to update and delete; written before the slot exists, so not captured.
	if err := o.shape.writeRows(ctx, e.db, 1, int64(o.Prefill)+1, 10_000); err != nil {
		return r, err
	}
	c, err := e.StartChild(ctx, figures.RunFile(o.CPUProfile, run))
	if err != nil {
		return r, err
	}
	pid, err := e.waitSlotActive(ctx, c)
	if err != nil {
		c.Kill()
		return r, err
	}
	ws := procstat.Sample(pid)

	// The test server runs with synchronous_commit=off, where a commit's WAL
	// is flushed (and so decoded) only at the WAL writer's next round, up to
	// wal_writer_delay later. Production commits flush: the writer does too.
	if _, err := e.db.Exec(ctx, "SET synchronous_commit = on"); err != nil {
		c.Kill()
		return r, fmt.Errorf("set synchronous_commit: %w", err)
	}
	o.Logf("run %d: %d rows/s for %s", run, o.Rate, o.Duration)
	window := e.Measure(c, ws)
	start := time.Now()
	loaded, err := o.load(ctx, e, run, c.Failed, start)
	if err != nil {
		c.Kill()
		return r, err
	}
	r.WallSeconds = time.Since(start).Seconds()
	cpu, err := window.Caught(ctx, &r.Figures, loaded.Records)
	r.WalsenderCPU, r.BrokerCPU = cpu.Database, cpu.Broker
	if err != nil {
		return r, err
	}
	lat, err := e.Latencies(ctx, run, start, loaded.Records, loaded.Commit)
	if err != nil {
		return r, err
	}
	r.TargetRate = float64(o.Rate)
	r.Rows = float64(loaded.Changes)
	r.Records = float64(loaded.Records)
	r.Latency.Set(lat)
	r.derive()
	if e.workers != nil {
		err = e.SteadyDebezium(ctx, run, e.workers, e.dbz, sourcebench.DebeziumLoad{
			Reset: func(ctx context.Context) error {
				if _, err := e.db.Exec(ctx, "TRUNCATE public.rows, public.marker"); err != nil {
					return err
				}
				return o.shape.writeRows(ctx, e.db, 1, int64(o.Prefill)+1, 10_000)
			},
			Mark: func(n int) error {
				_, err := e.db.Exec(ctx, "INSERT INTO public.marker VALUES ($1)", n)
				return err
			},
			Load: func(ctx context.Context, failed func() error, start time.Time) (sourcebench.Loaded, error) {
				return o.load(ctx, e, run, failed, start)
			},
		}, &r.Debezium, r.LatencyP99)
	}
	return r, err
}

// load commits run's steady load (the same changes in every call) from
// start on the run's database, checking failed before each transaction.
// A change's commit time is the one its record's source.ts_ms holds: the
// WAL's BEGIN.
func (o *options) load(ctx context.Context, e *runEnv, run int, failed func() error, start time.Time) (sourcebench.Loaded, error) {
	w := &writer{db: e.db, mix: rowgen.NewMix(run, o.Prefill)}
	err := o.Load(ctx, failed, start, func(n int) error { return w.transaction(ctx, n) })
	return sourcebench.Loaded{Changes: w.mix.Changes(), Records: w.mix.Records(),
		Commit: func(c *sourcebench.Change) (int64, error) { return c.TsMillis, nil }}, err
}

// writer commits the changes of a rowgen.Mix.
type writer struct {
	db  *pgx.Conn
	mix *rowgen.Mix
}

// transaction commits n changes in one transaction: a pipelined batch is one
// implicit transaction.
func (w *writer) transaction(ctx context.Context, n int) error {
	b := &pgx.Batch{}
	now := time.Now()
	for range n {
		switch op, id := w.mix.Next(); op {
		case rowgen.Insert:
			b.Queue("INSERT INTO public.rows (id, a, b, c, d, ts, txt) VALUES ($1, $2, $3, $4, $5, $6, $7)", shapes["narrow"].values(id, 0, now)...)
		case rowgen.Update:
			v := int((w.mix.Updates-1)%1000) + 1
			b.Queue("UPDATE public.rows SET b = $2, ts = $3, txt = $4 WHERE id = $1", id, int32(v), now, rowgen.Text(id, v))
		default:
			b.Queue("DELETE FROM public.rows WHERE id = $1", id)
		}
	}
	if err := w.db.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("write a transaction of %d changes: %w", n, err)
	}
	return nil
}
