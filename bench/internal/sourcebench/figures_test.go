package sourcebench

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/sluice-cdc/sluice/bench/internal/baseline"
)

func TestDeriveAndAgainst(t *testing.T) {
	f := Figures{Rows: 1_000_000, WallSeconds: 4, CPUSeconds: 6}
	f.Derive()
	if f.RowsPerSecond != 250_000 || f.CPUPerMillion != 6 {
		t.Errorf("Derive: %v rows/s, %v CPU-s per 1M rows, want 250000 and 6", f.RowsPerSecond, f.CPUPerMillion)
	}
	if rate, pct := f.Against(5); rate != 200_000 || pct != 125 {
		t.Errorf("Against(5 s) = %v rows/s, %v%%, want 200000 and 125", rate, pct)
	}
	if rate, pct := f.Against(0); rate != 0 || pct != 0 {
		t.Errorf("Against(0) = %v, %v, want 0, 0: no ceiling measured", rate, pct)
	}
}

type result struct {
	Figures
	Extra float64 `json:"extra"`
}

func TestDriveRunsTheWorkloadNamed(t *testing.T) {
	var ran []string
	run := func(name string) func(context.Context, int) (result, error) {
		return func(_ context.Context, i int) (result, error) {
			ran = append(ran, name)
			return result{Figures: Figures{Rows: float64(i)}}, nil
		}
	}
	workloads := map[string]func(context.Context, int) (result, error){"drain": run("drain"), "steady": run("steady")}
	o := &Options{Workload: "steady", Runs: 2}
	if err := Drive(context.Background(), o, workloads); err != nil {
		t.Fatal(err)
	}
	if strings.Join(ran, ",") != "steady,steady" {
		t.Errorf("ran %v, want steady twice", ran)
	}
	o.Workload = "burst"
	if err := Drive(context.Background(), o, workloads); err == nil || err.Error() != `unknown -workload "burst": want drain, steady` {
		t.Errorf("Drive with -workload burst: %v, want an unknown workload error", err)
	}
}

func TestDebeziumVariantsOfARun(t *testing.T) {
	o := Options{DebeziumDefaultRuns: 1}
	if got := fmt.Sprint(o.DebeziumVariants(1), o.DebeziumVariants(2), o.DebeziumVariants(3)); got != "[tuned default] [tuned] [tuned]" {
		t.Errorf("-debezium-default-runs 1: runs 1, 2, 3 have %s", got)
	}
	o.DebeziumDefaultRuns = 0
	if got := fmt.Sprint(o.DebeziumVariants(3)); got != "[tuned default]" {
		t.Errorf("-debezium-default-runs 0: run 3 has %s", got)
	}
	only := map[baseline.Variant]baseline.Connector{baseline.Default: {}}
	if got := fmt.Sprint(baseline.Of(only)); got != "[default]" {
		t.Errorf("a run with the default connector only runs %s", got)
	}
}
