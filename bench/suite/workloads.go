package main

import (
	"fmt"
	"slices"
	"strconv"
)

// A workload is one benchmark command with its arguments, full size and
// quick, and what the report shows of its runs.
type workload struct {
	Name      string   // the report's name for it: postgres-drain, …
	Title     string   // a line saying what it measures
	Bench     string   // the benchmark under bench/: postgres, mysql, elasticsearch, sse
	Args      []string // arguments, -runs aside
	QuickArgs []string // the same in quick mode

	tools   []tool   // the tools it runs, for the tools table and the charts
	ratios  []figure // ratios computed run by run
	rate    float64  // steady: rows (events) per second, for the latency chart
	targets []target // what the project's issues ask of sluice here
}

// A target is a bound on the median of a figure of a workload: at least
// (AtLeast) or at most Bound.
type target struct {
	figure
	AtLeast bool
	Bound   float64
}

// met reports whether median meets the target.
func (t target) met(median float64) bool {
	if t.AtLeast {
		return median >= t.Bound
	}
	return median <= t.Bound
}

// String is the target as the report states it: "≥ 85", "≤ 4",
// "≥ 100,000".
func (t target) String() string {
	bound := strconv.FormatFloat(t.Bound, 'f', -1, 64)
	if t.Bound >= 1000 {
		bound = num(t.Bound)
	}
	if t.AtLeast {
		return "≥ " + bound
	}
	return "≤ " + bound
}

// targets are the targets of the side-by-side comparison, by workload:
// the Postgres drain's against pg_recvlogical and Debezium in the same
// run, and its figures there (JSON, as Debezium writes), the steady
// load's p99 against Debezium's, and the MariaDB drain's rate against
// Debezium's. (The MariaDB source's own targets are for its default
// Avro, measured by bench/mysql without -debezium: bench/README.md.)
var targets = map[string][]target{
	"postgres-drain": {
		{figure{"pct_of_ceiling", "sluice rows/s as % of pg_recvlogical's"}, true, 85},
		{figure{"sluice_x_debezium_tuned", "sluice rows/s ÷ Debezium tuned's"}, true, 8},
		{figure{"cpu_s_per_1m", "sluice CPU-s per 1M rows"}, false, 4},
		{figure{"peak_rss_mb", "sluice peak RSS, MB"}, false, 64},
	},
	"postgres-steady-10k": {{figure{"debezium_tuned_p99_x_sluice", "Debezium tuned p99 ÷ sluice's"}, true, 5}},
	"mariadb-drain":       {{figure{"sluice_x_debezium_tuned", "sluice rows/s ÷ Debezium tuned's"}, true, 8}},
}

// A tool is one program a workload measures and the keys of its figures
// in a run's JSON line ("" where it is not measured).
type tool struct {
	Name                string
	RowsPerS, CPUPer1M  string
	PeakRSSMB, P50, P99 string
	Max                 string
}

// A figure is a key of a run's JSON line and what the report calls it.
type figure struct{ Key, Label string }

var (
	pgSluice = tool{Name: "sluice", RowsPerS: "rows_per_s", CPUPer1M: "cpu_s_per_1m", PeakRSSMB: "peak_rss_mb",
		P50: "latency_p50_ms", P99: "latency_p99_ms", Max: "latency_max_ms"}
	dbzTuned   = tool{Name: "Debezium tuned", RowsPerS: "debezium_tuned_rows_per_s", CPUPer1M: "debezium_tuned_cpu_s_per_1m", PeakRSSMB: "debezium_tuned_peak_rss_mb"}
	dbzDefault = tool{Name: "Debezium default", RowsPerS: "debezium_default_rows_per_s", CPUPer1M: "debezium_default_cpu_s_per_1m", PeakRSSMB: "debezium_default_peak_rss_mb"}
	dbzRatios  = []figure{
		{"sluice_x_debezium_tuned", "sluice rows/s ÷ Debezium tuned's"},
		{"sluice_x_debezium_default", "sluice rows/s ÷ Debezium default's"},
	}

	// The drains' Kafka-alone ceiling: sluice's records produced again.
	producer      = tool{Name: "franz-go producer (Kafka alone)", RowsPerS: "producer_rows_per_s", CPUPer1M: "producer_cpu_s_per_1m"}
	producerRatio = figure{"pct_of_producer", "sluice rows/s as % of the franz-go producer's"}
)

