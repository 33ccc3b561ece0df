// Package sourcebench is what the source benchmarks (bench/postgres,
// bench/mysql) share around their database: the common flags, main with
// its two roles (the driver, and the pipeline child), the loop over runs
// and their medians, a run's Kafka side and directory, the pipeline child
// started with them, the steady load's schedule and latencies (and its
// runs through Debezium's connectors, with the baseline package), the
// drain's producer ceiling (sluice's records produced again, Kafka
// alone), and the figures every run reports. Each benchmark keeps its
// database: creating it, writing the rows, the drain's ceiling and the
// CPU of the server side.
package sourcebench

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/sluice-cdc/sluice/bench/internal/baseline"
	"github.com/sluice-cdc/sluice/bench/internal/figures"
	"github.com/sluice-cdc/sluice/bench/internal/pipeline"
)

// Options are the flags the source benchmarks share.
type Options struct {
	Workload string
	Runs     int
	Brokers  string
	Verbose  bool

	// drain
	Rows int
	// ProducerCeiling produces the drained records again to a fresh topic
	// (Env.Producer), in chunks of ProducerChunkMB MiB at most.
	ProducerCeiling bool
	ProducerChunkMB int

	// steady
	Rate     int
	Duration time.Duration
	TxRows   int
	Prefill  int
	Warmup   time.Duration
	// LatencyFile, when set, receives every latency sample as CSV.
	LatencyFile string

	// DebeziumDefaultRuns, when above 0, is how many runs (the first)
	// Debezium with its defaults runs in beside the tuned one (-debezium).
	DebeziumDefaultRuns int

	// pipeline
	CPUProfile string
	Producer   pipeline.Producer

	command string // bench/<name>, for messages; set by Main
}

// DebeziumVariants returns the variants of Debezium's connectors that run
// number run (counted from 1) drives: the tuned one always, the default
// one in the first -debezium-default-runs runs (in all when that is 0).
func (o *Options) DebeziumVariants(run int) []baseline.Variant {
	if o.DebeziumDefaultRuns > 0 && run > o.DebeziumDefaultRuns {
		return []baseline.Variant{baseline.Tuned}
	}
	return baseline.Variants
}

// Flags registers the common flags on fs.
func (o *Options) Flags(fs *flag.FlagSet) {
	fs.StringVar(&o.Workload, "workload", "", "drain or steady (bench/postgres: or incremental, snapshot)")
	fs.IntVar(&o.Runs, "runs", 1, "independent runs; with more than one, the median of each figure is printed last")
	fs.StringVar(&o.Brokers, "brokers", os.Getenv("SLUICE_TEST_KAFKA_BROKERS"), "Kafka seed brokers, comma separated (default $SLUICE_TEST_KAFKA_BROKERS)")
	fs.BoolVar(&o.Verbose, "v", false, "log progress, and the pipeline's info logs")
	fs.IntVar(&o.Rows, "rows", 5_000_000, "drain: rows in the backlog; incremental, snapshot (bench/postgres): rows in the table snapshotted")
	fs.BoolVar(&o.ProducerCeiling, "producer-ceiling", true, "drain: after sluice, read its records back and produce them again to a fresh topic with the same producer settings, timed: the Kafka-alone ceiling")
	fs.IntVar(&o.ProducerChunkMB, "producer-chunk-mb", 512, "drain: the producer ceiling holds at most this many MiB of records in memory at a time; a topic holding more is produced in chunks, their times summed")
	fs.IntVar(&o.Rate, "rate", 10_000, "steady: rows changed per second")
	fs.DurationVar(&o.Duration, "duration", 60*time.Second, "steady: how long the load runs")
	fs.IntVar(&o.TxRows, "tx-rows", 10, "steady: rows changed per transaction")
	fs.IntVar(&o.Prefill, "prefill", 200_000, "steady: rows in the table before the load (not captured)")
	fs.DurationVar(&o.Warmup, "warmup", 2*time.Second, "steady: changes committed this long after the load starts are left out of the latency figures")
	fs.StringVar(&o.LatencyFile, "latency-csv", "", "steady and incremental: write every sample (commit_ms,latency_ms) to this file (run N>1 gets a .N suffix; with -debezium, Debezium's to FILE.debezium_tuned and FILE.debezium_default)")
	fs.IntVar(&o.DebeziumDefaultRuns, "debezium-default-runs", 0, "with -debezium: Debezium with its defaults runs in the first N runs only, the tuned one in every run (0: both in every run)")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write a pprof CPU profile of the pipeline child to this file (run N>1 gets a .N suffix)")
	o.Producer.Flags(fs)
}

// Main is a source benchmark's main function; command names it in
// messages (bench/postgres). It registers the common flags and -role on
// flag.CommandLine, next to the benchmark's own registered before, parses
// them, and runs until SIGINT or SIGTERM either the pipeline child (-role
// sluice: pipeline.Run, for the source classes linked into the binary) or
// drive (-role driver, the default). On an error it prints it and exits 1.
func Main(command string, o *Options, drive func(ctx context.Context) error) {
	o.command = command
	role := flag.String("role", "driver", "driver, or sluice for the pipeline child process (internal)")
	o.Flags(flag.CommandLine)
	var c pipeline.ChildOptions
	c.ChildFlags(flag.CommandLine)
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch *role {
	case "sluice":
		c.Brokers, c.CPUProfile, c.Producer, c.Verbose = o.Brokers, o.CPUProfile, o.Producer, o.Verbose
		err = pipeline.Run(ctx, c)
	case "driver":
		err = drive(ctx)
	default:
		err = fmt.Errorf("unknown -role %q: want driver or sluice", *role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, command+":", err)
		os.Exit(1)
	}
}

// Drive runs the workload -workload names (a key of workloads: drain,
// steady, and those of one benchmark), -runs times, in turn, printing each
// run's figures as a JSON line and then, with more than one run, a line of
// their medians. It stops at the first error. R is the benchmark's
// result, a struct that embeds Figures.
func Drive[R any, P interface {
	*R
	label(workload, run string)
}](ctx context.Context, o *Options, workloads map[string]func(ctx context.Context, run int) (R, error)) error {
	run := workloads[o.Workload]
	if run == nil {
		names := slices.Sorted(maps.Keys(workloads))
		return fmt.Errorf("unknown -workload %q: want %s", o.Workload, strings.Join(names, ", "))
	}
	var results []R
	for i := 1; i <= o.Runs; i++ {
		r, err := run(ctx, i)
		if err != nil {
			return fmt.Errorf("%s run %d: %w", o.Workload, i, err)
		}
		P(&r).label(o.Workload, fmt.Sprint(i))
		figures.PrintJSON(r)
		results = append(results, r)
	}
	if len(results) > 1 {
		m := figures.Median(results)
		P(&m).label(o.Workload, fmt.Sprintf("median of %d", len(results)))
		figures.PrintJSON(m)
	}
	return nil
}

// Logf prints progress on stderr with -v.
func (o *Options) Logf(format string, args ...any) {
	if o.Verbose {
		fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
	}
}
