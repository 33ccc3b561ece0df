package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/sluice-cdc/sluice/bench/internal/daemon"
)

// latencyResult is one latency run's figures; times in milliseconds.
type latencyResult struct {
	Run              int     `json:"run"`
	Workload         string  `json:"workload"`
	TargetRate       int     `json:"target_changes_per_s"`
	AchievedRate     float64 `json:"achieved_changes_per_s"`
	MeasuredS        float64 `json:"measured_s"`
	Inserts          int     `json:"inserts"`
	Updates          int     `json:"updates"`
	Samples          int     `json:"measured_changes"`
	Missing          int     `json:"missing"`
	P50              float64 `json:"p50_ms"`
	P99              float64 `json:"p99_ms"`
	Max              float64 `json:"max_ms"`
	KafkaSamples     int     `json:"kafka_samples"`
	KafkaP50         float64 `json:"kafka_p50_ms"`
	KafkaP99         float64 `json:"kafka_p99_ms"`
	KafkaMax         float64 `json:"kafka_max_ms"`
	IndexedSamples   int     `json:"indexed_samples"`
	IndexedP50       float64 `json:"indexed_p50_ms"`
	IndexedP99       float64 `json:"indexed_p99_ms"`
	IndexedMax       float64 `json:"indexed_max_ms"`
	RefreshInterval  string  `json:"refresh_interval"`
	RefreshDefault   bool    `json:"refresh_interval_is_default"`
	TargetP99        float64 `json:"target_p99_ms"`
	PollMS           float64 `json:"poll_ms"`
	Refreshes        int64   `json:"es_refreshes"`
	RefreshMeanMS    float64 `json:"es_refresh_mean_ms"`
	SearchP50        float64 `json:"search_rtt_p50_ms"`
	SearchP99        float64 `json:"search_rtt_p99_ms"`
	SinkBulks        int     `json:"sink_bulk_requests"`
	SinkBulkMeanMS   float64 `json:"sink_bulk_mean_ms"`
	SinkPeakRSSMiB   float64 `json:"sink_peak_rss_mib"`
	SourcePeakRSSMiB float64 `json:"source_peak_rss_mib"`

	// The direct phase: the same changes written by the driver straight to
	// an index, timed from just before their bulk request was sent.
	DirectAchievedRate  float64 `json:"direct_achieved_changes_per_s"`
	DirectSamples       int     `json:"direct_measured_changes"`
	DirectMissing       int     `json:"direct_missing"`
	DirectP50           float64 `json:"direct_p50_ms"`
	DirectP99           float64 `json:"direct_p99_ms"`
	DirectMax           float64 `json:"direct_max_ms"`
	DirectIndexedP99    float64 `json:"direct_indexed_p99_ms"`
	DirectBulks         int64   `json:"direct_bulk_requests"`
	DirectBulkMeanMS    float64 `json:"direct_bulk_mean_ms"`
	DirectSendLagP99    float64 `json:"direct_send_lag_p99_ms"` // request sent - due
	DirectSendLagMax    float64 `json:"direct_send_lag_max_ms"`
	DirectRefreshes     int64   `json:"direct_es_refreshes"`
	DirectRefreshMeanMS float64 `json:"direct_es_refresh_mean_ms"`
	// AddedP99 is p99 - direct p99: what the pipeline adds at p99.
	AddedP99 float64 `json:"added_p99_ms"`
}

// driveLatency builds sluice (unless -sluice names a binary), runs o.runs
// latency runs and prints their results, then the medians.
func driveLatency(ctx context.Context, o options) error {
	if o.brokers == "" || o.esURL == "" || o.pgURL == "" {
		return fmt.Errorf("no Kafka brokers, Elasticsearch URL or Postgres URL: pass -brokers, -es and -pg, or eval \"$(testenv/up.sh)\"")
	}
	if o.rate <= 0 || o.txRows <= 0 || o.duration <= 0 || o.warmup < 0 || o.poll <= 0 {
		return fmt.Errorf("-rate, -tx-rows, -duration and -poll must be positive and -warmup not negative")
	}
	bin := o.sluice
	if bin == "" {
		dir, err := os.MkdirTemp("", "bench-es-sluice-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if bin, err = daemon.Build(ctx, dir); err != nil {
			return err
		}
	}
	return printRuns(o.runs, func(i int) (latencyResult, error) { return runLatency(ctx, o, bin, i) }, latencyMedians)
}

// runLatency runs the direct phase, then the sluice phase, and returns
// both phases' figures.
func runLatency(ctx context.Context, o options, bin string, n int) (latencyResult, error) {
	res := latencyResult{Run: n, Workload: "latency", TargetRate: o.rate, PollMS: float64(o.poll.Microseconds()) / 1000}
	// Updates take prefilled rows, each once: enough for half the changes.
	total := int64(float64(o.rate) * (o.warmup + o.duration).Seconds())
	prefill := total*6/10 + 1000
	if err := runDirect(ctx, o, prefill, total, &res); err != nil {
		return res, fmt.Errorf("direct phase: %w", err)
	}
	if err := runSluice(ctx, o, bin, prefill, total, &res); err != nil {
		return res, err
	}
	res.AddedP99 = res.P99 - res.DirectP99
	slog.Info("run done", "run", n, "p99_ms", res.P99, "direct_p99_ms", res.DirectP99)
	return res, nil
}

