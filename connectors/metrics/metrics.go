// Package metrics holds the counters, gauges and histograms that connectors
// record and the daemon exposes at /metrics, on a Prometheus registry
// (github.com/prometheus/client_golang) that also carries the Go runtime
// (go_*) and process (process_*) collectors dashboards expect. Connectors
// ask for a series by name, help, label names and values; the family is
// registered on first use, so two connectors of one class share it.
package metrics

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// Registry is a set of metric families. It is safe for concurrent use.
type Registry struct {
	reg *prometheus.Registry

	mu       sync.Mutex
	families map[string]family
}

// family is one registered vector and what it was registered with.
type family struct {
	vec    any // *prometheus.CounterVec, *prometheus.GaugeVec or *prometheus.HistogramVec
	labels string
}

// NewRegistry returns a registry holding only the Go runtime and process
// collectors.
func NewRegistry() *Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &Registry{reg: reg, families: map[string]family{}}
}

// vec returns the family of name, registering the one make builds on first
// use. It panics when name was registered with other labels or another
// kind: that is a programming error.
func vec[V prometheus.Collector](r *Registry, name string, labels []string, make func() V) V {
	r.mu.Lock()
	defer r.mu.Unlock()
	joined := strings.Join(labels, ",")
	if f, ok := r.families[name]; ok {
		v, same := f.vec.(V)
		if !same || f.labels != joined {
			panic(fmt.Sprintf("metrics: %s registered twice with different kinds or labels", name))
		}
		return v
	}
	v := make()
	r.reg.MustRegister(v)
	r.families[name] = family{vec: v, labels: joined}
	return v
}

// Counter is a monotonically increasing count.
type Counter struct{ c prometheus.Counter }

// Add adds n.
func (c *Counter) Add(n uint64) { c.c.Add(float64(n)) }

// Value returns the count.
func (c *Counter) Value() uint64 {
	var m dto.Metric
	_ = c.c.Write(&m)
	return uint64(m.GetCounter().GetValue())
}

// Gauge is a value that goes up and down.
type Gauge struct {
	g prometheus.Gauge
	// share, on a gauge made by Share, holds its last value.
	share *share
}

// share is one part of a gauge that several parts add up to.
type share struct {
	mu   sync.Mutex
	last float64
}

// Set sets the value; on a share, the share's part of the gauge.
func (g *Gauge) Set(v float64) {
	if g.share == nil {
		g.g.Set(v)
		return
	}
	g.share.mu.Lock()
	defer g.share.mu.Unlock()
	g.g.Add(v - g.share.last)
	g.share.last = v
}

// Share returns a part of g: the gauge's value is the sum of its shares'
// values, so that several workers of one series (the tasks of a connector
// in one process) each set their own. Set a share to 0 when its worker
// stops.
func (g *Gauge) Share() *Gauge { return &Gauge{g: g.g, share: &share{}} }

// Add adds delta (negative to subtract) to the value; on a share, to the
// share's part.
func (g *Gauge) Add(delta float64) {
	if g.share != nil {
		g.share.mu.Lock()
		defer g.share.mu.Unlock()
		g.share.last += delta
	}
	g.g.Add(delta)
}

// Value returns the value.
func (g *Gauge) Value() float64 {
	var m dto.Metric
	_ = g.g.Write(&m)
	return m.GetGauge().GetValue()
}

// Histogram counts observations into cumulative buckets.
type Histogram struct{ h prometheus.Observer }

// Observe records one value.
func (h *Histogram) Observe(v float64) { h.h.Observe(v) }

// Count returns the number of observations.
func (h *Histogram) Count() uint64 {
	var m dto.Metric
	_ = h.h.(prometheus.Metric).Write(&m)
	return m.GetHistogram().GetSampleCount()
}

// Counter returns the counter of name with the given label values, creating
// it (and its family) on first use.
func (r *Registry) Counter(name, help string, labels []string, values ...string) *Counter {
	v := vec(r, name, labels, func() *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	})
	return &Counter{v.WithLabelValues(values...)}
}

// Gauge returns the gauge of name with the given label values.
func (r *Registry) Gauge(name, help string, labels []string, values ...string) *Gauge {
	v := vec(r, name, labels, func() *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	})
	return &Gauge{g: v.WithLabelValues(values...)}
}

// DeleteGauge removes the series of gauge name with the given label
// values, so that it is no longer exported; it reports whether there was
// one.
func (r *Registry) DeleteGauge(name string, values ...string) bool {
	r.mu.Lock()
	f, ok := r.families[name]
	r.mu.Unlock()
	v, isGauge := f.vec.(*prometheus.GaugeVec)
	return ok && isGauge && v.DeleteLabelValues(values...)
}

// Histogram returns the histogram of name with the given bucket upper
// bounds (ascending) and label values.
func (r *Registry) Histogram(name, help string, buckets []float64, labels []string, values ...string) *Histogram {
	v := vec(r, name, labels, func() *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	})
	return &Histogram{v.WithLabelValues(values...)}
}

// Register adds a collector whose series are computed when scraped (the
// daemon's connector states, for one).
func (r *Registry) Register(c prometheus.Collector) error { return r.reg.Register(c) }

// LatencyBuckets are bucket bounds in seconds from 1 ms to 60 s.
var LatencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// Handler serves every family, in the format the scraper asks for
// (Prometheus text 0.0.4 by default, OpenMetrics when accepted).
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{EnableOpenMetrics: true})
}

// WritePrometheus writes every family in Prometheus' text exposition
// format, sorted by name and label values.
func (r *Registry) WritePrometheus(w io.Writer) error {
	fams, err := r.reg.Gather()
	if err != nil {
		return err
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range fams {
		if err := enc.Encode(f); err != nil {
			return err
		}
	}
	return nil
}
