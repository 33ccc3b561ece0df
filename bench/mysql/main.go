// Command mysql benchmarks the MySQL/MariaDB source end to end: the binlog
// (ROW, full row image and metadata) → sluice's source and Kafka writer →
// Kafka (Avro, acks=all).
//
// The driver (this process) creates a database of its own, writes the
// workload and measures; the pipeline runs in a child process (the same
// binary with -role sluice) so that its CPU time and peak RSS are measured
// apart from the driver's. Two workloads:
//
//   - drain: a backlog of -rows rows is written while sluice is stopped,
//     then sluice drains it; the same binlog is also read by mariadb-binlog
//     --read-from-remote-server, the ceiling of the run; the records sluice
//     wrote are produced again to a fresh topic with the same producer
//     settings (Kafka alone, -producer-ceiling); and with -debezium the
//     backlog is drained by Debezium's MariaDB connector, tuned and with its
//     defaults (bench/internal/baseline).
//   - steady: a fixed rate of inserts, updates and deletes while sluice
//     streams; the latency from each transaction's commit, timed by the
//     writing client, to the Kafka append (LogAppendTime) is measured, and
//     with -debezium that of Debezium's connector, tuned and with its
//     defaults, each streaming the same load again in turn.
//
// Each run prints one JSON line; with -runs > 1 a last line holds the median
// of every figure. See bench/README.md. What is not MySQL's is in
// bench/internal/sourcebench, shared with bench/postgres.
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
	_ "github.com/sluice-cdc/sluice/connectors/mysql"
)

// options are the driver's flags: the common ones and MySQL's.
type options struct {
	sourcebench.Options
	dsn      string
	serverID int

	// drain
	insertBatch int
	binlogTool  string
	ceilings    string
	// debezium runs the drain or steady load through Debezium too, and
	// sluice writes JSON.
	debezium bool
	workers  *baseline.Workers
}

func main() {
	var o options
	flag.StringVar(&o.dsn, "dsn", os.Getenv("SLUICE_TEST_MYSQL_DSN"), "user:password@tcp(host:port)/db of a user with CREATE, DROP and replication privileges (default $SLUICE_TEST_MYSQL_DSN); the database part is not used")
	flag.IntVar(&o.serverID, "server-id", 5401, "database.server.id of the connector (run N uses this + N - 1)")
	flag.IntVar(&o.insertBatch, "insert-batch", 10_000, "drain: rows per multi-row INSERT (one transaction) of the backlog")
	flag.StringVar(&o.binlogTool, "mariadb-binlog", "mariadb-binlog", "drain: the mariadb-binlog (or mysqlbinlog) binary")
	flag.BoolVar(&o.debezium, "debezium", false, "drain, steady: run the backlog (steady: the same load again, once each) through Debezium's MariaDB connector too, tuned and with its defaults (Kafka Connect standalone workers; `make deps` installs them), and have sluice write JsonConverter's JSON as they do")
	flag.StringVar(&o.ceilings, "ceiling", "raw,decode", "drain: which ceilings to measure: raw (--raw into files), decode (rows decoded, --verbose, to /dev/null), both comma separated, or none")
	sourcebench.Main("bench/mysql", &o.Options, func(ctx context.Context) error { return drive(ctx, &o) })
}

// drive checks the MySQL flags and runs the workload (sourcebench.Drive).
func drive(ctx context.Context, o *options) error {
	if o.dsn == "" || o.Brokers == "" {
		return fmt.Errorf("no MySQL DSN or Kafka brokers: eval \"$(testenv/up.sh)\" (or pass -dsn and -brokers)")
	}
	if o.debezium {
		if o.Workload != "drain" && o.Workload != "steady" {
			return fmt.Errorf("-debezium goes with -workload drain or steady")
		}
		ws, err := baseline.Start(debezium.MariaDB, strings.Split(o.Brokers, ","))
		if err != nil {
			return err
		}
		defer ws.Close()
		o.workers = ws
	}
	return sourcebench.Drive(ctx, &o.Options, map[string]func(context.Context, int) (result, error){"drain": o.runDrain, "steady": o.runSteady})
}
