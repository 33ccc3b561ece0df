// Command elasticsearch benchmarks the Elasticsearch sink. The throughput
// workload (the default): N upserts pre-produced to a Kafka topic are
// indexed once by go-elasticsearch's esutil.BulkIndexer directly (the
// ceiling) and once by sluice's sink consuming the topic, which runs in a
// child process (the same binary with -role sink) so that its peak RSS is
// its own; with -instances N, in N child processes that share the
// partitions as a cluster's instances each running a task of the sink do. The latency workload (-workload latency): changes committed to
// Postgres at a fixed rate flow through two sluice daemons (a Postgres
// source and an Elasticsearch sink) over Kafka, and each change's time from
// its commit until a search finds it is measured; a first phase of each run,
// the baseline, writes the same changes on the same schedule straight to
// Elasticsearch with bulk requests. Each run prints one JSON
// line; with -runs N a last line holds the medians.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// options are the driver's flags.
type options struct {
	workload   string
	brokers    string
	esURL      string
	pgURL      string
	sluice     string
	rate       int
	txRows     int
	duration   time.Duration
	warmup     time.Duration
	poll       time.Duration
	rows       int
	partitions int
	instances  int
	runs       int
	workers    int
	seed       uint64
	verbose    bool
}

func main() {
	var o options
	var c childOptions
	role := flag.String("role", "driver", "driver, or sink for the sink child process (internal)")
	flag.StringVar(&o.workload, "workload", "throughput", "throughput (a topic drained by the sink and by BulkIndexer) or latency (commit to searchable at a fixed rate)")
	flag.StringVar(&o.pgURL, "pg", os.Getenv("SLUICE_TEST_PG_URL"), "latency: Postgres URL of a superuser with REPLICATION (default $SLUICE_TEST_PG_URL)")
	flag.StringVar(&o.sluice, "sluice", "", "latency: the sluice binary to run; empty builds ./cmd/sluice as the release does")
	flag.IntVar(&o.rate, "rate", 5000, "latency: changes committed per second")
	flag.IntVar(&o.txRows, "tx-rows", 10, "latency: changes per transaction")
	flag.DurationVar(&o.duration, "duration", 30*time.Second, "latency: how long changes are measured, after the warm-up")
	flag.DurationVar(&o.warmup, "warmup", 5*time.Second, "latency: changes committed in this first part of the load are left out")
	flag.DurationVar(&o.poll, "poll", 20*time.Millisecond, "latency: interval between searches for newly visible changes")
	flag.StringVar(&o.brokers, "brokers", os.Getenv("SLUICE_TEST_KAFKA_BROKERS"), "Kafka bootstrap brokers, comma-separated (default $SLUICE_TEST_KAFKA_BROKERS)")
	flag.StringVar(&o.esURL, "es", os.Getenv("SLUICE_TEST_ES_URL"), "Elasticsearch URL (default $SLUICE_TEST_ES_URL)")
	flag.IntVar(&o.rows, "rows", 200000, "throughput: upserts pre-produced to the topic")
	flag.IntVar(&o.partitions, "partitions", 4, "throughput: partitions of the topic")
	flag.IntVar(&o.instances, "instances", 1, "throughput: sink processes, members of one consumer group as a cluster's instances each running a task of the sink")
	flag.IntVar(&o.runs, "runs", 3, "runs; with more than one, a last line holds the medians")
	flag.IntVar(&o.workers, "bulk-workers", 0, "throughput: BulkIndexer workers of the ceiling (0: the library default, one per CPU)")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the generated rows")
	flag.BoolVar(&o.verbose, "v", false, "log progress to stderr")
	flag.StringVar(&c.configFile, "config", "", "sink role: the connector configuration, a JSON object of strings")
	flag.StringVar(&c.registryURL, "registry", "", "sink role: the Schema Registry URL")
	flag.StringVar(&c.name, "name", "", "sink role: the connector name")
	flag.Parse()

	level := slog.LevelWarn
	if o.verbose {
		level = slog.LevelInfo
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var err error
	switch *role {
	case "driver":
		switch o.workload {
		case "throughput":
			err = drive(ctx, o)
		case "latency":
			err = driveLatency(ctx, o)
		default:
			err = fmt.Errorf("unknown -workload %q: want throughput or latency", o.workload)
		}
	case "sink":
		c.brokers = strings.Split(o.brokers, ",")
		err = runSink(ctx, c)
	default:
		err = fmt.Errorf("unknown -role %q: want driver or sink", *role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/elasticsearch:", err)
		os.Exit(1)
	}
}
