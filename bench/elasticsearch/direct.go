package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// runDirect runs the direct phase, the baseline of the sluice phase: the
// driver writes the same changes on the same schedule straight to a fresh
// index with bulk requests, and the probe times each change from just
// before its request was sent until a search finds it. The index is
// deleted afterwards.
func runDirect(ctx context.Context, o options, prefill, total int64, res *latencyResult) error {
	es, err := newES(o.esURL)
	if err != nil {
		return err
	}
	index := "benchlat_direct_" + randomSuffix()
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if derr := es.deleteIndex(dctx, index); derr != nil {
			slog.Warn("delete index", "index", index, "error", derr)
		}
	}()
	samples := make(chan sample, total/sampleEvery+64)
	b := newBulkLoader(es, index, o.seed, prefill, samples)
	noFailure := func() error { return nil }

	// As in the sluice phase, one change is searchable before the clock
	// starts: the index exists, with its dynamic mapping. It writes the
	// last prefilled row, which the load never updates.
	first := change{id: prefill}
	doc, err := first.document(o.seed)
	if err != nil {
		return err
	}
	if err := b.post(ctx, b.appendIndex(nil, first, doc)); err != nil {
		return fmt.Errorf("first change: %w", err)
	}
	if err := es.waitSearchable(ctx, index, prefill, noFailure); err != nil {
		return err
	}
	refreshes0, refreshMS0, err := es.refreshStats(ctx, index)
	if err != nil {
		return err
	}

	slog.Info("load", "phase", "direct", "rate", o.rate, "for", o.warmup+o.duration)
	t0 := time.Now()
	p := newProbe(es, index, t0, samples)
	err = measure(ctx, o.poll, p, noFailure, func(check func() error) (int64, error) {
		err := b.run(ctx, t0, o.rate, o.txRows, o.warmup+o.duration, check)
		return b.seq, err
	})
	if err != nil {
		return err
	}

	refreshes, refreshMS, err := es.refreshStats(ctx, index)
	if err != nil {
		return err
	}
	if res.DirectRefreshes = refreshes - refreshes0; res.DirectRefreshes > 0 {
		res.DirectRefreshMeanMS = float64(refreshMS-refreshMS0) / float64(res.DirectRefreshes)
	}
	directFigures(res, o.warmup, b, p)
	if res.DirectMissing > 0 {
		return fmt.Errorf("%d of %d measured changes were never found in index %s", res.DirectMissing, res.DirectSamples, index)
	}
	return nil
}
