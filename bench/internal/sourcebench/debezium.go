package sourcebench

import (
	"context"
	"fmt"
	"time"

	"github.com/sluice-cdc/sluice/bench/internal/baseline"
	"github.com/sluice-cdc/sluice/bench/internal/figures"
)

// A DebeziumLoad is what a benchmark gives Env.SteadyDebezium to run its
// steady load again for each of Debezium's connectors.
type DebeziumLoad struct {
	// Reset returns the database to where it was before sluice's load:
	// the table holds the -prefill rows it held then, and the marker table
	// none. No connector runs meanwhile, so none captures it.
	Reset func(ctx context.Context) error
	// Mark commits marker change n (baseline.Workers.Stream).
	Mark func(n int) error
	// Load commits the run's load again, as it did for sluice (the same
	// changes: Options.Load from start, the run's rowgen.Mix), checking
	// failed before each transaction, and says what it made.
	Load func(ctx context.Context, failed func() error, start time.Time) (Loaded, error)
}

// Loaded is what a steady load made: its changes, its records (tombstones
// included), and the commit time of each change's record.
type Loaded struct {
	Changes, Records int64
	Commit           CommitTime
}

// SteadyDebezium runs the steady load of run again for each of Debezium's
// connectors (one a variant) in turn, each alone: l.Reset, the variant's topic
// created with append-time timestamps (kafkaenv.Env.CreateTopic), its
// connector started until it streams (baseline.Workers.Stream), then
// l.Load while the JVM is measured (baseline.Workers.Measure) until the
// topic holds every record (no progress for 30 s fails); then the
// connector stops and its topic is read back as sluice's is (Latencies;
// Debezium writes JSON). It keeps each variant's figures in f, its p99
// over sluiceP99. With -latency-csv each variant's samples go to the
// run's file with .debezium_<variant> appended.
func (e *Env) SteadyDebezium(ctx context.Context, run int, ws *baseline.Workers, connectors map[baseline.Variant]baseline.Connector,
	l DebeziumLoad, f *baseline.Debezium, sluiceP99 float64) error {
	for _, v := range baseline.Of(connectors) {
		s, err := e.steadyDebezium(ctx, run, ws, v, connectors[v], l)
		if err != nil {
			return fmt.Errorf("Debezium %s: %w", v, err)
		}
		f.SetSteady(v, s, sluiceP99)
	}
	return nil
}

// steadyDebezium is SteadyDebezium's run of variant v's connector c.
func (e *Env) steadyDebezium(ctx context.Context, run int, ws *baseline.Workers, v baseline.Variant, c baseline.Connector, l DebeziumLoad) (baseline.Steady, error) {
	var s baseline.Steady
	if err := l.Reset(ctx); err != nil {
		return s, fmt.Errorf("reset the tables: %w", err)
	}
	if err := e.Kafka.CreateTopic(ctx, c.Topic); err != nil {
		return s, err
	}
	e.o.Logf("run %d: Debezium %s starts", run, v)
	if err := ws.Stream(ctx, e.Kafka, v, c, l.Mark); err != nil {
		return s, err
	}
	u, err := ws.Measure(v)
	if err != nil {
		return s, err
	}
	// A status request a transaction would load the JVM measured.
	failed := every(time.Second, func() error { return ws.Failed(v, c) })
	e.o.Logf("run %d: Debezium %s: %d rows/s for %s", run, v, e.o.Rate, e.o.Duration)
	start := time.Now()
	loaded, err := l.Load(ctx, failed, start)
	if err != nil {
		return s, err
	}
	wall := time.Since(start)
	_, err = e.Kafka.WaitRecords(ctx, c.Topic, loaded.Records, 30*time.Second, failed, func(n, want int64, perSecond float64) {
		e.o.Logf("Debezium %s: %d of %d records, %.0f/s", v, n, want, perSecond)
	})
	if err != nil {
		return s, err
	}
	cpu, rss, err := u.End()
	if err != nil {
		return s, err
	}
	if err := ws.Stop(v, c); err != nil {
		return s, err
	}
	var csv string
	if e.o.LatencyFile != "" {
		csv = figures.RunFile(e.o.LatencyFile, run) + ".debezium_" + string(v)
	}
	lat, err := e.latencies(ctx, c.Topic, true, csv, start, loaded.Records, loaded.Commit)
	if err != nil {
		return s, err
	}
	s = baseline.Steady{Samples: float64(lat.Len()), P50: lat.Quantile(0.50), P99: lat.Quantile(0.99), Max: lat.Quantile(1),
		PeakRSSMB: rss}
	s.RowsPerSecond = float64(loaded.Changes) / wall.Seconds()
	if loaded.Changes > 0 {
		s.CPUPerMillion = cpu / float64(loaded.Changes) * 1e6
	}
	return s, nil
}

// every returns check called at most once per d: in between, it returns
// check's last result. It is for one goroutine.
func every(d time.Duration, check func() error) func() error {
	var last time.Time
	var err error
	return func() error {
		if now := time.Now(); last.IsZero() || now.Sub(last) >= d {
			last, err = now, check()
		}
		return err
	}
}
