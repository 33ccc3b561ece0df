package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-cdc/sluice/bench/internal/figures"
	"github.com/sluice-cdc/sluice/bench/internal/pipeline"
	"github.com/sluice-cdc/sluice/bench/internal/procstat"
	"github.com/sluice-cdc/sluice/bench/internal/schedule"
)

// The steady load's mix, in percent of the rows changed.
const (
	insertPercent = 50
	updatePercent = 35 // the rest are deletes
)

// runSteady streams a fixed rate of inserts, updates and deletes through
// sluice and measures the latency from each commit to the Kafka append.
func runSteady(ctx context.Context, o options, run int) (result, error) {
	var r result
	if o.rate <= 0 || o.txRows <= 0 || o.duration <= 0 {
		return r, fmt.Errorf("-rate, -tx-rows and -duration must be positive")
	}
	e, err := newRunEnv(ctx, o, "steady")
	if err != nil {
		return r, err
	}
	defer e.close()
	// Rows to update and delete; written before the slot exists, so not captured.
	if err := writeRows(ctx, e.db, 1, int64(o.prefill)+1, 10_000); err != nil {
		return r, err
	}
	c, err := startChild(ctx, o, e, figures.RunFile(o.cpuProfile, run))
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
	logf(o, "run %d: %d rows/s for %s", run, o.rate, o.duration)
	w := &writer{db: e.db, lo: 1, hi: int64(o.prefill) + 1, rng: rand.New(rand.NewPCG(uint64(run), 7))}
	broker := procstat.Listener(e.kafka.Brokers[0])
	brokerBase := procstat.CPUSince(broker, 0)
	start := time.Now()
	if err := w.run(ctx, o, c); err != nil {
		c.Kill()
		return r, err
	}
	r.WallSeconds = time.Since(start).Seconds()
	want := w.inserts + w.updates + 2*w.deletes // a tombstone follows each delete
	_, err = e.waitRecords(ctx, o, c, want, 30*time.Second)
	walsenderCPU := ws.Finish()
	r.BrokerCPU = procstat.CPUSince(broker, brokerBase).Seconds()
	if err != nil {
		c.Kill()
		return r, err
	}
	cpu, rss, err := c.Stop()
	if err != nil {
		return r, err
	}
	records, lat, err := e.latencies(ctx, start.Add(o.warmup))
	if err != nil {
		return r, err
	}
	if o.latencyFile != "" {
		if err := lat.WriteCSV(figures.RunFile(o.latencyFile, run)); err != nil {
			return r, err
		}
	}
	if records != want {
		return r, fmt.Errorf("topic %s holds %d records, want %d", e.topic, records, want)
	}
	r.TargetRate = float64(o.rate)
	r.Rows = float64(w.inserts + w.updates + w.deletes)
	r.Records = float64(want)
	r.CPUSeconds = cpu.Seconds()
	r.PeakRSSMB = float64(rss) / (1 << 20)
	r.WalsenderCPU = walsenderCPU.Seconds()
	r.LatencySamples = float64(lat.Len())
	r.LatencyP50, r.LatencyP99, r.LatencyMax = lat.Quantile(0.50), lat.Quantile(0.99), lat.Quantile(1)
	r.derive()
	return r, nil
}

// writer changes rows at a fixed rate: transactions of -tx-rows changes,
// started on a fixed schedule (a late transaction does not shift the ones
// after it). Live ids are [lo, hi): inserts take hi, deletes take lo,
// updates pick one at random, so every change hits a row.
type writer struct {
	db     *pgx.Conn
	lo, hi int64
	rng    *rand.Rand

	inserts, updates, deletes int64
}

func (w *writer) run(ctx context.Context, o options, c *pipeline.Child) error {
	return schedule.Run(ctx, time.Now(), schedule.Interval(o.rate, o.txRows), o.duration, func(time.Time) error {
		if err := c.Failed(); err != nil {
			return err
		}
		return w.transaction(ctx, o.txRows)
	})
}

// transaction commits n changes in one transaction: a pipelined batch is one
// implicit transaction.
func (w *writer) transaction(ctx context.Context, n int) error {
	b := &pgx.Batch{}
	now := time.Now()
	for range n {
		p := w.rng.IntN(100)
		switch {
		case p < insertPercent || w.hi-w.lo < 2:
			b.Queue("INSERT INTO public.rows (id, a, b, c, d, ts, txt) VALUES ($1, $2, $3, $4, $5, $6, $7)", rowValues(w.hi, 0, now)...)
			w.hi++
			w.inserts++
		case p < insertPercent+updatePercent:
			id := w.lo + w.rng.Int64N(w.hi-w.lo)
			v := int(w.updates%1000) + 1
			b.Queue("UPDATE public.rows SET b = $2, ts = $3, txt = $4 WHERE id = $1", id, int32(v), now, text(id, v))
			w.updates++
		default:
			b.Queue("DELETE FROM public.rows WHERE id = $1", w.lo)
			w.lo++
			w.deletes++
		}
	}
	if err := w.db.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("write a transaction of %d changes: %w", n, err)
	}
	return nil
}
