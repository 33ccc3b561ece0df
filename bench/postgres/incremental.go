package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-cdc/sluice/bench/internal/appended"
	"github.com/sluice-cdc/sluice/bench/internal/figures"
	"github.com/sluice-cdc/sluice/bench/internal/pipeline"
	"github.com/sluice-cdc/sluice/bench/internal/rowgen"
	"github.com/sluice-cdc/sluice/bench/internal/sourcebench"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/registry"
)

// signalTable is the signal table of the incremental workload.
const signalTable = "public.sluice_signal"

// runIncremental measures the initial snapshot of a table of -rows rows,
// then, while the steady load streams, an incremental snapshot of the same
// table started through the signal table: both rates, and the commit →
// Kafka append latency of the changes committed while the incremental
// snapshot ran.
func (o *options) runIncremental(ctx context.Context, run int) (result, error) {
	var r result
	if err := o.CheckSteady(); err != nil {
		return r, err
	}
	r.LoadAverage = loadAverage()
	e, err := newRunEnv(ctx, o, "incremental", run)
	if err != nil {
		return r, err
	}
	defer e.close()
	for _, q := range []string{"CREATE TABLE " + signalTable + " (id text PRIMARY KEY, type text NOT NULL, data text)",
		"ALTER PUBLICATION " + e.Name + " ADD TABLE " + signalTable} {
		if _, err := e.db.Exec(ctx, q); err != nil {
			return r, fmt.Errorf("set up the signal table: %s: %w", q, err)
		}
	}
	if err := e.editConfig(map[string]string{"snapshot.mode": "initial", "signal.data.collection": signalTable}); err != nil {
		return r, err
	}
	o.Logf("run %d: writing %d rows", run, o.Rows)
	if err := o.shape.writeRows(ctx, e.db, 1, int64(o.Rows)+1, o.copyBatch); err != nil {
		return r, err
	}

	o.Logf("run %d: initial snapshot", run)
	initial := sourcebench.Figures{Rows: float64(o.Rows)}
	if _, err := e.initialSnapshot(ctx, &initial, ""); err != nil {
		return r, err
	}
	r.InitialSeconds = initial.WallSeconds
	r.InitialRowsPerSecond = float64(o.Rows) / r.InitialSeconds

	o.Logf("run %d: %d rows/s for %s, an incremental snapshot after %s", run, o.Rate, o.Duration, o.Warmup)
	c, err := e.StartChild(ctx, figures.RunFile(o.CPUProfile, run))
	if err != nil {
		return r, err
	}
	if _, err := e.waitSlotActive(ctx, c); err != nil {
		c.Kill()
		return r, err
	}
	if _, err := e.db.Exec(ctx, "SET synchronous_commit = on"); err != nil {
		c.Kill()
		return r, fmt.Errorf("set synchronous_commit: %w", err)
	}
	w := &writer{db: e.db, mix: rowgen.NewMix(run, o.Rows)}
	start := time.Now()
	loaded := make(chan error, 1)
	go func() { loaded <- o.Load(ctx, c.Failed, start, func(n int) error { return w.transaction(ctx, n) }) }()
	from, to, err := e.incrementalSnapshot(ctx, c, start.Add(o.Warmup), loaded)
	if err == nil {
		err = <-loaded
	}
	if err != nil {
		c.Kill()
		return r, err
	}
	r.WallSeconds = time.Since(start).Seconds()
	r.IncrementalSeconds = to.Sub(from).Seconds()

	// Every change the load made is in the topic once it holds the
	// initial snapshot, the changes and the incremental snapshot's rows;
	// the count of these is known once the topic is read.
	if err := e.settle(ctx, c); err != nil {
		c.Kill()
		return r, err
	}
	if err := r.Figures.Stop(c); err != nil {
		return r, err
	}
	lat, reads, records, err := e.duringSnapshot(ctx, int64(o.Rows), from, to, figures.RunFile(o.LatencyFile, run))
	if err != nil {
		return r, err
	}
	r.Records = float64(records)
	r.IncrementalRows = float64(reads)
	r.IncrementalRowsPerSecond = float64(reads) / r.IncrementalSeconds
	r.PercentOfInitial = 100 * r.IncrementalRowsPerSecond / r.InitialRowsPerSecond
	r.TargetRate = float64(o.Rate)
	r.Rows = float64(w.mix.Changes())
	r.Latency.Set(lat)
	r.derive()
	return r, nil
}

// editConfig changes keys of the run's connector configuration.
func (e *runEnv) editConfig(set map[string]string) error {
	b, err := os.ReadFile(e.ConfigFile)
	if err != nil {
		return err
	}
	cfg := map[string]string{}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return fmt.Errorf("read %s: %w", e.ConfigFile, err)
	}
	for k, v := range set {
		cfg[k] = v
	}
	return e.WriteConfig(cfg)
}