// debezium are the arguments that run Debezium beside sluice: tuned in
// every run of a workload and with its defaults in the first
// (-debezium-default-runs 1). At full size, with both in every run, the
// suite takes over three hours, most of them Debezium's default draining
// 5M-row backlogs at 17,000 rows/s.
var debezium = []string{"-debezium", "-debezium-default-runs", "1"}

// workloads are the suite, in the order it runs them; quick mode runs the
// same with small sizes, and the steady loads at 1,000 rows/s only.
func workloads(quick bool) []workload {
	ws := []workload{
		pgDrain("postgres-drain", "Postgres backlog drain (rows of ~200 B)",
			[]string{"-rows", "5000000"}, []string{"-rows", "20000"}),
		pgDrain("postgres-wide-drain", "Postgres backlog drain of wide rows (50 columns, ~2 KB)",
			[]string{"-shape", "wide", "-rows", "1000000"}, []string{"-shape", "wide", "-rows", "5000"}),
		pgDrain("postgres-one-transaction", "Postgres: one transaction of 1M rows (~200 B), which pgoutput streams while in progress, drained",
			[]string{"-rows", "1000000", "-copy-batch", "1000000"}, []string{"-rows", "20000", "-copy-batch", "20000"}),
		{
			Name: "postgres-snapshot", Title: "Postgres initial snapshot of a table (rows of ~200 B) → Kafka, JSON: sluice, COPY TO STDOUT (ceiling), Debezium 3.6.1 tuned and default",
			Bench: "postgres", Args: slices.Concat([]string{"-workload", "snapshot"}, debezium, []string{"-rows", "5000000"}),
			QuickArgs: slices.Concat([]string{"-workload", "snapshot"}, debezium, []string{"-rows", "20000"}),
			tools:     []tool{pgSluice, {Name: "COPY TO STDOUT", RowsPerS: "ceiling_rows_per_s"}, dbzTuned, dbzDefault},
			ratios:    append([]figure{{"pct_of_ceiling", "sluice rows/s as % of COPY TO STDOUT's"}}, dbzRatios...),
		},
		{
			Name: "mariadb-drain", Title: "MariaDB backlog drain (rows of ~200 B) → Kafka, JSON: sluice, mariadb-binlog (ceilings), franz-go producer (Kafka alone), Debezium's MariaDB connector 3.5.0 tuned and default",
			Bench: "mysql", Args: slices.Concat([]string{"-workload", "drain"}, debezium, []string{"-rows", "5000000"}),
			QuickArgs: slices.Concat([]string{"-workload", "drain"}, debezium, []string{"-rows", "20000"}),
			tools: []tool{pgSluice, {Name: "mariadb-binlog --raw", RowsPerS: "ceiling_rows_per_s"},
				{Name: "mariadb-binlog decoding", RowsPerS: "decode_rows_per_s"}, producer, dbzTuned, dbzDefault},
			ratios: append([]figure{{"pct_of_ceiling", "sluice rows/s as % of mariadb-binlog --raw's"},
				{"pct_of_decode", "sluice rows/s as % of mariadb-binlog decoding's"}, producerRatio}, dbzRatios...),
		},
	}
	rates := []int{1000, 10000, 25000}
	if quick {
		rates = rates[:1]
	}
	for _, bench := range []string{"postgres", "mysql"} {
		for _, rate := range rates {
			ws = append(ws, steady(bench, rate))
		}
	}
	return append(ws,
		workload{
			Name: "kafka-elasticsearch", Title: "Kafka → Elasticsearch: pre-produced upserts indexed by sluice's sink, and by esutil.BulkIndexer (ceiling)",
			Bench: "elasticsearch", Args: []string{"-workload", "throughput", "-rows", "1000000"},
			QuickArgs: []string{"-workload", "throughput", "-rows", "20000"},
			tools: []tool{{Name: "sluice sink", RowsPerS: "sink_docs_per_s", PeakRSSMB: "sink_peak_rss_mib"},
				{Name: "BulkIndexer", RowsPerS: "ceiling_docs_per_s"}},
			ratios: []figure{{"pct_of_ceiling", "sluice docs/s as % of BulkIndexer's"}},
		},
		workload{
			Name: "kafka-sse", Title: "Kafka → SSE fan-out: events produced at a fixed rate, delivered to every subscriber",
			Bench: "sse", Args: []string{"-workload", "deliver", "-subscribers", "1000", "-rate", "1000", "-duration", "20s"},
			QuickArgs: []string{"-workload", "deliver", "-subscribers", "100", "-rate", "200", "-duration", "5s"},
			tools:     []tool{{Name: "sluice sink", P50: "latency_p50_ms", P99: "latency_p99_ms", Max: "latency_max_ms"}},
		},
	)
}

