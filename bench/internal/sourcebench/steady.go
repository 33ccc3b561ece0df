package sourcebench

import (
	"context"
	"fmt"
	"time"

	"github.com/sluice-cdc/sluice/bench/internal/appended"
	"github.com/sluice-cdc/sluice/bench/internal/figures"
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
// ones after it: schedule.Run). It stops at the first error, when failed
// (the capturing process's check, called before each transaction) reports
// one, or when ctx ends.
func (o *Options) Load(ctx context.Context, failed func() error, start time.Time, transaction func(n int) error) error {
	return schedule.Run(ctx, start, schedule.Interval(o.Rate, o.TxRows), o.Duration, func(time.Time) error {
		if err := failed(); err != nil {
			return err
		}
		return transaction(o.TxRows)
	})
}

// Latencies reads the run's topic back after the steady load of run, which
// started at start, and returns, for each change committed -warmup or
// more after start, the broker's append time minus the commit time
// commit gives (both milliseconds), sorted; with -latency-csv it writes
// them there. It fails unless the topic holds want records, tombstones
// included.
func (e *Env) Latencies(ctx context.Context, run int, start time.Time, want int64, commit CommitTime) (*figures.Latencies, error) {
	return e.latencies(ctx, e.Topic, e.json, figures.RunFile(e.o.LatencyFile, run), start, want, commit)
}

// latencies reads topic back as Latencies does, its records Avro with
// schemas in the run's registry or, with json, JsonConverter's JSON; csv,
// when set, receives the samples.
func (e *Env) latencies(ctx context.Context, topic string, json bool, csv string, start time.Time, want int64, commit CommitTime) (*figures.Latencies, error) {
	out := &figures.Latencies{}
	end, err := e.Kafka.TopicRecords(ctx, topic)
	if err != nil {
		return out, err
	}
	fromMs := start.Add(e.o.Warmup).UnixMilli()
	var c Change
	add := func(at time.Time) error {
		ms, err := commit(&c)
		if err != nil {
			return err
		}
		if ms >= fromMs {
			out.Add(ms, at.UnixMilli()-ms)
		}
		return nil
	}
	var records int64
	if json {
		records, err = appended.EachValue(ctx, e.Kafka.Brokers, topic, end, 5*time.Minute, func(value []byte, at time.Time) error {
			if err := ParseJSON(value, &c); err != nil {
				return err
			}
			return add(at)
		})
	} else {
		var reg *registry.Client
		if reg, err = registry.New(e.Kafka.RegistryURL); err != nil {
			return out, err
		}
		var cols avroColumns
		records, err = appended.Each(ctx, e.Kafka.Brokers, reg, topic, end, 5*time.Minute, func(ev *event.Event, envelope *event.Schema, at time.Time) error {
			if err := cols.change(ev, envelope, &c); err != nil {
				return err
			}
			return add(at)
		})
	}
	out.Sort()
	if err != nil {
		return out, err
	}
	if csv != "" {
		if err := out.WriteCSV(csv); err != nil {
			return out, err
		}
	}
	if records != want {
		return out, fmt.Errorf("topic %s holds %d records, want %d", topic, records, want)
	}
	return out, nil
}
