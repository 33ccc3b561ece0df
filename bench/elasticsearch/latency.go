package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"slices"
	"sync/atomic"
	"time"
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
}

// driveLatency builds sluice (unless -sluice names a binary), runs o.runs
// latency runs and prints their results, then the medians.
func driveLatency(ctx context.Context, o options) error {
	if o.brokers == "" || o.esURL == "" || o.pgURL == "" {
		return fmt.Errorf("no Kafka brokers, Elasticsearch URL or Postgres URL: pass -brokers, -es and -pg, or source /tmp/sluice-testenv/env.sh")
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
		if bin, err = buildSluice(ctx, dir); err != nil {
			return err
		}
	}
	var all []latencyResult
	for i := 1; i <= o.runs; i++ {
		r, err := runLatency(ctx, o, bin, i)
		if err != nil {
			return fmt.Errorf("run %d: %w", i, err)
		}
		all = append(all, r)
		line, _ := json.Marshal(r)
		fmt.Println(string(line))
	}
	if len(all) > 1 {
		line, _ := json.Marshal(latencyMedians(all))
		fmt.Println(string(line))
	}
	return nil
}

// runLatency sets a run up, commits the load while a probe watches the
// index, and computes the run's figures from what both recorded.
func runLatency(ctx context.Context, o options, bin string, n int) (latencyResult, error) {
	res := latencyResult{Run: n, Workload: "latency", TargetRate: o.rate, PollMS: float64(o.poll.Microseconds()) / 1000}
	// Updates take prefilled rows, each once: enough for half the changes.
	total := int64(float64(o.rate) * (o.warmup + o.duration).Seconds())
	e, err := newLatencyEnv(ctx, o, bin, total*6/10+1000)
	if err != nil {
		return res, err
	}
	defer e.close()
	if res.RefreshInterval, res.RefreshDefault, err = e.es.refreshInterval(ctx, e.index); err != nil {
		return res, err
	}
	refresh, err := time.ParseDuration(res.RefreshInterval)
	if err != nil {
		return res, fmt.Errorf("refresh interval %q of index %s: %w", res.RefreshInterval, e.index, err)
	}
	res.TargetP99 = float64((refresh + 300*time.Millisecond).Milliseconds())
	refreshes0, refreshMS0, err := e.es.refreshStats(ctx, e.index)
	if err != nil {
		return res, err
	}

	// The test server runs with synchronous_commit=off, where a commit's WAL
	// is flushed (and so decoded) only at the WAL writer's next round, up to
	// wal_writer_delay later. Production commits flush: the writer does too.
	if _, err := e.conn.Exec(ctx, "SET synchronous_commit = on"); err != nil {
		return res, fmt.Errorf("set synchronous_commit: %w", err)
	}
	samples := make(chan sample, total/sampleEvery+64)
	l := newLoader(e.conn, o.seed, e.prefill, samples)
	t0 := time.Now()
	p := newProbe(e.es, e.index, t0, samples)
	if err := measure(ctx, o, e, l, p, t0); err != nil {
		return res, err
	}

	refreshes, refreshMS, err := e.es.refreshStats(ctx, e.index)
	if err != nil {
		return res, err
	}
	if res.Refreshes = refreshes - refreshes0; res.Refreshes > 0 {
		res.RefreshMeanMS = float64(refreshMS-refreshMS0) / float64(res.Refreshes)
	}
	if err := daemonFigures(ctx, e, &res); err != nil {
		return res, err
	}
	appended, err := appendTimes(ctx, e.brokers, e.adm, e.reg, e.topic, l.seq)
	if err != nil {
		return res, err
	}
	latencyFigures(&res, o.warmup, t0, l, p, appended)
	slog.Info("run done", "run", n, "changes", l.seq)
	if res.Missing > 0 {
		return res, fmt.Errorf("%d of %d measured changes were never found in index %s", res.Missing, res.Missing+res.Samples, e.index)
	}
	if res.KafkaSamples != res.Samples {
		return res, fmt.Errorf("topic %s holds %d of the %d measured changes", e.topic, res.KafkaSamples, res.Samples)
	}
	return res, nil
}

// measure runs the load for warm-up plus duration with the probe polling,
// then waits, at most a minute, until the probe found every change.
func measure(ctx context.Context, o options, e *latencyEnv, l *loader, p *probe, t0 time.Time) error {
	pctx, stop := context.WithCancel(ctx)
	var probeErr atomic.Pointer[error]
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := p.run(pctx, o.poll); err != nil {
			probeErr.Store(&err)
		}
	}()
	check := func() error {
		if err := probeErr.Load(); err != nil {
			return *err
		}
		return e.failed()
	}
	slog.Info("load", "rate", o.rate, "for", o.warmup+o.duration)
	err := l.run(ctx, t0, o.rate, o.txRows, o.warmup+o.duration, check)
	for deadline := time.Now().Add(time.Minute); err == nil && p.found.Load() < l.seq && time.Now().Before(deadline); {
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
	bulks, err := e.sink.metric(ctx, "sluice_es_bulk_seconds_count")
	if err != nil {
		return err
	}
	bulkS, err := e.sink.metric(ctx, "sluice_es_bulk_seconds_sum")
	if err != nil {
		return err
	}
	res.SinkBulks = int(bulks)
	if bulks > 0 {
		res.SinkBulkMeanMS = bulkS / bulks * 1000
	}
	rss, err := e.sink.peakRSS()
	if err != nil {
		return err
	}
	res.SinkPeakRSSMiB = float64(rss) / (1 << 20)
	if rss, err = e.source.peakRSS(); err != nil {
		return err
	}
	res.SourcePeakRSSMiB = float64(rss) / (1 << 20)
	return nil
}

