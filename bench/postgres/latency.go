package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/sluice-cdc/sluice/bench/internal/appended"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/registry"
)

// latencySet is the commit → append latencies of a run's change records.
type latencySet struct {
	records int64      // every record read, tombstones included
	ms      []int64    // sorted
	samples [][2]int64 // commit time (Unix ms) and latency, in topic order
}

// quantile returns the q-quantile (nearest rank) in milliseconds.
func (l latencySet) quantile(q float64) float64 {
	if len(l.ms) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(q*float64(len(l.ms)))) - 1
	return float64(l.ms[max(i, 0)])
}

// latencies reads the run's topic from the start and returns, for each
// change committed at or after from, the broker's append time minus the
// commit time the event carries (source.ts_ms). Both are milliseconds.
func (e *runEnv) latencies(ctx context.Context, from time.Time) (latencySet, error) {
	var out latencySet
	end, err := e.records(ctx)
	if err != nil {
		return out, err
	}
	reg, err := registry.New(e.registryURL)
	if err != nil {
		return out, err
	}
	fromMs := from.UnixMilli()
	out.records, err = appended.Each(ctx, e.brokers, reg, e.topic, end, 5*time.Minute, func(ev *event.Event, _ *event.Schema, at time.Time) error {
		if ev.Source.TsMs >= fromMs {
			lat := at.UnixMilli() - ev.Source.TsMs
			out.ms = append(out.ms, lat)
			out.samples = append(out.samples, [2]int64{ev.Source.TsMs, lat})
		}
		return nil
	})
	slices.Sort(out.ms)
	return out, err
}

// writeCSV writes every sample as "commit_ms,latency_ms" lines to path.
func (l latencySet) writeCSV(path string) error {
	var b strings.Builder
	b.WriteString("commit_ms,latency_ms\n")
	for _, s := range l.samples {
		fmt.Fprintf(&b, "%d,%d\n", s[0], s[1])
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write latencies: %w", err)
	}
	return nil
}
