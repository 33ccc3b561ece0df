// Package baseline runs Debezium's connectors over a source benchmark's
// drain backlog, the table of its initial snapshot or its steady load, as
// users run them: on Kafka Connect standalone workers (testenv/debezium)
// writing JSON (JsonConverter with schemas) to the same Kafka broker. Each
// connector runs twice, on a worker of its own so that each JVM's CPU time
// and memory are its own: configured for throughput (Tuned: Tuning) and
// with Debezium's and Kafka Connect's defaults (Default).
//
// A drain with the baseline goes: Prepare before the backlog is written
// (each connector starts, takes its no_data snapshot, captures one marker
// change, so that its offsets are committed before the backlog, and is
// stopped), then Drain for each variant after it (the connector resumes
// from those offsets and is timed until its topic holds every row). An
// initial snapshot needs no preparation: Snapshot creates each variant's
// connector, configured with snapshot.mode=initial, after the table is
// written, and times it the same way.
//
// A steady load goes, for each variant in turn: Stream (the connector
// starts and captures a marker change, so that it streams), Measure, the
// load, Usage.End once its topic holds every change, Stop; the benchmark
// reads the topic back for the latencies (sourcebench.Env.SteadyDebezium).
package baseline

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/sluice-cdc/sluice/bench/internal/kafkaenv"
	"github.com/sluice-cdc/sluice/internal/procstat"
	"github.com/sluice-cdc/sluice/testenv/debezium"
)

// A Variant is one configuration of the Debezium connectors.
type Variant string

// The variants, in the order a run drains them.
const (
	Tuned   Variant = "tuned"
	Default Variant = "default"
)

// Variants are all the variants, in the order a run drains them.
var Variants = []Variant{Tuned, Default}

// Of returns the variants, in order, that a run has connectors of.
func Of(connectors map[Variant]Connector) []Variant {
	return slices.DeleteFunc(slices.Clone(Variants), func(v Variant) bool {
		_, ok := connectors[v]
		return !ok
	})
}

// Tuning are the connector keys of the Tuned variant: Debezium's queue
// and batch (max.batch.size, 2048 by default; max.queue.size, 8192, must
// stay above it) raised five-fold, and the producer tuned for throughput
// as Kafka's producer guidance has it (batch.size 16 KiB → 256 KiB,
// linger.ms 0 → 20, lz4 compression), through Kafka Connect's
// producer.override.* (allowed by the worker's default
// connector.client.config.override.policy, All).
var Tuning = map[string]string{
	"max.batch.size":                     "10240",
	"max.queue.size":                     "40960",
	"producer.override.batch.size":       "262144",
	"producer.override.linger.ms":        "20",
	"producer.override.compression.type": "lz4",
}

// JVM are the options of each worker's JVM: those Kafka's
// connect-standalone.sh and kafka-run-class.sh use by default (a heap of
// 256 MB growing to 2 GB, G1 with their pause settings).
var JVM = []string{"-Xms256M", "-Xmx2G", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
	"-XX:InitiatingHeapOccupancyPercent=35", "-XX:+ExplicitGCInvokesConcurrent"}

// Workers are the running workers, one per variant, of one Debezium
// distribution. They serve every run of a benchmark process; each run
// creates its connectors and removes them (Remove).
type Workers struct {
	w map[Variant]*debezium.Worker
}

// Start launches a worker of distribution d for each variant, writing to
// brokers. Close stops them.
func Start(d debezium.Distribution, brokers []string) (*Workers, error) {
	cp, err := d.Classpath()
	if err != nil {
		return nil, err
	}
	ws := &Workers{w: map[Variant]*debezium.Worker{}}
	for _, v := range Variants {
		w, err := debezium.Launch(cp, brokers, JVM...)
		if err != nil {
			ws.Close()
			return nil, fmt.Errorf("start Kafka Connect with %s for the %s variant: %w", d.Name, v, err)
		}
		ws.w[v] = w
	}
	return ws, nil
}

// Dir is the directory of variant v's worker, for files its connectors keep.
func (ws *Workers) Dir(v Variant) string { return ws.w[v].Dir }

// Close stops the workers and removes their directories.
func (ws *Workers) Close() {
	for v, w := range ws.w {
		if err := w.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stop the %s worker: %v; its log is %s\n", v, err, w.LogFile)
			continue
		}
		os.RemoveAll(w.Dir)
	}
}

// Connector is what a run gives one variant's connector.
type Connector struct {
	Name        string            // the connector's name, unique to the run and variant
	Config      map[string]string // its configuration, without Tuning
	Topic       string            // the topic the backlog's rows go to
	MarkerTopic string            // the topic of the marker table's changes
}

