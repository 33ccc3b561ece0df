package main

import (
	"math"
	"slices"
	"time"
)

// phaseLatencies is what a phase's probe measured of the changes started
// (committed, or their bulk request sent) after the warm-up, in ms.
type phaseLatencies struct {
	searchable []float64 // start -> found by a search
	indexed    []float64 // start -> found by a realtime get (sampled changes)
	missing    int       // changes no search found
	measuredS  float64   // from the first measured start to the last
}

// measured returns the latencies of the changes whose start (ns since t0,
// by seq from 1) is not within warmup.
func measured(starts []int64, warmup time.Duration, p *probe) phaseLatencies {
	var m phaseLatencies
	warm := warmup.Nanoseconds()
	var first, last int64 = math.MaxInt64, 0
	for seq := int64(1); seq < int64(len(starts)); seq++ {
		c := starts[seq]
		if c < warm {
			continue
		}
		first, last = min(first, c), max(last, c)
		if seq >= int64(len(p.seen)) || p.seen[seq] == 0 {
			m.missing++
			continue
		}
		m.searchable = append(m.searchable, float64(p.seen[seq]-c)/1e6)
	}
	for seq, at := range p.indexed {
		if seq < int64(len(starts)) && starts[seq] >= warm {
			m.indexed = append(m.indexed, float64(at-starts[seq])/1e6)
		}
	}
	if last > first {
		m.measuredS = float64(last-first) / 1e9
	}
	return m
}

// changes returns how many changes were measured, found or not.
func (m phaseLatencies) changes() int { return len(m.searchable) + m.missing }

// rate returns the changes measured a second.
func (m phaseLatencies) rate() float64 {
	if m.measuredS == 0 {
		return 0
	}
	return float64(m.changes()) / m.measuredS
}

// latencyFigures computes the sluice phase's latencies of the changes
// committed after the warm-up: to searchable (the probe's searches), to
// indexed (its realtime gets of the sampled changes) and to Kafka
// (appended, Unix ms by seq).
func latencyFigures(res *latencyResult, warmup time.Duration, t0 time.Time, l *loader, p *probe, appended []int64) {
	m := measured(l.commits, warmup, p)
	var kafkaLat []float64
	for seq := int64(1); seq <= l.seq; seq++ {
		if c := l.commits[seq]; c >= warmup.Nanoseconds() && appended[seq] > 0 {
			kafkaLat = append(kafkaLat, float64(appended[seq])-float64(t0.UnixNano()+c)/1e6)
		}
	}
	res.Inserts, res.Updates = l.inserts, l.updates
	res.Samples, res.Missing, res.KafkaSamples, res.IndexedSamples = m.changes(), m.missing, len(kafkaLat), len(m.indexed)
	res.MeasuredS, res.AchievedRate = m.measuredS, m.rate()
	res.P50, res.P99, res.Max = quantile(m.searchable, 0.5), quantile(m.searchable, 0.99), quantile(m.searchable, 1)
	res.KafkaP50, res.KafkaP99, res.KafkaMax = quantile(kafkaLat, 0.5), quantile(kafkaLat, 0.99), quantile(kafkaLat, 1)
	res.IndexedP50, res.IndexedP99, res.IndexedMax = quantile(m.indexed, 0.5), quantile(m.indexed, 0.99), quantile(m.indexed, 1)
	res.SearchP50, res.SearchP99 = quantile(p.rtts, 0.5), quantile(p.rtts, 0.99)
}

// directFigures computes the direct phase's latencies of the changes whose
// bulk request was sent after the warm-up.
func directFigures(res *latencyResult, warmup time.Duration, b *bulkLoader, p *probe) {
	m := measured(b.sent(), warmup, p)
	res.DirectSamples, res.DirectMissing, res.DirectAchievedRate = m.changes(), m.missing, m.rate()
	res.DirectP50, res.DirectP99, res.DirectMax = quantile(m.searchable, 0.5), quantile(m.searchable, 0.99), quantile(m.searchable, 1)
	res.DirectIndexedP99 = quantile(m.indexed, 0.99)
	res.DirectBulks, res.DirectBulkMeanMS = b.bulks.Load(), b.bulkMeanMS()
	lags := b.lags(warmup)
	res.DirectSendLagP99, res.DirectSendLagMax = quantile(lags, 0.99), quantile(lags, 1)
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
	pick := func(f func(latencyResult) float64) float64 { return medianOf(rs, f) }
	return map[string]any{
		"median_of_runs":            len(rs),
		"workload":                  "latency",
		"target_changes_per_s":      rs[0].TargetRate,
		"refresh_interval":          rs[0].RefreshInterval,
		"target_p99_ms":             rs[0].TargetP99,
		"achieved_changes_per_s":    pick(func(r latencyResult) float64 { return r.AchievedRate }),
		"measured_changes":          pick(func(r latencyResult) float64 { return float64(r.Samples) }),
		"p50_ms":                    pick(func(r latencyResult) float64 { return r.P50 }),
		"p99_ms":                    pick(func(r latencyResult) float64 { return r.P99 }),
		"max_ms":                    pick(func(r latencyResult) float64 { return r.Max }),
		"kafka_p50_ms":              pick(func(r latencyResult) float64 { return r.KafkaP50 }),
		"kafka_p99_ms":              pick(func(r latencyResult) float64 { return r.KafkaP99 }),
		"indexed_p50_ms":            pick(func(r latencyResult) float64 { return r.IndexedP50 }),
		"indexed_p99_ms":            pick(func(r latencyResult) float64 { return r.IndexedP99 }),
		"es_refresh_mean_ms":        pick(func(r latencyResult) float64 { return r.RefreshMeanMS }),
		"search_rtt_p50_ms":         pick(func(r latencyResult) float64 { return r.SearchP50 }),
		"sink_bulk_mean_ms":         pick(func(r latencyResult) float64 { return r.SinkBulkMeanMS }),
		"sink_peak_rss_mib":         pick(func(r latencyResult) float64 { return r.SinkPeakRSSMiB }),
		"source_peak_rss_mib":       pick(func(r latencyResult) float64 { return r.SourcePeakRSSMiB }),
		"es_refreshes":              pick(func(r latencyResult) float64 { return float64(r.Refreshes) }),
		"direct_p50_ms":             pick(func(r latencyResult) float64 { return r.DirectP50 }),
		"direct_p99_ms":             pick(func(r latencyResult) float64 { return r.DirectP99 }),
		"direct_max_ms":             pick(func(r latencyResult) float64 { return r.DirectMax }),
		"direct_indexed_p99_ms":     pick(func(r latencyResult) float64 { return r.DirectIndexedP99 }),
		"direct_bulk_mean_ms":       pick(func(r latencyResult) float64 { return r.DirectBulkMeanMS }),
		"direct_es_refreshes":       pick(func(r latencyResult) float64 { return float64(r.DirectRefreshes) }),
		"direct_es_refresh_mean_ms": pick(func(r latencyResult) float64 { return r.DirectRefreshMeanMS }),
		"direct_send_lag_p99_ms":    pick(func(r latencyResult) float64 { return r.DirectSendLagP99 }),
		"added_p99_ms":              pick(func(r latencyResult) float64 { return r.AddedP99 }),
	}
}
