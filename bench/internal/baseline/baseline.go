// Package baseline runs Debezium's connectors over a source benchmark's
// drain backlog or the table of its initial snapshot, as users run them:
// on Kafka Connect standalone workers (testenv/debezium) writing JSON
// (JsonConverter with schemas) to the same Kafka broker. Each connector runs twice, on a worker of its own so that
// each JVM's CPU time and memory are its own: configured for throughput
// (Tuned: Tuning) and with Debezium's and Kafka Connect's defaults
// (Default).
//
// A drain with the baseline goes: Prepare before the backlog is written
// (each connector starts, takes its no_data snapshot, captures one marker
// change, so that its offsets are committed before the backlog, and is
// stopped), then Drain for each variant after it (the connector resumes
// from those offsets and is timed until its topic holds every row). An
// initial snapshot needs no preparation: Snapshot creates each variant's
// connector, configured with snapshot.mode=initial, after the table is
// written, and times it the same way.
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
	for _, v := range Variants {
		c := connectors[v]
		if err := ws.w[v].Create(c.Name, c.config(v)); err != nil {
			return err
		}
	}
	pending := slices.Clone(Variants)
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
			err = ws.w[v].StopConnector(c.Name)
			return err == nil
		})
		if err != nil {
			return err
		}
	}
	return nil
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
	pid := w.Pid()
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		return r, fmt.Errorf("reset the peak RSS of the %s worker: %w", v, err)
	}
	cpu0, err := procstat.CPU(pid)
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
	cpu1, err := procstat.CPU(pid)
	if err != nil {
		return r, err
	}
	_, hwm, err := procstat.Memory(pid)
	if err != nil {
		return r, err
	}
	if n, err := k.TopicRecords(ctx, c.Topic); err != nil || n != rows {
		return r, errors.Join(err, fmt.Errorf("Debezium %s: topic %s holds %d records after the %s, want %d", v, c.Topic, n, what, rows))
	}
	r.WallSeconds = doneAt.Sub(began).Seconds()
	r.CPUSeconds = (cpu1 - cpu0).Seconds()
	r.PeakRSSMB = float64(hwm) / (1 << 20)
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
	for _, v := range Variants {
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
