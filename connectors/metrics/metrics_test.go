package metrics

import (
	"strings"
	"testing"
)

func TestWritePrometheus(t *testing.T) {
	r := NewRegistry()
	r.Counter("sluice_events_total", "Events captured.", []string{"connector"}, "b").Add(2)
	r.Counter("sluice_events_total", "Events captured.", []string{"connector"}, `a"x`).Add(5)
	r.Gauge("sluice_lag_bytes", "Lag.", nil).Set(1.5)
	h := r.Histogram("sluice_latency_seconds", "Latency.", []float64{0.01, 0.1}, []string{"connector"}, "a")
	h.Observe(0.005)
	h.Observe(0.05)
	h.Observe(3)
	var b strings.Builder
	if err := r.WritePrometheus(&b); err != nil {
		t.Fatal(err)
	}
	want := `# HELP sluice_events_total Events captured.
# TYPE sluice_events_total counter
sluice_events_total{connector="a\"x"} 5
sluice_events_total{connector="b"} 2
# HELP sluice_lag_bytes Lag.
# TYPE sluice_lag_bytes gauge
sluice_lag_bytes 1.5
# HELP sluice_latency_seconds Latency.
# TYPE sluice_latency_seconds histogram
sluice_latency_seconds_bucket{connector="a",le="0.01"} 1
sluice_latency_seconds_bucket{connector="a",le="0.1"} 2
sluice_latency_seconds_bucket{connector="a",le="+Inf"} 3
sluice_latency_seconds_sum{connector="a"} 3.055
sluice_latency_seconds_count{connector="a"} 3
`
	if got := b.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}
