package api

import (
	"maps"
	"net/http"
	"strconv"
	"strings"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/daemon"
	"github.com/sluice-cdc/sluice/daemon/config"
)

// connectorInfo is Kafka Connect's ConnectorInfo body.
type connectorInfo struct {
	Name   string            `json:"name"`
	Config map[string]string `json:"config"`
	Tasks  []taskID          `json:"tasks"`
	Type   string            `json:"type"`
}

type taskID struct {
	Connector string `json:"connector"`
	Task      int    `json:"task"`
}

// shownConfig is a connector's configuration as the API shows it: secrets
// masked and "name" added, as Kafka Connect does.
func shownConfig(i daemon.Info) map[string]string {
	cfg := config.Mask(i.Class, i.Config)
	if cfg == nil {
		cfg = map[string]string{}
	}
	cfg["name"] = i.Name
	return cfg
}

func infoBody(i daemon.Info) connectorInfo {
	body := connectorInfo{Name: i.Name, Config: shownConfig(i), Tasks: []taskID{}, Type: i.Type()}
	for t := 0; t < i.Tasks; t++ {
		body.Tasks = append(body.Tasks, taskID{Connector: i.Name, Task: t})
	}
	return body
}

// statusBody is Kafka Connect's ConnectorStateInfo body.
type statusBody struct {
	Name      string       `json:"name"`
	Connector stateBody    `json:"connector"`
	Tasks     []taskStatus `json:"tasks"`
	Type      string       `json:"type"`
	// Snapshot is the incremental snapshot a source runs, if any.
	Snapshot *connectors.SnapshotStatus `json:"incremental_snapshot,omitempty"`
}

type stateBody struct {
	State    string `json:"state"`
	WorkerID string `json:"worker_id"`
	Trace    string `json:"trace,omitempty"`
}

type taskStatus struct {
	ID       int    `json:"id"`
	State    string `json:"state"`
	WorkerID string `json:"worker_id"`
	Trace    string `json:"trace,omitempty"`
}

func statusOf(s daemon.Status) statusBody {
	body := statusBody{Name: s.Name, Connector: stateBody{State: string(s.State), WorkerID: s.WorkerID, Trace: s.Trace}, Tasks: []taskStatus{}, Type: s.Type}
	for _, t := range s.Tasks {
		body.Tasks = append(body.Tasks, taskBody(t))
	}
	return body
}

func taskBody(t daemon.TaskStatus) taskStatus {
	return taskStatus{ID: t.ID, State: string(t.State), WorkerID: t.WorkerID, Trace: t.Trace}
}

// GET /connectors[?expand=status&expand=info]
func (a *API) listConnectors(w http.ResponseWriter, r *http.Request) {
	var status, info bool
	for _, e := range r.URL.Query()["expand"] {
		switch e {
		case "status":
			status = true
		case "info":
			info = true
		default:
			writeError(w, http.StatusBadRequest, "Invalid value "+strconv.Quote(e)+" of query parameter expand: must be status or info")
			return
		}
	}
	names := a.sup.Names()
	if !status && !info {
		writeJSON(w, http.StatusOK, names)
		return
	}
	out := map[string]map[string]any{}
	for _, n := range names {
		entry := map[string]any{}
		if status {
			st, err := a.sup.Status(n)
			if err != nil {
				continue // deleted meanwhile
			}
			entry["status"] = statusOf(st)
		}
		if info {
			i, err := a.sup.Info(n)
			if err != nil {
				continue
			}
			entry["info"] = infoBody(i)
		}
		out[n] = entry
	}
	writeJSON(w, http.StatusOK, out)
}

// POST /connectors
func (a *API) createConnector(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	def, ps := config.ParseConnector(body, "")
	if len(ps) > 0 {
		writeProblems(w, ps)
		return
	}
	info, err := a.sup.Create(r.Context(), def)
	if err != nil {
		a.writeFailure(w, r, err)
		return
	}
	w.Header().Set("Location", "/connectors/"+info.Name)
	writeJSON(w, http.StatusCreated, infoBody(info))
}