// config is c's configuration in variant v.
func (c Connector) config(v Variant) map[string]string {
	cfg := maps.Clone(c.Config)
	if v == Tuned {
		maps.Copy(cfg, Tuning)
	}
	return cfg
}

// Prepare creates each variant's connector (connectors) and waits until
// it runs, then calls mark(1), mark(2), … every second, each committing
// one change to the marker table, until every connector has written one
// (a connector still taking its snapshot when RUNNING misses the first),
// stopping each connector once it has: their offsets, committed on stop,
// are then past their snapshots and before whatever is written next.
func (ws *Workers) Prepare(ctx context.Context, k *kafkaenv.Env, connectors map[Variant]Connector, mark func(n int) error) error {
	for _, v := range Of(connectors) {
		c := connectors[v]
		if err := ws.w[v].Create(c.Name, c.config(v)); err != nil {
			return err
		}
	}
	return ws.marked(ctx, k, connectors, mark, func(v Variant) error { return ws.Stop(v, connectors[v]) })
}

// Stream creates variant v's connector c and waits until it streams: it
// calls mark(1), mark(2), … every second, as Prepare does, until one of
// those changes is in c.MarkerTopic, so that every change committed after
// Stream returns reaches the connector's topics. The connector runs until
// Stop or Remove.
func (ws *Workers) Stream(ctx context.Context, k *kafkaenv.Env, v Variant, c Connector, mark func(n int) error) error {
	if err := ws.w[v].Create(c.Name, c.config(v)); err != nil {
		return err
	}
	return ws.marked(ctx, k, map[Variant]Connector{v: c}, mark, nil)
}

// Stop stops variant v's connector c, which keeps its configuration and
// offsets (a Postgres connector leaves its slot, inactive); Remove deletes
// it.
func (ws *Workers) Stop(v Variant, c Connector) error { return ws.w[v].StopConnector(c.Name) }

// Failed reports an error once variant v's connector c or its worker has
// failed; nil otherwise. It asks the worker's REST API each time.
func (ws *Workers) Failed(v Variant, c Connector) error { return ws.w[v].Failed(c.Name) }

