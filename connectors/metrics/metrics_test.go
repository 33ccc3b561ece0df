package metrics

import (
	"net/http/httptest"
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
	if got := sluiceLines(b.String()); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if got := h.Count(); got != 3 {
		t.Errorf("histogram count %d, want 3", got)
	}
	if got := r.Counter("sluice_events_total", "Events captured.", []string{"connector"}, "b").Value(); got != 2 {
		t.Errorf("counter b = %d, want 2", got)
	}
}

// TestRuntimeCollectors: the Go runtime and process series dashboards
// expect are served beside sluice's, in the text format by default.
func TestRuntimeCollectors(t *testing.T) {
	r := NewRegistry()
	r.Counter("sluice_events_total", "Events captured.", []string{"connector"}, "a").Add(1)
	rec := httptest.NewRecorder()
	r.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q", ct)
	}
	body := rec.Body.String()
	for _, line := range []string{"# TYPE go_goroutines gauge", "# TYPE process_resident_memory_bytes gauge", "# TYPE go_memstats_heap_alloc_bytes gauge", `sluice_events_total{connector="a"} 1`} {
		if !strings.Contains(body, "\n"+line+"\n") {
			t.Errorf("no line %q in /metrics", line)
		}
	}
}

func TestRegisteredTwiceWithOtherLabels(t *testing.T) {
	r := NewRegistry()
	r.Counter("sluice_x_total", "X.", []string{"connector"}, "a")
	defer func() {
		if got := recover(); got != "metrics: sluice_x_total registered twice with different kinds or labels" {
			t.Errorf("panic %v", got)
		}
	}()
	r.Gauge("sluice_x_total", "X.", []string{"connector"}, "a")
}

// sluiceLines keeps the lines of sluice_* families.
func sluiceLines(text string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(text, "\n") {
		if strings.Contains(l, "sluice_") {
			b.WriteString(l)
		}
	}
	return b.String()
}

// Shares of a gauge each set their own part; the gauge is their sum.
func TestGaugeShares(t *testing.T) {
	r := NewRegistry()
	g := r.Gauge("in_flight", "Records in flight.", []string{"connector"}, "index")
	one, two := g.Share(), g.Share()
	one.Set(5)
	two.Set(3)
	one.Set(2)
	if got := g.Value(); got != 5 {
		t.Fatalf("gauge = %v after shares set to 2 and 3, want 5", got)
	}
	two.Add(4)
	two.Set(0)
	if got := one.Value(); got != 2 {
		t.Fatalf("gauge = %v after one share went up by 4 and was set to 0, want 2", got)
	}
}
