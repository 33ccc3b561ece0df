// Command postgres benchmarks the Postgres source end to end: Postgres WAL →
// pgoutput → sluice's source and Kafka writer → Kafka (Avro, acks=all).
//
// The driver (this process) creates a database of its own, writes the
// workload and measures; the pipeline runs in a child process (the same
// binary with -role sluice) so that its CPU time and peak RSS are measured
// apart from the driver's. The workloads:
//
//   - drain: a backlog of -rows rows is written while sluice is stopped, then
//     sluice drains it; the same WAL is also read raw by pg_recvlogical with
//     pgoutput, the ceiling of the run; the records sluice wrote are produced
//     again to a fresh topic with the same producer settings (Kafka alone,
//     -producer-ceiling); and with -debezium the backlog is drained by
//     Debezium's Postgres connector, tuned and with its defaults
//     (bench/internal/baseline). -shape wide makes the rows 50 columns of
//     about 2 KB; -copy-batch equal to -rows writes the backlog as one
//     transaction.
//   - steady: a fixed rate of inserts, updates and deletes while sluice
//     streams; the latency from commit (source.ts_ms) to the Kafka append
//     (LogAppendTime) is measured, and with -debezium that of Debezium's
//     connector, tuned and with its defaults, each streaming the same load
//     again in turn.
//   - incremental: the initial snapshot of a table of -rows rows, then an
//     incremental snapshot of it while the steady load streams; their
//     rates, and the streaming latency while the incremental one runs.
//   - snapshot: the initial snapshot of a table of -rows rows by sluice;
//     the same table read raw by COPY TO STDOUT, the ceiling, and with
//     -debezium snapshotted by Debezium's Postgres connector, tuned and
//     with its defaults.
//
// Each run prints one JSON line; with -runs > 1 a last line holds the median
// of every figure. See bench/README.md. What is not Postgres's is in
// bench/internal/sourcebench, shared with bench/mysql.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/sluice-cdc/sluice/bench/internal/baseline"
	"github.com/sluice-cdc/sluice/bench/internal/sourcebench"
	"github.com/sluice-cdc/sluice/testenv/debezium"

	// The source class the pipeline runs.
	_ "github.com/sluice-cdc/sluice/connectors/postgres"
)

// options are the driver's flags: the common ones and Postgres's.
type options struct {
	sourcebench.Options
	pgURL string

	// drain
	shapeName   string
	shape       shape // shapes[shapeName]
	copyBatch   int
	recvlogical string
	// transforms runs the drain through a chain of three transforms.
	transforms bool
	// debezium runs the drain, the snapshot or the steady load through
	// Debezium too, and sluice writes JSON.
	debezium bool
	workers  *baseline.Workers
}

func main() {
	var o options
	flag.StringVar(&o.pgURL, "pg", os.Getenv("SLUICE_TEST_PG_URL"), "Postgres URL of a role with CREATEDB and REPLICATION (default $SLUICE_TEST_PG_URL)")
	flag.StringVar(&o.shapeName, "shape", "narrow", "drain, snapshot: the table's shape, narrow (7 columns, ~200 B a row) or wide (50 columns, ~2 KB a row); the other workloads use narrow")
	flag.IntVar(&o.copyBatch, "copy-batch", 10_000, "drain: rows per COPY transaction of the backlog (snapshot, incremental: of the table)")
	flag.StringVar(&o.recvlogical, "recvlogical", "/usr/lib/postgresql/15/bin/pg_recvlogical", "drain: the pg_recvlogical binary")
	flag.BoolVar(&o.debezium, "debezium", false, "drain, snapshot, steady: run the backlog (snapshot: the table; steady: the same load again, once each) through Debezium's Postgres connector too, tuned and with its defaults (Kafka Connect standalone workers; `make deps` installs them), and have sluice write JsonConverter's JSON as they do")
	flag.BoolVar(&o.transforms, "transforms", false, "drain: run the changes through RegexRouter, ExtractNewRecordState and ReplaceField$Value (routed to <database>-rows)")
	sourcebench.Main("bench/postgres", &o.Options, func(ctx context.Context) error { return drive(ctx, &o) })
}

// drive checks the Postgres flags and runs the workload (sourcebench.Drive).
func drive(ctx context.Context, o *options) error {
	if o.pgURL == "" || o.Brokers == "" {
		return fmt.Errorf("no Postgres URL or Kafka brokers: eval \"$(testenv/up.sh)\" (or pass -pg and -brokers)")
	}
	var ok bool
	if o.shape, ok = shapes[o.shapeName]; !ok {
		return fmt.Errorf("unknown -shape %q: want narrow or wide", o.shapeName)
	}
	if o.shapeName != "narrow" && o.Workload != "drain" && o.Workload != "snapshot" {
		return fmt.Errorf("-shape %s goes with -workload drain or snapshot: the steady load and the incremental snapshot change the narrow table's columns", o.shapeName)
	}
	if o.transforms && o.Workload != "drain" {
		return fmt.Errorf("-transforms goes with -workload drain: the other workloads read Debezium envelopes back")
	}
	if o.debezium {
		if (o.Workload != "drain" && o.Workload != "snapshot" && o.Workload != "steady") || o.transforms {
			return fmt.Errorf("-debezium goes with -workload drain, snapshot or steady, without -transforms")
		}
		ws, err := baseline.Start(debezium.Current, strings.Split(o.Brokers, ","))
		if err != nil {
			return err
		}
		defer ws.Close()
		o.workers = ws
	}
	return sourcebench.Drive(ctx, &o.Options, map[string]func(context.Context, int) (result, error){
		"drain": o.runDrain, "steady": o.runSteady, "incremental": o.runIncremental, "snapshot": o.runSnapshot})
}