// runSluice sets the sluice phase up, commits the load while a probe
// watches the index, and computes the phase's figures from what both
// recorded.
func runSluice(ctx context.Context, o options, bin string, prefill, total int64, res *latencyResult) error {
	e, err := newLatencyEnv(ctx, o, bin, prefill)
	if err != nil {
		return err
	}
	defer e.close()
	if res.RefreshInterval, res.RefreshDefault, err = e.es.refreshInterval(ctx, e.index); err != nil {
		return err
	}
	refresh, err := time.ParseDuration(res.RefreshInterval)
	if err != nil {
		return fmt.Errorf("refresh interval %q of index %s: %w", res.RefreshInterval, e.index, err)
	}
	res.TargetP99 = float64((refresh + 300*time.Millisecond).Milliseconds())
	refreshes0, refreshMS0, err := e.es.refreshStats(ctx, e.index)
	if err != nil {
		return err
	}

	// The test server runs with synchronous_commit=off, where a commit's WAL
	// is flushed (and so decoded) only at the WAL writer's next round, up to
	// wal_writer_delay later. Production commits flush: the writer does too.
	if _, err := e.conn.Exec(ctx, "SET synchronous_commit = on"); err != nil {
		return fmt.Errorf("set synchronous_commit: %w", err)
	}
	slog.Info("load", "phase", "sluice", "rate", o.rate, "for", o.warmup+o.duration)
	samples := make(chan sample, total/sampleEvery+64)
	l := newLoader(e.conn, o.seed, e.prefill, samples)
	t0 := time.Now()
	p := newProbe(e.es, e.index, t0, samples)
	err = measure(ctx, o.poll, p, e.failed, func(check func() error) (int64, error) {
		err := l.run(ctx, t0, o.rate, o.txRows, o.warmup+o.duration, check)
		return l.seq, err
	})
	if err != nil {
		return err
	}

	refreshes, refreshMS, err := e.es.refreshStats(ctx, e.index)
	if err != nil {
		return err
	}
	if res.Refreshes = refreshes - refreshes0; res.Refreshes > 0 {
		res.RefreshMeanMS = float64(refreshMS-refreshMS0) / float64(res.Refreshes)
	}
	if err := daemonFigures(ctx, e, res); err != nil {
		return err
	}
	appended, err := appendTimes(ctx, e.brokers, e.adm, e.reg, e.topic, l.seq)
	if err != nil {
		return err
	}
	latencyFigures(res, o.warmup, t0, l, p, appended)
	if res.Missing > 0 {
		return fmt.Errorf("%d of %d measured changes were never found in index %s", res.Missing, res.Samples, e.index)
	}
	if res.KafkaSamples != res.Samples {
		return fmt.Errorf("topic %s holds %d of the %d measured changes", e.topic, res.KafkaSamples, res.Samples)
	}
	return nil
}

// measure runs load with the probe polling, then waits, at most a minute,
// until the probe found every change load made. load calls check before
// each group of changes and returns how many changes it made; check fails
// once the probe or failed does.
func measure(ctx context.Context, poll time.Duration, p *probe, failed func() error, load func(check func() error) (int64, error)) error {
	pctx, stop := context.WithCancel(ctx)
	var probeErr atomic.Pointer[error]
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := p.run(pctx, poll); err != nil {
			probeErr.Store(&err)
		}
	}()
	check := func() error {
		if err := probeErr.Load(); err != nil {
			return *err
		}
		return failed()
	}
	made, err := load(check)
	for deadline := time.Now().Add(time.Minute); err == nil && p.found.Load() < made && time.Now().Before(deadline); {
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
		err = errors.Join(ctx.Err(), check())
	}
	stop()
	<-done
	return errors.Join(err, check())
}

// daemonFigures reads the sink's bulk requests from its metrics and both
// daemons' peak RSS.
func daemonFigures(ctx context.Context, e *latencyEnv, res *latencyResult) error {
	bulks, err := e.sink.Metric(ctx, "sluice_es_bulk_seconds_count")
	if err != nil {
		return err
	}
	bulkS, err := e.sink.Metric(ctx, "sluice_es_bulk_seconds_sum")
	if err != nil {
		return err
	}
	res.SinkBulks = int(bulks)
	if bulks > 0 {
		res.SinkBulkMeanMS = bulkS / bulks * 1000
	}
	rss, err := e.sink.PeakRSS()
	if err != nil {
		return err
	}
	res.SinkPeakRSSMiB = float64(rss) / (1 << 20)
	if rss, err = e.source.PeakRSS(); err != nil {
		return err
	}
	res.SourcePeakRSSMiB = float64(rss) / (1 << 20)
	return nil
}
