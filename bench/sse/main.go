// Command sse benchmarks the SSE sink (connectors/sse): how much memory it
// holds per idle subscriber, and how many events per second of CPU it
// delivers to 1,000 subscribers and with what latency.
//
// The driver (this process) runs the schema registry, the source of the
// events and the subscribers; the sink runs in a child process (the same
// binary with -role sink) so that its memory and CPU are measured alone.
// Two workloads:
//
//   - idle: -subscribers connections are opened and left idle; the child's
//     RSS is read before (the baseline) and after.
//   - deliver: -subscribers connections (default 1,000) receive events
//     written at -rate per second for -duration, numbered by the row's id;
//     each subscriber records when it read each event. With -source kafka
//     (the default) the driver produces the records with sluice's Kafka
//     writer and latency runs from when each record was made; with -source
//     postgres the driver commits the rows to Postgres, a `sluice run`
//     daemon with the Postgres source connector streams them to Kafka, and
//     latency runs from each row's commit.
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
	"strings"
	"syscall"
	"time"

	"github.com/sluice-cdc/sluice/bench/internal/daemon"
)

// options are the driver's flags.
type options struct {
	workload    string
	source      string
	pgURL       string
	sluice      string
	txRows      int
	runs        int
	brokers     string
	subscribers int
	sourceIPs   int
	dialers     int
	settle      time.Duration
	rate        int
	duration    time.Duration
	warmup      time.Duration
	heartbeat   time.Duration
	cpuProfile  string
	verbose     bool
}

func main() {
	var o options
	var role, registryURL, topic string
	flag.StringVar(&role, "role", "driver", "driver, or sink (the child process; internal)")
	flag.StringVar(&o.workload, "workload", "idle", "idle or deliver")
	flag.StringVar(&o.source, "source", sourceKafka, "deliver: where the events come from: kafka (produced by the driver) or postgres (committed to Postgres, streamed by a sluice daemon)")
	flag.StringVar(&o.pgURL, "pg", os.Getenv("SLUICE_TEST_PG_URL"), "-source postgres: Postgres URL of a superuser with REPLICATION (default $SLUICE_TEST_PG_URL)")
	flag.StringVar(&o.sluice, "sluice", "", "-source postgres: the sluice binary to run; empty builds ./cmd/sluice as the release does")
	flag.IntVar(&o.txRows, "tx-rows", 0, "-source postgres: rows per transaction (default: rate/100, so a transaction every 10 ms)")
	flag.IntVar(&o.runs, "runs", 1, "runs; with more than one a last line holds the medians")
	flag.StringVar(&o.brokers, "brokers", os.Getenv("SLUICE_TEST_KAFKA_BROKERS"), "Kafka bootstrap brokers, comma-separated (default $SLUICE_TEST_KAFKA_BROKERS)")
	flag.IntVar(&o.subscribers, "subscribers", 0, "subscribers (default: idle 10000, deliver 1000)")
	flag.IntVar(&o.sourceIPs, "source-ips", 0, "client source addresses 127.0.0.2.. (default: one per 20,000 subscribers)")
	flag.IntVar(&o.dialers, "dialers", 64, "connections opened concurrently")
	flag.DurationVar(&o.settle, "settle", 5*time.Second, "idle: wait after the last connection before reading RSS")
	flag.IntVar(&o.rate, "rate", 200, "deliver: events produced per second")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "deliver: how long events are produced")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "deliver: events produced in the first 2 s are left out of the latency figures")
	flag.DurationVar(&o.heartbeat, "heartbeat", 15*time.Second, "the sink's heartbeat.interval.ms")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write the sink process's CPU profile of each run to this file (the last run's remains)")
	flag.BoolVar(&o.verbose, "v", false, "log progress")
	flag.StringVar(&registryURL, "registry", "", "sink role: schema registry URL")
	flag.StringVar(&topic, "topic", "", "sink role: topic to stream")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch role {
	case "sink":
		err = runSink(ctx, strings.Split(o.brokers, ","), registryURL, topic, o.heartbeat, o.cpuProfile)
	case "driver":
		err = drive(ctx, o)
	default:
		err = fmt.Errorf("unknown -role %q", role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sse bench:", err)
		os.Exit(1)
	}
}

func drive(ctx context.Context, o options) error {
	if o.brokers == "" {
		return fmt.Errorf("no Kafka brokers: set -brokers or SLUICE_TEST_KAFKA_BROKERS (eval \"$(testenv/up.sh)\")")
	}
	if o.subscribers == 0 {
		o.subscribers = 10000
		if o.workload == "deliver" {
			o.subscribers = 1000
		}
	}
	switch {
	case o.source != sourceKafka && o.source != sourcePostgres:
		return fmt.Errorf("unknown -source %q (kafka or postgres)", o.source)
	case o.source == sourcePostgres && o.workload != "deliver":
		return fmt.Errorf("-source postgres applies to -workload deliver only")
	case o.workload == "deliver" && (o.rate <= 0 || o.duration <= 0 || o.warmup < 0 || o.txRows < 0):
		return fmt.Errorf("-rate and -duration must be positive and -warmup and -tx-rows not negative")
	case o.source == sourcePostgres && o.pgURL == "":
		return fmt.Errorf("no Postgres URL: set -pg or SLUICE_TEST_PG_URL (eval \"$(testenv/up.sh)\")")
	}
	if o.source == sourcePostgres && o.sluice == "" {
		dir, err := os.MkdirTemp("", "bench-sse-sluice-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		logf(o, "building the sluice binary")
		if o.sluice, err = daemon.Build(ctx, dir); err != nil {
			return err
		}
	}
	if o.sourceIPs == 0 {
		o.sourceIPs = (o.subscribers + 19999) / 20000
	}
	limit, err := raiseNoFile(maxFiles)
	if err != nil {
		return err
	}
	if need := uint64(o.subscribers) + 256; limit < need {
		return fmt.Errorf("%d subscribers need %d open files in each process; RLIMIT_NOFILE is %d", o.subscribers, need, limit)
	}
	var results []result
	for i := 0; i < o.runs; i++ {
		var r result
		var err error
		switch o.workload {
		case "idle":
			r, err = runIdle(ctx, o)
		case "deliver":
			r, err = runDeliver(ctx, o)
		default:
			return fmt.Errorf("unknown -workload %q (idle or deliver)", o.workload)
		}
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		r.print()
		results = append(results, r)
	}
	if len(results) > 1 {
		median(results).print()
	}
	return nil
}

// raiseNoFile raises this process's soft open-file limit to n, or to the
// hard limit when that is lower (raising the hard limit needs
// CAP_SYS_RESOURCE), and returns the limit in force.
func raiseNoFile(n uint64) (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, fmt.Errorf("read RLIMIT_NOFILE: %w", err)
	}
	if l.Cur >= n {
		return l.Cur, nil
	}
	l.Cur = min(n, l.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, fmt.Errorf("raise RLIMIT_NOFILE to %d: %w", l.Cur, err)
	}
	return l.Cur, nil
}

func logf(o options, format string, args ...any) {
	if o.verbose {
		fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05.000 ")+format+"\n", args...)
	}
}
