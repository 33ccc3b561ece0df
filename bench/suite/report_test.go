package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNum(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{0, "0"}, {0.5, "0.50"}, {9.876, "9.88"}, {12.34, "12.3"}, {123.4, "123"},
		{1234.5, "1,234"}, {1234567, "1,234,567"}, {-25000, "-25,000"},
	} {
		if got := num(tc.v); got != tc.want {
			t.Errorf("num(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestStatsOverRuns(t *testing.T) {
	runs := []map[string]any{{"rows_per_s": 3000.0}, {"rows_per_s": 1000.0, "other": "text"}, {}, {"rows_per_s": 2000.0}}
	s := valuesOf(runs, "rows_per_s")
	if got := s.String(); got != "2,000 (1,000 – 3,000)" {
		t.Errorf("three runs: %q, want the median and the range", got)
	}
	if got := s.runs(); got != "3,000, 1,000, 2,000" {
		t.Errorf("runs: %q, want the values in run order", got)
	}
	if got := valuesOf(runs[:2], "rows_per_s").median(); got != 2000 {
		t.Errorf("median of two runs = %v, want their mean", got)
	}
	if got := valuesOf(runs, "other").String(); got != "" {
		t.Errorf("a text figure: %q, want nothing", got)
	}
}

func TestErrorLineKeepsTheBenchmarksLastError(t *testing.T) {
	var e errorLine
	for _, chunk := range []string{"time=... level=INFO msg=x\nbench/postgres: drain ru", "n 2: no progress\n[2026] INFO connect\n", "partial"} {
		fmt.Fprint(&e, chunk)
	}
	if e.line != "bench/postgres: drain run 2: no progress" {
		t.Errorf("kept %q", e.line)
	}
}

func TestTargetRowsSayMetOrMissed(t *testing.T) {
	res := &results{Workloads: []workloadResult{
		{Name: "postgres-drain", Runs: []map[string]any{
			{"pct_of_ceiling": 90.0, "sluice_x_debezium_tuned": 7.0, "cpu_s_per_1m": 4.0},
			{"pct_of_ceiling": 80.0, "sluice_x_debezium_tuned": 9.0, "cpu_s_per_1m": 3.0},
			{"pct_of_ceiling": 86.0, "sluice_x_debezium_tuned": 7.5, "cpu_s_per_1m": 5.0},
		}},
		{Name: "kafka-sse", Runs: []map[string]any{{"latency_p99_ms": 4.0}}},
	}}
	want := []string{
		"| postgres-drain | sluice rows/s as % of pg_recvlogical's | ≥ 85 | 86.0 (80.0 – 90.0) | met |",
		"| postgres-drain | sluice rows/s ÷ Debezium tuned's | ≥ 8 | 7.50 (7.00 – 9.00) | **missed** |",
		"| postgres-drain | sluice CPU-s per 1M rows | ≤ 4 | 4.00 (3.00 – 5.00) | met |",
		"| postgres-drain | sluice peak RSS, MB | ≤ 64 |  | no figure |",
	}
	got := targetRows(res)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("target rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestNotRunListsTheSuitesWorkloadsWithoutResults(t *testing.T) {
	var res results
	for _, w := range workloads(false) {
		if w.Name != "postgres-wide-drain" && !strings.HasPrefix(w.Name, "kafka-") {
			res.Workloads = append(res.Workloads, workloadResult{Name: w.Name})
		}
	}
	if got := strings.Join(notRun(&res), ", "); got != "postgres-wide-drain, kafka-elasticsearch, kafka-sse" {
		t.Errorf("not run: %s", got)
	}
	res.Quick = true // quick mode has no 10k or 25k steady loads
	if got := strings.Join(notRun(&res), ", "); got != "postgres-wide-drain, kafka-elasticsearch, kafka-sse" {
		t.Errorf("quick, not run: %s", got)
	}
}

func TestReportSaysHowManyRunsAToolRanIn(t *testing.T) {
	dir := t.TempDir()
	res := &results{Runs: 3, Workloads: []workloadResult{{Name: "postgres-drain", Runs: []map[string]any{
		{"rows_per_s": 80000.0, "debezium_tuned_rows_per_s": 35000.0, "debezium_default_rows_per_s": 17000.0},
		{"rows_per_s": 90000.0, "debezium_tuned_rows_per_s": 36000.0},
		{"rows_per_s": 85000.0, "debezium_tuned_rows_per_s": 37000.0},
	}}}}
	if err := writeReport(filepath.Join(dir, "REPORT.md"), filepath.Join(dir, "results.json"), res); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "REPORT.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| Debezium tuned | 36,000 (35,000 – 37,000) |",
		"| Debezium default (1 of 3 runs) | 17,000 |",
		"**Not in this run**: postgres-wide-drain, ",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the report lacks %q", want)
		}
	}
}

// -only naming no workload of the suite fails before anything runs, and
// says which names there are.
func TestOnlyNamingNoWorkloadFails(t *testing.T) {
	err := run(t.Context(), options{only: "postgres-drian"})
	want := `-only "postgres-drian" names no workload of the suite; name some of postgres-drain, `
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "kafka-sse") {
		t.Fatalf("run = %v, want an error starting %q and naming kafka-sse", err, want)
	}
}
