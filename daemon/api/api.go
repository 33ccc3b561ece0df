// Package api serves sluice's management REST API: Kafka Connect's paths,
// JSON bodies, status codes and {"error_code", "message"} errors (connectors,
// their status, tasks, offsets, active topics, plugins, and /admin/loggers
// for log levels at runtime), plus /healthz, /readyz, /metrics (Prometheus
// text) and /openapi.json, which describes all of it.
//
// Secrets never leave the daemon: values of password-type keys and of keys
// whose names look secret are shown as "[hidden]" unless they are ${...}
// references, which are shown as written. A configuration sent back with
// "[hidden]" in place of a secret keeps the stored secret.
package api

import (
	"log/slog"
	"net/http"

	"github.com/sluice-cdc/sluice/connectors/metrics"
	"github.com/sluice-cdc/sluice/daemon"
	"github.com/sluice-cdc/sluice/daemon/config"
)

// Options configure the API.
type Options struct {
	// Version and Commit are reported by GET /.
	Version, Commit string
	// KafkaClusterID is reported by GET /; empty until known.
	KafkaClusterID string
	// Auth, when set, protects every endpoint but /healthz and /readyz.
	Auth *config.Auth
	// Resolver resolves references for config/validate.
	Resolver *config.Resolver
	// MaxBodyBytes bounds request bodies (default 1 MiB); larger ones get 413.
	MaxBodyBytes int64
	Logger       *slog.Logger
	// Metrics is the registry /metrics serves, the connectors' series with
	// the API's own (a private one when nil). New registers the API's
	// collectors in it, so one registry serves one API.
	Metrics *metrics.Registry
}

// API is the REST API's http.Handler. It is safe for concurrent use.
type API struct {
	sup  *daemon.Supervisor
	opts Options
	log  *slog.Logger
	mux  *http.ServeMux

	count func(code int) // counts a response by status code
}

// New returns the API over sup.
func New(sup *daemon.Supervisor, opts Options) *API {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Resolver == nil {
		opts.Resolver = &config.Resolver{}
	}
	if opts.Metrics == nil {
		opts.Metrics = metrics.NewRegistry()
	}
	if err := opts.Metrics.Register(stateCollector{sup}); err != nil {
		panic("api: metrics registered twice: " + err.Error())
	}
	a := &API{sup: sup, opts: opts, log: opts.Logger, mux: http.NewServeMux(), count: newHTTPCounter(opts.Metrics)}
	a.routes()
	return a
}

// route is one endpoint: a method, a path pattern and its handler.
type route struct {
	method, path string
	handle       http.HandlerFunc
}

// table lists every endpoint; /openapi.json describes each of them.
func (a *API) table() []route {
	return []route{
		{"GET", "/", a.root},
		{"GET", "/connectors", a.listConnectors},
		{"POST", "/connectors", a.createConnector},
		{"GET", "/connectors/{name}", a.getConnector},
		{"DELETE", "/connectors/{name}", a.deleteConnector},
		{"GET", "/connectors/{name}/config", a.getConfig},
		{"PUT", "/connectors/{name}/config", a.putConfig},
		{"PATCH", "/connectors/{name}/config", a.patchConfig},
		{"GET", "/connectors/{name}/status", a.getStatus},
		{"GET", "/connectors/{name}/tasks", a.getTasks},
		{"GET", "/connectors/{name}/tasks/{id}/status", a.getTaskStatus},
		{"POST", "/connectors/{name}/tasks/{id}/restart", a.restartTask},
		{"GET", "/connectors/{name}/topics", a.getTopics},
		{"PUT", "/connectors/{name}/topics/reset", a.resetTopics},
		{"POST", "/connectors/{name}/restart", a.restart},
		{"PUT", "/connectors/{name}/pause", a.pause},
		{"PUT", "/connectors/{name}/resume", a.resume},
		{"PUT", "/connectors/{name}/stop", a.stop},
		{"GET", "/connectors/{name}/offsets", a.getOffsets},
		{"PATCH", "/connectors/{name}/offsets", a.alterOffsets},
		{"DELETE", "/connectors/{name}/offsets", a.resetOffsets},
		{"GET", "/connectors/{name}/snapshots", a.listSnapshots},
		{"POST", "/connectors/{name}/snapshots", a.startSnapshot},
		{"DELETE", "/connectors/{name}/snapshots/{id}", a.stopSnapshot},
		{"PUT", "/connectors/{name}/snapshots/{id}/pause", a.pauseSnapshot},
		{"PUT", "/connectors/{name}/snapshots/{id}/resume", a.resumeSnapshot},
		{"GET", "/connector-plugins", a.listPlugins},
		{"GET", "/connector-plugins/{type}/config", a.pluginConfig},
		{"PUT", "/connector-plugins/{type}/config/validate", a.validate},
		{"GET", "/admin/loggers", a.listLoggers},
		{"GET", "/admin/loggers/{logger}", a.getLogger},
		{"PUT", "/admin/loggers/{logger}", a.setLogger},
		{"GET", "/healthz", a.healthz},
		{"GET", "/readyz", a.readyz},
		{"GET", "/metrics", a.metrics},
		{"GET", "/openapi.json", a.openapi},
	}
}

func (a *API) routes() {
	for _, r := range a.table() {
		path := r.path
		if path == "/" {
			path = "/{$}"
		}
		a.mux.HandleFunc(r.method+" "+path, r.handle)
	}
}

// ServeHTTP serves one request: it recovers from panics (500 without
// details), counts the response's status, checks authentication, bounds the
// body and answers unknown paths and methods with JSON errors.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rw := &recorder{ResponseWriter: w}
	defer func() {
		if p := recover(); p != nil {
			a.log.Error("REST API handler panicked", "method", r.Method, "path", r.URL.Path, "panic", p)
			if rw.code == 0 {
				writeError(rw, http.StatusInternalServerError, "Internal server error")
			}
		}
		a.count(rw.status())
	}()
	if r.URL.Path != "/healthz" && r.URL.Path != "/readyz" && !a.authorized(r) {
		rw.Header().Set("WWW-Authenticate", `Basic realm="sluice", charset="UTF-8"`)
		writeError(rw, http.StatusUnauthorized, "Authentication required: send HTTP basic credentials or a bearer token")
		return
	}
	r.Body = http.MaxBytesReader(rw, r.Body, a.opts.MaxBodyBytes)
	if _, pattern := a.mux.Handler(r); pattern == "" {
		a.unmatched(rw, r)
		return
	}
	a.mux.ServeHTTP(rw, r)
}

// unmatched answers a request no route takes: 405 with Allow when the path
// exists with other methods, else 404.
func (a *API) unmatched(w http.ResponseWriter, r *http.Request) {
	probe := &recorder{ResponseWriter: discardWriter{header: http.Header{}}}
	h, _ := a.mux.Handler(r)
	h.ServeHTTP(probe, r)
	if probe.status() == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", probe.Header().Get("Allow"))
		writeError(w, http.StatusMethodNotAllowed, "HTTP 405 Method Not Allowed")
		return
	}
	writeError(w, http.StatusNotFound, "HTTP 404 Not Found")
}

// recorder remembers the status code written through it.
type recorder struct {
	http.ResponseWriter
	code int
}

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) status() int {
	if r.code == 0 {
		return http.StatusOK
	}
	return r.code
}

// discardWriter is a ResponseWriter that keeps headers and drops the rest.
type discardWriter struct{ header http.Header }

func (d discardWriter) Header() http.Header         { return d.header }
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d discardWriter) WriteHeader(int)             {}