// pgDrain is a drain of bench/postgres through sluice, pg_recvlogical, the
// franz-go producer and Debezium's variants, with the arguments args
// (quick in quick mode) after -workload drain -debezium; what names the
// backlog in the title.
func pgDrain(name, what string, args, quick []string) workload {
	drain := slices.Concat([]string{"-workload", "drain"}, debezium)
	return workload{
		Name: name, Title: what + " → Kafka, JSON: sluice, pg_recvlogical (ceiling), franz-go producer (Kafka alone), Debezium 3.6.1 tuned and default",
		Bench: "postgres", Args: append(slices.Clone(drain), args...), QuickArgs: append(drain, quick...),
		tools:  []tool{pgSluice, {Name: "pg_recvlogical", RowsPerS: "ceiling_rows_per_s"}, producer, dbzTuned, dbzDefault},
		ratios: append([]figure{{"pct_of_ceiling", "sluice rows/s as % of pg_recvlogical's"}, producerRatio}, dbzRatios...),
	}
}

// steady is the steady mixed load of bench (postgres or mysql) at rate
// rows/s for 30 s, through sluice and then through Debezium tuned and
// default (each tool's window of 30 s holds 30,000 to 750,000 commit →
// append latencies: enough for a p99, and a run of all three tools with
// their table resets takes about two minutes); quick mode runs it for 5 s
// on a smaller table.
func steady(bench string, rate int) workload {
	name, db := "postgres", "Postgres"
	if bench == "mysql" {
		name, db = "mariadb", "MariaDB"
	}
	args := slices.Concat([]string{"-workload", "steady"}, debezium, []string{"-rate", fmt.Sprint(rate)})
	dbz := func(t tool, v string) tool {
		t.P50, t.P99, t.Max = "debezium_"+v+"_latency_p50_ms", "debezium_"+v+"_latency_p99_ms", "debezium_"+v+"_latency_max_ms"
		return t
	}
	return workload{
		Name:      fmt.Sprintf("%s-steady-%dk", name, rate/1000),
		Title:     fmt.Sprintf("%s steady mixed load (50%% inserts, 35%% updates, 15%% deletes) at %d rows/s → Kafka, JSON, commit → append latency: sluice, then Debezium tuned and default on the same load", db, rate),
		Bench:     bench,
		Args:      append(args, "-duration", "30s"),
		QuickArgs: append(slices.Clone(args), "-duration", "5s", "-prefill", "20000"),
		tools:     []tool{pgSluice, dbz(dbzTuned, "tuned"), dbz(dbzDefault, "default")},
		ratios: []figure{{"debezium_tuned_p99_x_sluice", "Debezium tuned p99 ÷ sluice's"},
			{"debezium_default_p99_x_sluice", "Debezium default p99 ÷ sluice's"}},
		rate: float64(rate),
	}
}