// incrementalSnapshot asks the source for an incremental snapshot of the
// table at at, through the signal table, and returns when the signal
// committed and when the source's offsets no longer held the snapshot:
// when its last chunk was durable in Kafka. It fails when the load ends
// (loaded) before.
func (e *runEnv) incrementalSnapshot(ctx context.Context, c *pipeline.Child, at time.Time, loaded <-chan error) (from, to time.Time, err error) {
	conn, err := pgx.Connect(ctx, e.pgURL.String())
	if err != nil {
		return from, to, err
	}
	defer conn.Close(ctx)
	select {
	case <-time.After(time.Until(at)):
	case err := <-loaded:
		return from, to, fmt.Errorf("the load ended before the snapshot started: %v", err)
	}
	if _, err := conn.Exec(ctx, "INSERT INTO "+signalTable+" VALUES ('bench', 'execute-snapshot', $1)",
		`{"data-collections": ["public.`+table+`"], "type": "incremental"}`); err != nil {
		return from, to, fmt.Errorf("signal the snapshot: %w", err)
	}
	from = time.Now()
	started := false
	for {
		select {
		case err := <-loaded:
			return from, to, fmt.Errorf("the load ended before the incremental snapshot: make -duration longer (%v)", err)
		case <-ctx.Done():
			return from, to, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if err := c.Failed(); err != nil {
			return from, to, err
		}
		running, err := e.snapshotRunning()
		if err != nil {
			return from, to, err
		}
		if running {
			started = true
		} else if started {
			return from, time.Now(), nil
		}
	}
}

// snapshotRunning reports whether the source's stored offsets hold an
// incremental snapshot under way.
func (e *runEnv) snapshotRunning() (bool, error) {
	stored, err := pipeline.Stored(e.StateDir)
	if err != nil {
		return false, err
	}
	for _, b := range stored {
		var st struct {
			Incremental json.RawMessage `json:"incremental"`
		}
		if json.Unmarshal(b, &st) == nil && len(st.Incremental) > 0 {
			return true, nil
		}
	}
	return false, nil
}

// settle waits until the run's topic stops growing for a second.
func (e *runEnv) settle(ctx context.Context, c *pipeline.Child) error {
	last, still := int64(-1), 0
	for still < 5 {
		if err := c.Failed(); err != nil {
			return err
		}
		n, err := e.Records(ctx)
		if err != nil {
			return err
		}
		if n == last {
			still++
		} else {
			last, still = n, 0
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil
}

// duringSnapshot reads the run's topic back: the commit → append latency
// of the changes committed between from and to, sorted, the number of
// incremental snapshot reads and the number of records; csv, when set,
// receives the latencies. It checks that the topic holds initial reads of
// the initial snapshot.
func (e *runEnv) duringSnapshot(ctx context.Context, initial int64, from, to time.Time, csv string) (lat *figures.Latencies, reads, records int64, err error) {
	lat = &figures.Latencies{}
	end, err := e.Records(ctx)
	if err != nil {
		return lat, 0, 0, err
	}
	reg, err := registry.New(e.Kafka.RegistryURL)
	if err != nil {
		return lat, 0, 0, err
	}
	var initialReads int64
	records, err = appended.Each(ctx, e.Kafka.Brokers, reg, e.Topic, end, 5*time.Minute, func(ev *event.Event, _ *event.Schema, at time.Time) error {
		switch {
		case ev.Op == event.OpRead && ev.Source.Snapshot == event.SnapshotIncremental:
			reads++
		case ev.Op == event.OpRead:
			initialReads++
		case ev.Source.TsMillis() >= from.UnixMilli() && ev.Source.TsMillis() <= to.UnixMilli():
			lat.Add(ev.Source.TsMillis(), at.UnixMilli()-ev.Source.TsMillis())
		}
		return nil
	})
	lat.Sort()
	if err == nil && csv != "" {
		err = lat.WriteCSV(csv)
	}
	switch {
	case err != nil:
	case initialReads != initial:
		err = fmt.Errorf("topic %s holds %d initial snapshot reads, want %d", e.Topic, initialReads, initial)
	case reads < initial/2:
		err = fmt.Errorf("topic %s holds %d incremental snapshot reads of a %d-row table", e.Topic, reads, initial)
	}
	return lat, reads, records, err
}

// loadAverage is the host's 1-minute load average, 0 when unknown.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _ := strconv.ParseFloat(strings.Fields(string(b))[0], 64)
	return f
}
