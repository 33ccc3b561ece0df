package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-cdc/sluice/bench/internal/figures"
	"github.com/sluice-cdc/sluice/bench/internal/rowgen"
	"github.com/sluice-cdc/sluice/internal/procstat"
	"github.com/sluice-cdc/sluice/schema/event"
)

// runSteady streams a fixed rate of inserts, updates and deletes through
// sluice and measures the latency from each commit to the Kafka append.
func (o *options) runSteady(ctx context.Context, run int) (result, error) {
	var r result
	if err := o.CheckSteady(); err != nil {
		return r, err
	}
	e, err := newRunEnv(ctx, o, "steady")
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
	w := &writer{db: e.db, mix: rowgen.NewMix(run, o.Prefill)}
	window := e.Measure(c, ws)
	start := time.Now()
	if err := o.Load(ctx, c, start, func(n int) error { return w.transaction(ctx, n) }); err != nil {
		c.Kill()
		return r, err
	}
	r.WallSeconds = time.Since(start).Seconds()
	want := w.mix.Records()
	cpu, err := window.Caught(ctx, &r.Figures, want)
	r.WalsenderCPU, r.BrokerCPU = cpu.Database, cpu.Broker
	if err != nil {
		return r, err
	}
	// The commit time is the one the WAL's BEGIN carries.
	lat, err := e.Latencies(ctx, run, start, want, func(ev *event.Event, _ *event.Schema) (int64, error) {
		return ev.Source.TsMillis(), nil
	})
	if err != nil {
		return r, err
	}
	r.TargetRate = float64(o.Rate)
	r.Rows = float64(w.mix.Changes())
	r.Records = float64(want)
	r.Latency.Set(lat)
	r.derive()
	return r, nil
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