// marked calls mark(1), mark(2), … every second until each of connectors
// has written a marker change to its marker topic, and then done, when
// not nil, for that connector's variant. It gives up after 3 minutes.
func (ws *Workers) marked(ctx context.Context, k *kafkaenv.Env, connectors map[Variant]Connector, mark func(n int) error, done func(Variant) error) error {
	pending := Of(connectors)
	deadline := time.Now().Add(3 * time.Minute)
	for n := 1; len(pending) > 0; n++ {
		if time.Now().After(deadline) {
			return fmt.Errorf("Debezium %v: no marker change in their topics within 3 minutes", pending)
		}
		if err := mark(n); err != nil {
			return fmt.Errorf("commit marker change %d: %w", n, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
		var err error
		pending = slices.DeleteFunc(pending, func(v Variant) bool {
			c := connectors[v]
			if err != nil {
				return false
			}
			if err = ws.w[v].Failed(c.Name); err != nil {
				return false
			}
			var got int64
			if got, err = k.TopicRecords(ctx, c.MarkerTopic); err != nil || got == 0 {
				return false
			}
			if done != nil {
				err = done(v)
			}
			return err == nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// A Usage is the CPU time and peak RSS of one variant's JVM over a span
// of a run: from Workers.Measure to End.
type Usage struct {
	pid  int
	cpu0 time.Duration
}

// Measure resets the peak RSS of variant v's JVM (/proc/<pid>/clear_refs)
// and begins a span of its CPU time.
func (ws *Workers) Measure(v Variant) (*Usage, error) {
	pid := ws.w[v].Pid()
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		return nil, fmt.Errorf("reset the peak RSS of the %s worker: %w", v, err)
	}
	cpu0, err := procstat.CPU(pid)
	if err != nil {
		return nil, err
	}
	return &Usage{pid: pid, cpu0: cpu0}, nil
}

// End returns the JVM's user+system CPU time since Measure, in seconds,
// and its peak RSS since then (VmHWM), in MiB.
func (u *Usage) End() (cpuSeconds, peakRSSMB float64, err error) {
	cpu1, err := procstat.CPU(u.pid)
	if err != nil {
		return 0, 0, err
	}
	_, hwm, err := procstat.Memory(u.pid)
	if err != nil {
		return 0, 0, err
	}
	return (cpu1 - u.cpu0).Seconds(), float64(hwm) / (1 << 20), nil
}

// Run is one variant's drain or initial snapshot.
type Run struct {
	WallSeconds   float64 // from the resume (drain) or create (snapshot) request until the topic holds every row
	CPUSeconds    float64 // the JVM's user+system CPU over the same span
	PeakRSSMB     float64 // the JVM's peak RSS over the same span, MiB
	RowsPerSecond float64
	CPUPerMillion float64
}

// Drain resumes variant v's connector c, stopped by Prepare, and waits
// until its topic holds rows records (no progress for 60 s fails; any
// other count afterwards fails too). The JVM's peak RSS is reset first
// (/proc/<pid>/clear_refs), so that the figure is the drain's.
func (ws *Workers) Drain(ctx context.Context, k *kafkaenv.Env, v Variant, c Connector, rows int64) (Run, error) {
	return ws.timed(ctx, k, v, c, rows, "drain", func(w *debezium.Worker) error { return w.Resume(c.Name) })
}

// Snapshot creates variant v's connector c, whose configuration has
// snapshot.mode=initial, on a table of rows rows, and waits until its
// topic holds them all, as Drain does: the wall time runs from the create
// request, and includes the task's start and the creation of its
// replication slot. The connector streams on afterwards, until Remove.
func (ws *Workers) Snapshot(ctx context.Context, k *kafkaenv.Env, v Variant, c Connector, rows int64) (Run, error) {
	return ws.timed(ctx, k, v, c, rows, "snapshot", func(w *debezium.Worker) error { return w.Create(c.Name, c.config(v)) })
}

// timed measures variant v's connector c from the call of start until its
// topic holds rows records, for Drain and Snapshot (what names the run in
// errors).
func (ws *Workers) timed(ctx context.Context, k *kafkaenv.Env, v Variant, c Connector, rows int64, what string, start func(*debezium.Worker) error) (Run, error) {
	var r Run
	w := ws.w[v]
	u, err := ws.Measure(v)
	if err != nil {
		return r, err
	}
	began := time.Now()
	if err := start(w); err != nil {
		return r, err
	}
	doneAt, err := k.WaitRecords(ctx, c.Topic, rows, 60*time.Second, func() error { return w.Failed(c.Name) }, nil)
	if err != nil {
		return r, fmt.Errorf("Debezium %s: %w", v, err)
	}
	if r.CPUSeconds, r.PeakRSSMB, err = u.End(); err != nil {
		return r, err
	}
	if n, err := k.TopicRecords(ctx, c.Topic); err != nil || n != rows {
		return r, errors.Join(err, fmt.Errorf("Debezium %s: topic %s holds %d records after the %s, want %d", v, c.Topic, n, what, rows))
	}
	r.WallSeconds = doneAt.Sub(began).Seconds()
	r.RowsPerSecond = float64(rows) / r.WallSeconds
	r.CPUPerMillion = r.CPUSeconds / float64(rows) * 1e6
	return r, nil
}

// DrainAll drains each variant's connector in turn (Drain) and keeps each
// run's figures in f beside sluice's rate in the same run; started, when
// not nil, is told of each variant before its drain.
func (ws *Workers) DrainAll(ctx context.Context, k *kafkaenv.Env, connectors map[Variant]Connector, rows int64, sluiceRowsPerSecond float64, f *Debezium, started func(Variant)) error {
	return ws.all(ctx, k, connectors, rows, sluiceRowsPerSecond, f, started, ws.Drain)
}

// SnapshotAll takes each variant's initial snapshot in turn (Snapshot),
// and keeps the figures as DrainAll does.
func (ws *Workers) SnapshotAll(ctx context.Context, k *kafkaenv.Env, connectors map[Variant]Connector, rows int64, sluiceRowsPerSecond float64, f *Debezium, started func(Variant)) error {
	return ws.all(ctx, k, connectors, rows, sluiceRowsPerSecond, f, started, ws.Snapshot)
}

// all runs each variant in turn through run, keeping the figures in f.
func (ws *Workers) all(ctx context.Context, k *kafkaenv.Env, connectors map[Variant]Connector, rows int64, sluiceRowsPerSecond float64, f *Debezium, started func(Variant),
	run func(context.Context, *kafkaenv.Env, Variant, Connector, int64) (Run, error)) error {
	for _, v := range Of(connectors) {
		if started != nil {
			started(v)
		}
		r, err := run(ctx, k, v, connectors[v], rows)
		if err != nil {
			return err
		}
		f.Set(v, r, sluiceRowsPerSecond)
	}
	return nil
}

// Remove deletes the run's connectors (a Postgres connector then releases
// its slot); failures are reported on stderr.
func (ws *Workers) Remove(connectors map[Variant]Connector) {
	for v, c := range connectors {
		if err := ws.w[v].Delete(c.Name); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
}

// Debezium are a drain's or an initial snapshot's baseline figures, for a
// benchmark's result (flat, so that figures.Median takes the median of
// each).
type Debezium struct {
	TunedRowsPerSecond   float64 `json:"debezium_tuned_rows_per_s,omitempty"`
	TunedCPUPerMillion   float64 `json:"debezium_tuned_cpu_s_per_1m,omitempty"`
	TunedPeakRSSMB       float64 `json:"debezium_tuned_peak_rss_mb,omitempty"`
	DefaultRowsPerSecond float64 `json:"debezium_default_rows_per_s,omitempty"`
	DefaultCPUPerMillion float64 `json:"debezium_default_cpu_s_per_1m,omitempty"`
	DefaultPeakRSSMB     float64 `json:"debezium_default_peak_rss_mb,omitempty"`
	// sluice's rows/s over each variant's, in the same run.
	TimesTuned   float64 `json:"sluice_x_debezium_tuned,omitempty"`
	TimesDefault float64 `json:"sluice_x_debezium_default,omitempty"`

	// steady: each variant's commit → Kafka append latency, ms, and its p99
	// over sluice's in the same run (rows/s, CPU and RSS as above, over
	// the load: Steady).
	TunedLatencySamples   float64 `json:"debezium_tuned_latency_samples,omitempty"`
	TunedLatencyP50       float64 `json:"debezium_tuned_latency_p50_ms,omitempty"`
	TunedLatencyP99       float64 `json:"debezium_tuned_latency_p99_ms,omitempty"`
	TunedLatencyMax       float64 `json:"debezium_tuned_latency_max_ms,omitempty"`
	DefaultLatencySamples float64 `json:"debezium_default_latency_samples,omitempty"`
	DefaultLatencyP50     float64 `json:"debezium_default_latency_p50_ms,omitempty"`
	DefaultLatencyP99     float64 `json:"debezium_default_latency_p99_ms,omitempty"`
	DefaultLatencyMax     float64 `json:"debezium_default_latency_max_ms,omitempty"`
	TunedP99TimesSluice   float64 `json:"debezium_tuned_p99_x_sluice,omitempty"`
	DefaultP99TimesSluice float64 `json:"debezium_default_p99_x_sluice,omitempty"`
}

// Set keeps variant v's run r; sluiceRowsPerSecond is sluice's rate in the
// same run.
func (f *Debezium) Set(v Variant, r Run, sluiceRowsPerSecond float64) {
	x := sluiceRowsPerSecond / r.RowsPerSecond
	switch v {
	case Tuned:
		f.TunedRowsPerSecond, f.TunedCPUPerMillion, f.TunedPeakRSSMB, f.TimesTuned = r.RowsPerSecond, r.CPUPerMillion, r.PeakRSSMB, x
	case Default:
		f.DefaultRowsPerSecond, f.DefaultCPUPerMillion, f.DefaultPeakRSSMB, f.TimesDefault = r.RowsPerSecond, r.CPUPerMillion, r.PeakRSSMB, x
	}
}

// Steady is one variant's share of a steady run: the latency from each
// commit to the Kafka append of its change, ms, the rate the load was
// committed at (changes over the load's duration, as sluice's rows_per_s
// in a steady run: below the target when the writer fell behind), and
// its JVM's cost over the load.
type Steady struct {
	Samples, P50, P99, Max   float64
	RowsPerSecond            float64
	CPUPerMillion, PeakRSSMB float64
}

// SetSteady keeps variant v's steady run s; sluiceP99 is sluice's p99 in
// the same run (the ratio is left out when it is 0).
func (f *Debezium) SetSteady(v Variant, s Steady, sluiceP99 float64) {
	var x float64
	if sluiceP99 > 0 {
		x = s.P99 / sluiceP99
	}
	switch v {
	case Tuned:
		f.TunedLatencySamples, f.TunedLatencyP50, f.TunedLatencyP99, f.TunedLatencyMax = s.Samples, s.P50, s.P99, s.Max
		f.TunedRowsPerSecond, f.TunedCPUPerMillion, f.TunedPeakRSSMB, f.TunedP99TimesSluice = s.RowsPerSecond, s.CPUPerMillion, s.PeakRSSMB, x
	case Default:
		f.DefaultLatencySamples, f.DefaultLatencyP50, f.DefaultLatencyP99, f.DefaultLatencyMax = s.Samples, s.P50, s.P99, s.Max
		f.DefaultRowsPerSecond, f.DefaultCPUPerMillion, f.DefaultPeakRSSMB, f.DefaultP99TimesSluice = s.RowsPerSecond, s.CPUPerMillion, s.PeakRSSMB, x
	}
}
