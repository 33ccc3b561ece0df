package api

import (
	_ "embed"
	"net/http"
	"slices"
	"strings"

	"github.com/sluice-cdc/sluice/daemon"
)

// rootInfo is Kafka Connect's ServerInfo body.
type rootInfo struct {
	Version        string `json:"version"`
	Commit         string `json:"commit"`
	KafkaClusterID string `json:"kafka_cluster_id"`
}

// GET /
func (a *API) root(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, rootInfo{Version: a.opts.Version, Commit: a.opts.Commit, KafkaClusterID: a.opts.KafkaClusterID})
}

// GET /healthz: the process serves requests.
func (a *API) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readiness is the body of /readyz. It names connectors and their states,
// never their traces: /readyz answers without credentials.
type readiness struct {
	// Status is "ready" or "not ready".
	Status string `json:"status"`
	// Reason says why the daemon is not ready.
	Reason string `json:"reason,omitempty"`
	// Connectors is every connector's state.
	Connectors map[string]daemon.State `json:"connectors"`
}

// notReadyStarting is the reason /readyz gives before the supervisor has
// started its connectors, and once it is shutting down.
const notReadyStarting = "the daemon is starting or shutting down"

// GET /readyz: 200 when the supervisor has started its connectors, is not
// shutting down, and every connector and task is RUNNING, PAUSED or
// STOPPED; 503 while one is UNASSIGNED (starting, or waiting to retry
// after an error) or FAILED. The body lists every connector's state either
// way.
func (a *API) readyz(w http.ResponseWriter, r *http.Request) {
	body := readiness{Status: "ready", Connectors: map[string]daemon.State{}}
	var starting, retrying, failed []string
	for _, st := range a.sup.Statuses() {
		body.Connectors[st.Name] = st.State
		states := []daemon.TaskStatus{{State: st.State, Trace: st.Trace}}
		states = append(states, st.Tasks...)
		switch {
		case slices.ContainsFunc(states, func(t daemon.TaskStatus) bool { return t.State == daemon.Failed }):
			failed = append(failed, st.Name)
		case slices.ContainsFunc(states, func(t daemon.TaskStatus) bool { return t.State == daemon.Unassigned && t.Trace != "" }):
			retrying = append(retrying, st.Name)
		case slices.ContainsFunc(states, func(t daemon.TaskStatus) bool { return t.State == daemon.Unassigned }):
			starting = append(starting, st.Name)
		}
	}
	var reasons []string
	if !a.sup.Ready() {
		reasons = append(reasons, notReadyStarting)
	}
	for _, group := range []struct {
		what  string
		names []string
	}{{"FAILED", failed}, {"retrying after an error", retrying}, {"starting", starting}} {
		if len(group.names) > 0 {
			reasons = append(reasons, group.what+": "+strings.Join(group.names, ", "))
		}
	}
	if len(reasons) > 0 {
		body.Status, body.Reason = "not ready", strings.Join(reasons, "; ")+" (GET /connectors/{name}/status says why)"
		writeJSON(w, http.StatusServiceUnavailable, body)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

//go:embed openapi.json
var openapiDoc []byte

// GET /openapi.json
func (a *API) openapi(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openapiDoc)
}
