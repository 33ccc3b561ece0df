package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/sluice-cdc/sluice/bench/internal/baseline"
	"github.com/sluice-cdc/sluice/bench/internal/figures"
	"github.com/sluice-cdc/sluice/bench/internal/sourcebench"
)

// runSnapshot measures the initial snapshot of a table of -rows rows: how
// fast Postgres alone hands the table out (COPY TO STDOUT, read and
// discarded: the ceiling), how fast sluice snapshots it into Kafka, and
// with -debezium how fast Debezium does.
func (o *options) runSnapshot(ctx context.Context, run int) (result, error) {
	var r result
	e, err := newRunEnv(ctx, o, "snapshot", run)
	if err != nil {
		return r, err
	}
	defer e.close()
	if err := e.editConfig(map[string]string{"snapshot.mode": "initial"}); err != nil {
		return r, err
	}
	for _, c := range e.dbz {
		c.Config["snapshot.mode"] = "initial"
	}

	o.Logf("run %d: writing %d rows", run, o.Rows)
	if err := o.shape.writeRows(ctx, e.db, 1, int64(o.Rows)+1, o.copyBatch); err != nil {
		return r, err
	}
	// Every reader then finds the table as it would after a while in
	// service: hint bits set and pages all-visible, so the first reader
	// does not pay for writing them.
	if _, err := e.db.Exec(ctx, "VACUUM (ANALYZE) public."+table); err != nil {
		return r, fmt.Errorf("vacuum %s: %w", table, err)
	}
	r.Rows = float64(o.Rows)

	o.Logf("run %d: COPY %s TO STDOUT", run, table)
	if r.CeilingWallSeconds, err = e.copyOut(ctx, int64(o.Rows)); err != nil {
		return r, err
	}

	o.Logf("run %d: sluice snapshots the table", run)
	cpu, err := e.initialSnapshot(ctx, &r.Figures, figures.RunFile(o.CPUProfile, run))
	r.BrokerCPU = cpu.Broker
	if err != nil {
		return r, err
	}
	r.derive()
	if e.workers != nil {
		err = e.workers.SnapshotAll(ctx, e.Kafka, e.dbz, int64(o.Rows), r.RowsPerSecond, &r.Debezium, func(v baseline.Variant) {
			o.Logf("run %d: Debezium %s snapshots the table", run, v)
		})
	}
	return r, err
}

// copyOut reads the whole table with COPY TO STDOUT into io.Discard and
// returns the wall time from the statement's start to its end. It fails
// unless COPY handed out want rows.
func (e *runEnv) copyOut(ctx context.Context, want int64) (float64, error) {
	start := time.Now()
	tag, err := e.db.PgConn().CopyTo(ctx, io.Discard, "COPY public."+table+" TO STDOUT")
	wall := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("copy %s to stdout: %w", table, err)
	}
	if tag.RowsAffected() != want {
		return 0, fmt.Errorf("copy %s to stdout handed out %d rows, want %d", table, tag.RowsAffected(), want)
	}
	return wall.Seconds(), nil
}

// initialSnapshot starts sluice on the run's configuration, which must
// have snapshot.mode=initial, on a table of f.Rows rows that nothing else
// writes to, and times its initial snapshot: from the pipeline's ready
// report until the topic holds every row (sourcebench.Window.Drained: no
// progress for 60 s fails, and so does any other count once the pipeline
// has stopped). f gets the wall time, the records and the pipeline's CPU
// and peak RSS; profile, when set, receives its CPU profile. The CPU of
// the Postgres backends that serve the snapshot is not measured.
func (e *runEnv) initialSnapshot(ctx context.Context, f *sourcebench.Figures, profile string) (sourcebench.CPU, error) {
	c, err := e.StartChild(ctx, profile)
	if err != nil {
		return sourcebench.CPU{}, err
	}
	return e.Measure(c, notMeasured{}).Drained(ctx, f)
}

// notMeasured is the CPU of a server side that is not measured: none.
type notMeasured struct{}

func (notMeasured) Finish() time.Duration { return 0 }
