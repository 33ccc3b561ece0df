package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/daemon"
)

// snapshotRequest is the body of POST /connectors/{name}/snapshots: the
// data of Debezium's execute-snapshot signal.
type snapshotRequest struct {
	Tables     []string `json:"data-collections"`
	Type       string   `json:"type,omitempty"`
	Conditions []struct {
		Table  string `json:"data-collection"`
		Filter string `json:"filter"`
	} `json:"additional-conditions,omitempty"`
}

// POST /connectors/{name}/snapshots starts an incremental snapshot of
// the tables the body names, as an execute-snapshot signal does; the
// source checks the tables and logs the ones it cannot snapshot.
func (a *API) startSnapshot(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var req snapshotRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, `Invalid snapshot request: want {"data-collections": ["schema.table", …]}: `+err.Error())
		return
	}
	if len(req.Tables) == 0 {
		writeError(w, http.StatusBadRequest, `Invalid snapshot request: "data-collections" names no table`)
		return
	}
	id := "rest-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	a.signal(w, r, connectors.Signal{ID: id, Type: "execute-snapshot", Data: body}, map[string]string{"id": id})
}

// GET /connectors/{name}/snapshots lists the incremental snapshots the
// source runs and ran since the daemon started, with their progress.
func (a *API) listSnapshots(w http.ResponseWriter, r *http.Request) {
	list, err := a.sup.Snapshots(r.PathValue("name"))
	if err != nil {
		a.signalFailure(w, r, err)
		return
	}
	if list == nil {
		list = []connectors.SnapshotStatus{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"snapshots": list})
}

// DELETE /connectors/{name}/snapshots/{id} stops the running incremental
// snapshot id, as a stop-snapshot signal does.
func (a *API) stopSnapshot(w http.ResponseWriter, r *http.Request) {
	a.signalSnapshot(w, r, "stop-snapshot")
}

// PUT /connectors/{name}/snapshots/{id}/pause pauses the running
// incremental snapshot id, as a pause-snapshot signal does; streaming
// goes on.
func (a *API) pauseSnapshot(w http.ResponseWriter, r *http.Request) {
	a.signalSnapshot(w, r, "pause-snapshot")
}

// PUT /connectors/{name}/snapshots/{id}/resume resumes the paused
// incremental snapshot id, as a resume-snapshot signal does.
func (a *API) resumeSnapshot(w http.ResponseWriter, r *http.Request) {
	a.signalSnapshot(w, r, "resume-snapshot")
}

// signalSnapshot sends a signal of type typ about the running snapshot
// the path names, answering 404 when no such snapshot runs.
func (a *API) signalSnapshot(w http.ResponseWriter, r *http.Request, typ string) {
	name, id := r.PathValue("name"), r.PathValue("id")
	list, err := a.sup.Snapshots(name)
	if err != nil {
		a.signalFailure(w, r, err)
		return
	}
	running := func(s connectors.SnapshotStatus) bool {
		return s.ID == id && (s.State == "RUNNING" || s.State == "PAUSED")
	}
	if !slices.ContainsFunc(list, running) {
		writeError(w, http.StatusNotFound, "No incremental snapshot "+id+" is running for connector "+name+": GET /connectors/"+name+"/snapshots lists them")
		return
	}
	a.signal(w, r, connectors.Signal{ID: "rest-" + typ + "-" + id, Type: typ}, nil)
}

// signal sends sig and answers 202 with body (none when nil).
func (a *API) signal(w http.ResponseWriter, r *http.Request, sig connectors.Signal, body any) {
	if err := a.sup.Signal(r.PathValue("name"), sig); err != nil {
		a.signalFailure(w, r, err)
		return
	}
	if body == nil {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	writeJSON(w, http.StatusAccepted, body)
}

// runningSnapshot is the incremental snapshot a connector runs or has
// paused; nil when none, or when its class takes no signals.
func (a *API) runningSnapshot(name string) *connectors.SnapshotStatus {
	list, err := a.sup.Snapshots(name)
	if err != nil {
		return nil
	}
	for i := range list {
		if list[i].State == "RUNNING" || list[i].State == "PAUSED" {
			return &list[i]
		}
	}
	return nil
}

func (a *API) signalFailure(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, daemon.ErrNoSignals) {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	a.writeFailure(w, r, err)
}
