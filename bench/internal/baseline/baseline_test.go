package baseline

import (
	"maps"
	"testing"
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