// GET /connectors/{name}
func (a *API) getConnector(w http.ResponseWriter, r *http.Request) {
	info, err := a.sup.Info(r.PathValue("name"))
	if err != nil {
		a.writeFailure(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, infoBody(info))
}

// DELETE /connectors/{name}
func (a *API) deleteConnector(w http.ResponseWriter, r *http.Request) {
	if err := a.sup.Delete(r.Context(), r.PathValue("name")); err != nil {
		a.writeFailure(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// GET /connectors/{name}/config
func (a *API) getConfig(w http.ResponseWriter, r *http.Request) {
	info, err := a.sup.Info(r.PathValue("name"))
	if err != nil {
		a.writeFailure(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, shownConfig(info))
}

// PUT /connectors/{name}/config
func (a *API) putConfig(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	cfg, ps := config.DecodeValues(body)
	if len(ps) > 0 {
		writeProblems(w, ps)
		return
	}
	info, created, err := a.sup.PutConfig(r.Context(), r.PathValue("name"), cfg)
	if err != nil {
		a.writeFailure(w, r, err)
		return
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
		w.Header().Set("Location", "/connectors/"+info.Name)
	}
	writeJSON(w, code, infoBody(info))
}

// PATCH /connectors/{name}/config
func (a *API) patchConfig(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	changes, ps := config.DecodePatch(body)
	if len(ps) > 0 {
		writeProblems(w, ps)
		return
	}
	info, err := a.sup.PatchConfig(r.Context(), r.PathValue("name"), changes)
	if err != nil {
		a.writeFailure(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, infoBody(info))
}

// GET /connectors/{name}/status
func (a *API) getStatus(w http.ResponseWriter, r *http.Request) {
	st, err := a.sup.Status(r.PathValue("name"))
	if err != nil {
		a.writeFailure(w, r, err)
		return
	}
	body := statusOf(st)
	body.Snapshot = a.runningSnapshot(r.PathValue("name"))
	writeJSON(w, http.StatusOK, body)
}

// taskConfig is Kafka Connect's TaskInfo body.
type taskConfig struct {
	ID     taskID            `json:"id"`
	Config map[string]string `json:"config"`
}

// GET /connectors/{name}/tasks
func (a *API) getTasks(w http.ResponseWriter, r *http.Request) {
	info, err := a.sup.Info(r.PathValue("name"))
	if err != nil {
		a.writeFailure(w, r, err)
		return
	}
	out := []taskConfig{}
	for t := 0; t < info.Tasks; t++ {
		out = append(out, taskConfig{ID: taskID{Connector: info.Name, Task: t}, Config: maps.Clone(shownConfig(info))})
	}
	writeJSON(w, http.StatusOK, out)
}

// GET /connectors/{name}/tasks/{id}/status
func (a *API) getTaskStatus(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	st, err := a.sup.Status(name)
	if err != nil {
		a.writeFailure(w, r, err)
		return
	}
	id, err := strconv.Atoi(r.PathValue("id"))
	if err == nil {
		for _, t := range st.Tasks {
			if t.ID == id {
				writeJSON(w, http.StatusOK, taskBody(t))
				return
			}
		}
	}
	writeError(w, http.StatusNotFound, "No status found for task "+name+"-"+r.PathValue("id"))
}

// POST /connectors/{name}/restart[?includeTasks=&onlyFailed=]
func (a *API) restart(w http.ResponseWriter, r *http.Request) {
	includeTasks, ok1 := boolParam(w, r, "includeTasks")
	if !ok1 {
		return
	}
	onlyFailed, ok2 := boolParam(w, r, "onlyFailed")
	if !ok2 {
		return
	}
	st, _, err := a.sup.Restart(r.Context(), r.PathValue("name"), onlyFailed)
	if err != nil {
		a.writeFailure(w, r, err)
		return
	}
	if !includeTasks && !onlyFailed {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusAccepted, statusOf(st))
}

// POST /connectors/{name}/tasks/{id}/restart
func (a *API) restartTask(w http.ResponseWriter, r *http.Request) {
	if err := a.sup.RestartTask(r.Context(), r.PathValue("name"), r.PathValue("id")); err != nil {
		a.writeFailure(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// activeTopics is Kafka Connect's ActiveTopicsInfo body.
type activeTopics struct {
	Topics []string `json:"topics"`
}

// GET /connectors/{name}/topics
func (a *API) getTopics(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	topics, err := a.sup.Topics(name)
	if err != nil {
		a.writeFailure(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]activeTopics{name: {Topics: topics}})
}

// PUT /connectors/{name}/topics/reset
func (a *API) resetTopics(w http.ResponseWriter, r *http.Request) {
	a.accepted(w, r, a.sup.ResetTopics(r.Context(), r.PathValue("name")))
}

// boolParam reads an optional true/false query parameter, answering 400 for
// any other value.
func boolParam(w http.ResponseWriter, r *http.Request, name string) (bool, bool) {
	v := r.URL.Query().Get(name)
	switch strings.ToLower(v) {
	case "", "false":
		return false, true
	case "true":
		return true, true
	}
	writeError(w, http.StatusBadRequest, "Invalid value "+strconv.Quote(v)+" of query parameter "+name+": must be true or false")
	return false, false
}

// PUT /connectors/{name}/pause
func (a *API) pause(w http.ResponseWriter, r *http.Request) {
	a.accepted(w, r, a.sup.Pause(r.Context(), r.PathValue("name")))
}

// PUT /connectors/{name}/resume
func (a *API) resume(w http.ResponseWriter, r *http.Request) {
	a.accepted(w, r, a.sup.Resume(r.Context(), r.PathValue("name")))
}

// PUT /connectors/{name}/stop
func (a *API) stop(w http.ResponseWriter, r *http.Request) {
	a.accepted(w, r, a.sup.Stop(r.Context(), r.PathValue("name")))
}

func (a *API) accepted(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		a.writeFailure(w, r, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}
