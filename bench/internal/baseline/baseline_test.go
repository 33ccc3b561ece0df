package baseline

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/sluice-cdc/sluice/bench/internal/kafkaenv"
)

func TestSetKeepsEachVariantAndSluicesRatio(t *testing.T) {
	var d Debezium
	d.Set(Tuned, Run{RowsPerSecond: 2000, CPUPerMillion: 400, PeakRSSMB: 500}, 20000)
	d.Set(Default, Run{RowsPerSecond: 1000, CPUPerMillion: 800, PeakRSSMB: 600}, 20000)
	want := Debezium{TunedRowsPerSecond: 2000, TunedCPUPerMillion: 400, TunedPeakRSSMB: 500, TimesTuned: 10,
		DefaultRowsPerSecond: 1000, DefaultCPUPerMillion: 800, DefaultPeakRSSMB: 600, TimesDefault: 20}
	if d != want {
		t.Errorf("got %+v, want %+v", d, want)
	}
}

func TestTunedAddsTheTuningDefaultNothing(t *testing.T) {
	c := Connector{Config: map[string]string{"topic.prefix": "p", "max.batch.size": "1"}}
	tuned := c.config(Tuned)
	if tuned["max.batch.size"] != Tuning["max.batch.size"] || tuned["producer.override.compression.type"] != "lz4" || tuned["topic.prefix"] != "p" {
		t.Errorf("tuned config %v", tuned)
	}
	if d := c.config(Default); !maps.Equal(d, c.Config) {
		t.Errorf("default config %v, want the run's as is", d)
	}
	if c.Config["max.batch.size"] != "1" {
		t.Error("the run's config was changed")
	}
}

func TestAllRunsEachVariantInTurnAndStopsAtAnError(t *testing.T) {
	connectors := map[Variant]Connector{Tuned: {Name: "t"}, Default: {Name: "d"}}
	var started, ran []string
	run := func(_ context.Context, _ *kafkaenv.Env, v Variant, c Connector, rows int64) (Run, error) {
		ran = append(ran, c.Name)
		return Run{RowsPerSecond: float64(rows) / map[Variant]float64{Tuned: 10, Default: 20}[v]}, nil
	}
	var f Debezium
	ws := &Workers{}
	if err := ws.all(context.Background(), nil, connectors, 1000, 400, &f, func(v Variant) { started = append(started, string(v)) }, run); err != nil {
		t.Fatal(err)
	}
	if strings.Join(started, ",") != "tuned,default" || strings.Join(ran, ",") != "t,d" {
		t.Errorf("started %v, ran %v; want tuned then default, each on its connector", started, ran)
	}
	if f.TunedRowsPerSecond != 100 || f.TimesTuned != 4 || f.DefaultRowsPerSecond != 50 || f.TimesDefault != 8 {
		t.Errorf("figures %+v", f)
	}

	ran = nil
	failed := errors.New("no progress")
	err := ws.all(context.Background(), nil, connectors, 1000, 400, &Debezium{}, nil, func(_ context.Context, _ *kafkaenv.Env, _ Variant, c Connector, _ int64) (Run, error) {
		ran = append(ran, c.Name)
		return Run{}, failed
	})
	if !errors.Is(err, failed) || len(ran) != 1 {
		t.Errorf("after a failing first variant: %v, ran %v; want its error and no second run", err, ran)
	}
}

func TestSetSteadyKeepsEachVariantAndItsP99OverSluices(t *testing.T) {
	var d Debezium
	d.SetSteady(Tuned, Steady{Samples: 9000, P50: 30, P99: 120, Max: 400, RowsPerSecond: 1000, CPUPerMillion: 90, PeakRSSMB: 700}, 8)
	d.SetSteady(Default, Steady{Samples: 9000, P50: 40, P99: 200, Max: 500, RowsPerSecond: 990, CPUPerMillion: 80, PeakRSSMB: 650}, 8)
	want := Debezium{TunedLatencySamples: 9000, TunedLatencyP50: 30, TunedLatencyP99: 120, TunedLatencyMax: 400,
		TunedRowsPerSecond: 1000, TunedCPUPerMillion: 90, TunedPeakRSSMB: 700, TunedP99TimesSluice: 15,
		DefaultLatencySamples: 9000, DefaultLatencyP50: 40, DefaultLatencyP99: 200, DefaultLatencyMax: 500,
		DefaultRowsPerSecond: 990, DefaultCPUPerMillion: 80, DefaultPeakRSSMB: 650, DefaultP99TimesSluice: 25}
	if d != want {
		t.Errorf("got %+v, want %+v", d, want)
	}
	var z Debezium
	z.SetSteady(Tuned, Steady{P99: 120}, 0)
	if z.TunedP99TimesSluice != 0 || z.TunedLatencyP99 != 120 {
		t.Errorf("without sluice's p99: ratio %v, p99 %v; want 0 (left out) and 120", z.TunedP99TimesSluice, z.TunedLatencyP99)
	}
}
