package main

import (
	"context"
	"time"

	"github.com/sluice-cdc/sluice/bench/internal/appended"
	"github.com/sluice-cdc/sluice/bench/internal/figures"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/registry"
)

// latencies reads the run's topic from the start and returns how many
// records it read (tombstones included) and, for each change committed at
// or after from, the broker's append time minus the commit time the event
// carries (source.ts_ms). Both are milliseconds.
func (e *runEnv) latencies(ctx context.Context, from time.Time) (int64, *figures.Latencies, error) {
	out := &figures.Latencies{}
	end, err := e.records(ctx)
	if err != nil {
		return 0, out, err
	}
	reg, err := registry.New(e.kafka.RegistryURL)
	if err != nil {
		return 0, out, err
	}
	fromMs := from.UnixMilli()
	records, err := appended.Each(ctx, e.kafka.Brokers, reg, e.topic, end, 5*time.Minute, func(ev *event.Event, _ *event.Schema, at time.Time) error {
		if ev.Source.TsMs >= fromMs {
			out.Add(ev.Source.TsMs, at.UnixMilli()-ev.Source.TsMs)
		}
		return nil
	})
	out.Sort()
	return records, out, err
}
