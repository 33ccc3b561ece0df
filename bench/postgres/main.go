// Command postgres benchmarks the Postgres source end to end: Postgres WAL →
// pgoutput → sluice's source and Kafka writer → Kafka (Avro, acks=all).
//
// The driver (this process) creates a database of its own, writes the
// workload and measures; the pipeline runs in a child process (the same
// binary with -role sluice) so that its CPU time and peak RSS are measured
// apart from the driver's. Two workloads:
//
//   - drain: a backlog of -rows rows is written while sluice is stopped, then
//     sluice drains it; the same WAL is also read raw by pg_recvlogical with
//     pgoutput, the ceiling of the run.
//   - steady: a fixed rate of inserts, updates and deletes while sluice
//     streams; the latency from commit (source.ts_ms) to the Kafka append
//     (LogAppendTime) is measured.
//
// Each run prints one JSON line; with -runs > 1 a last line holds the median
// of every figure. See bench/README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sluice-cdc/sluice/bench/internal/figures"
	"github.com/sluice-cdc/sluice/bench/internal/pipeline"
)

// options are the driver's flags.
type options struct {
	workload string
	runs     int
	pgURL    string
	brokers  string
	verbose  bool

	// drain
	rows        int
	copyBatch   int
	recvlogical string

	// steady
	rate     int
	duration time.Duration
	txRows   int
	prefill  int
	warmup   time.Duration
	// latencyFile, when set, receives every latency sample as CSV.
	latencyFile string

	// pipeline
	cpuProfile string
	producer   pipeline.Producer
	// transforms runs the drain through a chain of three transforms.
	transforms bool
}

func main() {
	role := flag.String("role", "driver", "driver, or sluice for the pipeline child process (internal)")
	var o options
	flag.StringVar(&o.workload, "workload", "", "drain or steady")
	flag.IntVar(&o.runs, "runs", 1, "independent runs; with more than one, the median of each figure is printed last")
	flag.StringVar(&o.pgURL, "pg", os.Getenv("SLUICE_TEST_PG_URL"), "Postgres URL of a role with CREATEDB and REPLICATION (default $SLUICE_TEST_PG_URL)")
	flag.StringVar(&o.brokers, "brokers", os.Getenv("SLUICE_TEST_KAFKA_BROKERS"), "Kafka seed brokers, comma separated (default $SLUICE_TEST_KAFKA_BROKERS)")
	flag.BoolVar(&o.verbose, "v", false, "log progress, and the pipeline's info logs")
	flag.IntVar(&o.rows, "rows", 5_000_000, "drain: rows in the backlog")
	flag.IntVar(&o.copyBatch, "copy-batch", 10_000, "drain: rows per COPY transaction of the backlog")
	flag.StringVar(&o.recvlogical, "recvlogical", "/usr/lib/postgresql/15/bin/pg_recvlogical", "drain: the pg_recvlogical binary")
	flag.IntVar(&o.rate, "rate", 10_000, "steady: rows changed per second")
	flag.DurationVar(&o.duration, "duration", 60*time.Second, "steady: how long the load runs")
	flag.IntVar(&o.txRows, "tx-rows", 10, "steady: rows changed per transaction")
	flag.IntVar(&o.prefill, "prefill", 200_000, "steady: rows in the table before the load (not captured)")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "steady: changes committed this long after the load starts are left out of the latency figures")
	flag.StringVar(&o.latencyFile, "latency-csv", "", "steady: write every sample (commit_ms,latency_ms) to this file (run N>1 gets a .N suffix)")
	flag.BoolVar(&o.transforms, "transforms", false, "drain: run the changes through RegexRouter, ExtractNewRecordState and ReplaceField$Value (routed to <database>-rows)")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a pprof CPU profile of the pipeline child to this file (run N>1 gets a .N suffix)")
	o.producer.Flags(flag.CommandLine)
	var c pipeline.ChildOptions
	c.ChildFlags(flag.CommandLine)
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch *role {
	case "sluice":
		c.Brokers, c.CPUProfile, c.Producer, c.Verbose = o.brokers, o.cpuProfile, o.producer, o.verbose
		err = pipeline.Run(ctx, c)
	case "driver":
		err = drive(ctx, o)
	default:
		err = fmt.Errorf("unknown -role %q: want driver or sluice", *role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/postgres:", err)
		os.Exit(1)
	}
}

// drive runs the workload o.runs times, printing each result and then the
// medians.
func drive(ctx context.Context, o options) error {
	if o.pgURL == "" || o.brokers == "" {
		return fmt.Errorf("no Postgres URL or Kafka brokers: source /tmp/sluice-testenv/env.sh (or pass -pg and -brokers)")
	}
	var run func(context.Context, options, int) (result, error)
	switch o.workload {
	case "drain":
		run = runDrain
	case "steady":
		if o.transforms {
			return fmt.Errorf("-transforms goes with -workload drain: the steady workload's latency is read from Debezium envelopes")
		}
		run = runSteady
	default:
		return fmt.Errorf("unknown -workload %q: want drain or steady", o.workload)
	}
	var results []result
	for i := 1; i <= o.runs; i++ {
		r, err := run(ctx, o, i)
		if err != nil {
			return fmt.Errorf("%s run %d: %w", o.workload, i, err)
		}
		r.Workload, r.Run = o.workload, fmt.Sprint(i)
		figures.PrintJSON(r)
		results = append(results, r)
	}
	if len(results) > 1 {
		m := figures.Median(results)
		m.Workload, m.Run = o.workload, fmt.Sprintf("median of %d", len(results))
		figures.PrintJSON(m)
	}
	return nil
}
