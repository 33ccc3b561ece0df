// Package metrics holds the counters, gauges and histograms that connectors
// record and the daemon exposes at /metrics in Prometheus' text format. It
// is small on purpose: lock-free updates on the hot path, labels fixed when
// a series is created.
package metrics

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Registry is a set of metric families. It is safe for concurrent use.
type Registry struct {
	mu       sync.Mutex
	families map[string]*family
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{families: map[string]*family{}} }

type kind string

const (
	counterKind   kind = "counter"
	gaugeKind     kind = "gauge"
	histogramKind kind = "histogram"
)

type family struct {
	name, help string
	kind       kind
	labels     []string
	buckets    []float64
	mu         sync.Mutex
	series     map[string]any // by joined label values: *Counter, *Gauge, *Histogram
}

func (r *Registry) family(name, help string, k kind, buckets []float64, labels []string) *family {
	r.mu.Lock()
	defer r.mu.Unlock()
	if f, ok := r.families[name]; ok {
		if f.kind != k || strings.Join(f.labels, ",") != strings.Join(labels, ",") {
			panic(fmt.Sprintf("metrics: %s registered twice with different kinds or labels", name))
		}
		return f
	}
	f := &family{name: name, help: help, kind: k, labels: labels, buckets: buckets, series: map[string]any{}}
	r.families[name] = f
	return f
}

func (f *family) get(values []string, make func() any) any {
	if len(values) != len(f.labels) {
		panic(fmt.Sprintf("metrics: %s wants %d label values, got %d", f.name, len(f.labels), len(values)))
	}
	key := strings.Join(values, "\xff")
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.series[key]
	if !ok {
		s = make()
		f.series[key] = s
	}
	return s
}

// Counter is a monotonically increasing count.
type Counter struct{ v atomic.Uint64 }

// Add adds n.
func (c *Counter) Add(n uint64) { c.v.Add(n) }

// Value returns the count.
func (c *Counter) Value() uint64 { return c.v.Load() }

// Gauge is a value that goes up and down.
type Gauge struct{ bits atomic.Uint64 }

// Set sets the value.
func (g *Gauge) Set(v float64) { g.bits.Store(math.Float64bits(v)) }

// Value returns the value.
func (g *Gauge) Value() float64 { return math.Float64frombits(g.bits.Load()) }

// Histogram counts observations into cumulative buckets.
type Histogram struct {
	upper  []float64
	counts []atomic.Uint64 // one per bucket, then +Inf
	sum    atomic.Uint64   // float64 bits
	count  atomic.Uint64
}

// Observe records one value.
func (h *Histogram) Observe(v float64) {
	i := sort.SearchFloat64s(h.upper, v)
	h.counts[i].Add(1)
	h.count.Add(1)
	for {
		old := h.sum.Load()
		if h.sum.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

// Count returns the number of observations.
func (h *Histogram) Count() uint64 { return h.count.Load() }

// Counter returns the counter of name with the given label values, creating
// it (and its family) on first use.
func (r *Registry) Counter(name, help string, labels []string, values ...string) *Counter {
	return r.family(name, help, counterKind, nil, labels).get(values, func() any { return &Counter{} }).(*Counter)
}

// Gauge returns the gauge of name with the given label values.
func (r *Registry) Gauge(name, help string, labels []string, values ...string) *Gauge {
	return r.family(name, help, gaugeKind, nil, labels).get(values, func() any { return &Gauge{} }).(*Gauge)
}

// Histogram returns the histogram of name with the given bucket upper
// bounds (ascending) and label values.
func (r *Registry) Histogram(name, help string, buckets []float64, labels []string, values ...string) *Histogram {
	f := r.family(name, help, histogramKind, buckets, labels)
	return f.get(values, func() any {
		return &Histogram{upper: f.buckets, counts: make([]atomic.Uint64, len(f.buckets)+1)}
	}).(*Histogram)
}

// LatencyBuckets are bucket bounds in seconds from 1 ms to 60 s.
var LatencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// WritePrometheus writes every family in Prometheus' text exposition format,
// sorted by name and label values.
func (r *Registry) WritePrometheus(w io.Writer) error {
	r.mu.Lock()
	fams := make([]*family, 0, len(r.families))
	for _, f := range r.families {
		fams = append(fams, f)
	}
	r.mu.Unlock()
	sort.Slice(fams, func(i, j int) bool { return fams[i].name < fams[j].name })
	var b strings.Builder
	for _, f := range fams {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", f.name, escapeHelp(f.help), f.name, f.kind)
		f.mu.Lock()
		keys := make([]string, 0, len(f.series))
		for k := range f.series {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			var values []string
			if len(f.labels) > 0 {
				values = strings.Split(k, "\xff")
			}
			f.write(&b, f.series[k], values)
		}
		f.mu.Unlock()
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (f *family) write(b *strings.Builder, s any, values []string) {
	switch m := s.(type) {
	case *Counter:
		fmt.Fprintf(b, "%s%s %d\n", f.name, labelText(f.labels, values, "", ""), m.Value())
	case *Gauge:
		fmt.Fprintf(b, "%s%s %s\n", f.name, labelText(f.labels, values, "", ""), formatFloat(m.Value()))
	case *Histogram:
		var cum uint64
		for i, upper := range m.upper {
			cum += m.counts[i].Load()
			fmt.Fprintf(b, "%s_bucket%s %d\n", f.name, labelText(f.labels, values, "le", formatFloat(upper)), cum)
		}
		cum += m.counts[len(m.upper)].Load()
		fmt.Fprintf(b, "%s_bucket%s %d\n", f.name, labelText(f.labels, values, "le", "+Inf"), cum)
		fmt.Fprintf(b, "%s_sum%s %s\n", f.name, labelText(f.labels, values, "", ""), formatFloat(math.Float64frombits(m.sum.Load())))
		fmt.Fprintf(b, "%s_count%s %d\n", f.name, labelText(f.labels, values, "", ""), cum)
	}
}

func labelText(names, values []string, extraName, extraValue string) string {
	if len(names) == 0 && extraName == "" {
		return ""
	}
	parts := make([]string, 0, len(names)+1)
	for i, n := range names {
		parts = append(parts, n+`="`+escapeValue(values[i])+`"`)
	}
	if extraName != "" {
		parts = append(parts, extraName+`="`+extraValue+`"`)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func escapeValue(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

func escapeHelp(s string) string { return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s) }

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