// latencyFigures computes the latencies of the changes committed after the
// warm-up: to searchable (the probe's searches), to indexed (its realtime
// gets of the sampled changes) and to Kafka (appended, Unix ms by seq).
func latencyFigures(res *latencyResult, warmup time.Duration, t0 time.Time, l *loader, p *probe, appended []int64) {
	var lat, kafkaLat, indexedLat []float64
	warm := warmup.Nanoseconds()
	var first, last int64 = math.MaxInt64, 0
	for seq := int64(1); seq <= l.seq; seq++ {
		c := l.commits[seq]
		if c < warm {
			continue
		}
		first, last = min(first, c), max(last, c)
		if a := appended[seq]; a > 0 {
			kafkaLat = append(kafkaLat, float64(a)-float64(t0.UnixNano()+c)/1e6)
		}
		if seq >= int64(len(p.seen)) || p.seen[seq] == 0 {
			res.Missing++
			continue
		}
		lat = append(lat, float64(p.seen[seq]-c)/1e6)
	}
	for seq, at := range p.indexed {
		if c := l.commits[seq]; c >= warm {
			indexedLat = append(indexedLat, float64(at-c)/1e6)
		}
	}
	res.Inserts, res.Updates = l.inserts, l.updates
	res.Samples, res.KafkaSamples, res.IndexedSamples = len(lat)+res.Missing, len(kafkaLat), len(indexedLat)
	res.MeasuredS = float64(last-first) / 1e9
	if res.MeasuredS > 0 {
		res.AchievedRate = float64(res.Samples) / res.MeasuredS
	}
	res.P50, res.P99, res.Max = quantile(lat, 0.5), quantile(lat, 0.99), quantile(lat, 1)
	res.KafkaP50, res.KafkaP99, res.KafkaMax = quantile(kafkaLat, 0.5), quantile(kafkaLat, 0.99), quantile(kafkaLat, 1)
	res.IndexedP50, res.IndexedP99, res.IndexedMax = quantile(indexedLat, 0.5), quantile(indexedLat, 0.99), quantile(indexedLat, 1)
	res.SearchP50, res.SearchP99 = quantile(p.rtts, 0.5), quantile(p.rtts, 0.99)
}

// quantile returns the q-quantile of v (nearest rank); 0 for none.
func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(i, 0)]
}

// latencyMedians returns the median of every figure of rs.
func latencyMedians(rs []latencyResult) map[string]any {
	pick := func(f func(latencyResult) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		return median(v)
	}
	return map[string]any{
		"median_of_runs":         len(rs),
		"workload":               "latency",
		"target_changes_per_s":   rs[0].TargetRate,
		"refresh_interval":       rs[0].RefreshInterval,
		"target_p99_ms":          rs[0].TargetP99,
		"achieved_changes_per_s": pick(func(r latencyResult) float64 { return r.AchievedRate }),
		"measured_changes":       pick(func(r latencyResult) float64 { return float64(r.Samples) }),
		"p50_ms":                 pick(func(r latencyResult) float64 { return r.P50 }),
		"p99_ms":                 pick(func(r latencyResult) float64 { return r.P99 }),
		"max_ms":                 pick(func(r latencyResult) float64 { return r.Max }),
		"kafka_p50_ms":           pick(func(r latencyResult) float64 { return r.KafkaP50 }),
		"kafka_p99_ms":           pick(func(r latencyResult) float64 { return r.KafkaP99 }),
		"indexed_p50_ms":         pick(func(r latencyResult) float64 { return r.IndexedP50 }),
		"indexed_p99_ms":         pick(func(r latencyResult) float64 { return r.IndexedP99 }),
		"es_refresh_mean_ms":     pick(func(r latencyResult) float64 { return r.RefreshMeanMS }),
		"search_rtt_p50_ms":      pick(func(r latencyResult) float64 { return r.SearchP50 }),
		"sink_bulk_mean_ms":      pick(func(r latencyResult) float64 { return r.SinkBulkMeanMS }),
		"sink_peak_rss_mib":      pick(func(r latencyResult) float64 { return r.SinkPeakRSSMiB }),
		"source_peak_rss_mib":    pick(func(r latencyResult) float64 { return r.SourcePeakRSSMiB }),
	}
}
