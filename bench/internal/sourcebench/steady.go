package sourcebench

import (
	"context"
	"fmt"
	"time"

	"github.com/sluice-cdc/sluice/bench/internal/appended"
	"github.com/sluice-cdc/sluice/bench/internal/figures"
	"github.com/sluice-cdc/sluice/bench/internal/pipeline"
	"github.com/sluice-cdc/sluice/bench/internal/schedule"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/registry"
)

// CheckSteady reports steady flags that cannot make a load.
func (o *Options) CheckSteady() error {
	if o.Rate <= 0 || o.TxRows <= 0 || o.Duration <= 0 {
		return fmt.Errorf("-rate, -tx-rows and -duration must be positive")
	}
	return nil
}

// Load calls transaction, in the calling goroutine, to commit
// transactions of -tx-rows changes at -rate rows a second for -duration,
// on a fixed schedule from start (a late transaction does not shift the
// ones after it: schedule.Run). It stops at the first error, when the
// pipeline c stops, or when ctx ends.
func (o *Options) Load(ctx context.Context, c *pipeline.Child, start time.Time, transaction func(n int) error) error {
	return schedule.Run(ctx, start, schedule.Interval(o.Rate, o.TxRows), o.Duration, func(time.Time) error {
		if err := c.Failed(); err != nil {
			return err
		}
		return transaction(o.TxRows)
	})
}

// CommitTime returns the commit time, in Unix ms, of the change ev (in a
// record of envelope schema envelope), or an error for a record the load
// did not make. It must not keep ev.
type CommitTime func(ev *event.Event, envelope *event.Schema) (int64, error)

// Latencies reads the run's topic back after the steady load of run, which
// started at start, and returns, for each change committed -warmup or
// more after start, the broker's append time minus the commit time
// commit gives (both milliseconds), sorted; with -latency-csv it writes
// them there. It fails unless the topic holds want records, tombstones
// included.
func (e *Env) Latencies(ctx context.Context, run int, start time.Time, want int64, commit CommitTime) (*figures.Latencies, error) {
	out := &figures.Latencies{}
	end, err := e.Records(ctx)
	if err != nil {
		return out, err
	}
	reg, err := registry.New(e.Kafka.RegistryURL)
	if err != nil {
		return out, err
	}
	fromMs := start.Add(e.o.Warmup).UnixMilli()
	records, err := appended.Each(ctx, e.Kafka.Brokers, reg, e.Topic, end, 5*time.Minute, func(ev *event.Event, envelope *event.Schema, at time.Time) error {
		ms, err := commit(ev, envelope)
		if err != nil {
			return err
		}
		if ms >= fromMs {
			out.Add(ms, at.UnixMilli()-ms)
		}
		return nil
	})
	out.Sort()
	if err != nil {
		return out, err
	}
	if e.o.LatencyFile != "" {
		if err := out.WriteCSV(figures.RunFile(e.o.LatencyFile, run)); err != nil {
			return out, err
		}
	}
	if records != want {
		return out, fmt.Errorf("topic %s holds %d records, want %d", e.Topic, records, want)
	}
	return out, nil
}
