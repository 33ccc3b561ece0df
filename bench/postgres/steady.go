package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
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
	profile := o.cpuProfile
	if profile != "" && run > 1 {
		profile = fmt.Sprintf("%s.%d", profile, run)
	}
	c, err := startChild(ctx, o, e, profile)
	if err != nil {
		return r, err
	}
	pid, err := e.waitSlotActive(ctx, c)
	if err != nil {
		c.kill()
		return r, err
	}
	ws := sampleCPU(pid)

	// The test server runs with synchronous_commit=off, where a commit's WAL
	// is flushed (and so decoded) only at the WAL writer's next round, up to
	// wal_writer_delay later. Production commits flush: the writer does too.
	if _, err := e.db.Exec(ctx, "SET synchronous_commit = on"); err != nil {
		c.kill()
		return r, fmt.Errorf("set synchronous_commit: %w", err)
	}
	logf(o, "run %d: %d rows/s for %s", run, o.rate, o.duration)
	w := &writer{db: e.db, lo: 1, hi: int64(o.prefill) + 1, rng: rand.New(rand.NewPCG(uint64(run), 7))}
	broker := findBroker(e.brokers[0])
	brokerBase := cpuSince(broker, 0)
	start := time.Now()
	if err := w.run(ctx, o, c); err != nil {
		c.kill()
		return r, err
	}
	r.WallSeconds = time.Since(start).Seconds()
	want := w.inserts + w.updates + 2*w.deletes // a tombstone follows each delete
	_, err = e.waitRecords(ctx, o, c, want, 30*time.Second)
	walsenderCPU := ws.finish()
	r.BrokerCPU = cpuSince(broker, brokerBase).Seconds()
	if err != nil {
		c.kill()
		return r, err
	}
	cpu, rss, err := c.stop()
	if err != nil {
		return r, err
	}
	lat, err := e.latencies(ctx, start.Add(o.warmup))
	if err != nil {
		return r, err
	}
	if o.latencyFile != "" {
		path := o.latencyFile
		if run > 1 {
			path = fmt.Sprintf("%s.%d", path, run)
		}
		if err := lat.writeCSV(path); err != nil {
			return r, err
		}
	}
	if lat.records != want {
		return r, fmt.Errorf("topic %s holds %d records, want %d", e.topic, lat.records, want)
	}
	r.TargetRate = float64(o.rate)
	r.Rows = float64(w.inserts + w.updates + w.deletes)
	r.Records = float64(want)
	r.CPUSeconds = cpu.Seconds()
	r.PeakRSSMB = float64(rss) / (1 << 20)
	r.WalsenderCPU = walsenderCPU.Seconds()
	r.LatencySamples = float64(len(lat.ms))
	r.LatencyP50, r.LatencyP99, r.LatencyMax = lat.quantile(0.50), lat.quantile(0.99), lat.quantile(1)
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

func (w *writer) run(ctx context.Context, o options, c *child) error {
	interval := time.Duration(float64(time.Second) * float64(o.txRows) / float64(o.rate))
	start := time.Now()
	end := start.Add(o.duration)
	for next := start; next.Before(end); next = next.Add(interval) {
		if d := time.Until(next); d > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(d):
			}
		}
		if err := c.failed(); err != nil {
			return err
		}
		if err := w.transaction(ctx, o.txRows); err != nil {
			return err
		}
	}
	return nil
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
