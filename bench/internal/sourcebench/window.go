package sourcebench

import (
	"context"
	"fmt"
	"time"

	"github.com/sluice-cdc/sluice/bench/internal/pipeline"
	"github.com/sluice-cdc/sluice/internal/procstat"
)

// CPUSpan is the CPU time a process uses from when it was begun until
// Finish: procstat.Sampler (a walsender, which ends with its connection)
// or procstat.Span (a server).
type CPUSpan interface {
	Finish() time.Duration
}

// Window is the measured part of a run: it begins while the pipeline works
// (Measure) and ends once the run's topic holds the records wanted.
type Window struct {
	e                *Env
	c                *pipeline.Child
	database, broker CPUSpan
}

// Measure begins a window of the pipeline c: the CPU time of database (the
// server side that serves sluice, begun by the caller) and of the local
// Kafka broker from now.
func (e *Env) Measure(c *pipeline.Child, database CPUSpan) *Window {
	return &Window{e: e, c: c, database: database, broker: procstat.BeginListener(e.Kafka.Brokers[0])}
}

// CPU is the CPU time, in seconds, that the database and the Kafka broker
// used in a window.
type CPU struct{ Database, Broker float64 }

// end waits until the topic holds want records (failing when the pipeline
// stops or the count does not move for stall), ends the CPU spans, and
// stops the pipeline, keeping its CPU time and peak RSS in f. It returns
// when the records were seen. On an error the pipeline is killed.
func (w *Window) end(ctx context.Context, f *Figures, want int64, stall time.Duration) (time.Time, CPU, error) {
	doneAt, err := w.e.WaitRecords(ctx, w.c, want, stall)
	cpu := CPU{Database: w.database.Finish().Seconds(), Broker: w.broker.Finish().Seconds()}
	if err != nil {
		w.c.Kill()
		return doneAt, cpu, err
	}
	return doneAt, cpu, f.Stop(w.c)
}

// Drained ends a drain of f.Rows rows: once the topic holds them all (no
// progress for 60 s fails) it stops the pipeline, checks that the topic
// holds exactly that many records, and takes them and the wall time from
// the pipeline's ready report into f.
func (w *Window) Drained(ctx context.Context, f *Figures) (CPU, error) {
	want := int64(f.Rows)
	doneAt, cpu, err := w.end(ctx, f, want, 60*time.Second)
	if err != nil {
		return cpu, err
	}
	n, err := w.e.Records(ctx)
	if err != nil {
		return cpu, err
	}
	if n != want {
		return cpu, fmt.Errorf("topic %s holds %d records after the drain, want %d", w.e.Topic, n, want)
	}
	f.Records = float64(n)
	f.WallSeconds = doneAt.Sub(w.c.ReadyAt).Seconds()
	return cpu, nil
}

// Caught ends a steady load: once the topic holds at least want records
// (no progress for 30 s fails) it stops the pipeline. Latencies checks
// the exact count.
func (w *Window) Caught(ctx context.Context, f *Figures, want int64) (CPU, error) {
	_, cpu, err := w.end(ctx, f, want, 30*time.Second)
	return cpu, err
}
