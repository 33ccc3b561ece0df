package api

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-cdc/sluice/connectors/metrics"
	"github.com/sluice-cdc/sluice/daemon"
)

// stateCollector reports the supervisor's connectors when /metrics is
// scraped: how many are in each state, and per connector its restarts and
// the time of its last error (Kafka Connect's connector-failed and
// last-error figures).
type stateCollector struct{ sup *daemon.Supervisor }

var (
	connectorsDesc = prometheus.NewDesc("sluice_connectors", "Connectors by runtime state.", []string{"state"}, nil)
	restartsDesc   = prometheus.NewDesc("sluice_connector_restarts_total", "Restarts of a connector after transient errors since the daemon started.", []string{"connector"}, nil)
	lastErrorDesc  = prometheus.NewDesc("sluice_connector_last_error_timestamp_seconds", "When an error last failed or restarted the connector, in seconds since the Unix epoch; absent when none has since the daemon started.", []string{"connector"}, nil)
)

func (stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- connectorsDesc
	ch <- restartsDesc
	ch <- lastErrorDesc
}

func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	counts := c.sup.Counts()
	for _, st := range daemon.States {
		ch <- prometheus.MustNewConstMetric(connectorsDesc, prometheus.GaugeValue, float64(counts[st]), string(st))
	}
	for _, st := range c.sup.Statuses() {
		ch <- prometheus.MustNewConstMetric(restartsDesc, prometheus.CounterValue, float64(st.Restarts), st.Name)
		if !st.LastError.IsZero() {
			ch <- prometheus.MustNewConstMetric(lastErrorDesc, prometheus.GaugeValue, float64(st.LastError.UnixMilli())/1000, st.Name)
		}
	}
}

// newHTTPCounter registers the API's responses by status code in reg.
func newHTTPCounter(reg *metrics.Registry) func(code int) {
	return func(code int) {
		reg.Counter("sluice_http_requests_total", "REST API responses by status code.", []string{"code"}, strconv.Itoa(code)).Add(1)
	}
}

// GET /metrics: Prometheus text exposition format 0.0.4 (OpenMetrics when
// the scraper asks for it).
func (a *API) metrics(w http.ResponseWriter, r *http.Request) {
	a.opts.Metrics.Handler().ServeHTTP(w, r)
}
