package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/sluice-cdc/sluice/daemon"
)

// offsetsBody is Kafka Connect's ConnectorOffsets body.
type offsetsBody struct {
	Offsets []offsetEntry `json:"offsets"`
}

type offsetEntry struct {
	Partition map[string]any  `json:"partition"`
	Offset    json.RawMessage `json:"offset"`
}

// GET /connectors/{name}/offsets
func (a *API) getOffsets(w http.ResponseWriter, r *http.Request) {
	offs, err := a.sup.Offsets(r.Context(), r.PathValue("name"))
	if err != nil {
		a.writeFailure(w, r, err)
		return
	}
	body := offsetsBody{Offsets: []offsetEntry{}}
	for _, o := range offs {
		body.Offsets = append(body.Offsets, offsetEntry{Partition: o.Partition, Offset: o.Offset})
	}
	writeJSON(w, http.StatusOK, body)
}

// PATCH /connectors/{name}/offsets: sets the listed partitions' offsets; a
// null offset removes the partition's. Only while the connector is STOPPED.
func (a *API) alterOffsets(w http.ResponseWriter, r *http.Request) {
	if _, err := a.sup.Info(r.PathValue("name")); err != nil {
		a.writeFailure(w, r, err)
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	changes, msg := parseOffsets(body)
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	if err := a.sup.AlterOffsets(r.Context(), r.PathValue("name"), changes); err != nil {
		a.writeFailure(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": "The offsets for this connector have been altered successfully"})
}

// parseOffsets reads a PATCH body into changes, or returns what is wrong
// with its shape; what the partitions and offsets must hold depends on the
// connector (see daemon.Supervisor.AlterOffsets).
func parseOffsets(body []byte) ([]daemon.Offset, string) {
	var doc struct {
		Offsets []struct {
			Partition json.RawMessage `json:"partition"`
			Offset    json.RawMessage `json:"offset"`
		} `json:"offsets"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, "Invalid offsets body: " + strings.TrimPrefix(err.Error(), "json: ")
	}
	if len(doc.Offsets) == 0 {
		return nil, "Partitions / offsets need to be provided for an alter offsets request"
	}
	changes := make([]daemon.Offset, len(doc.Offsets))
	for i, e := range doc.Offsets {
		if p := bytes.TrimSpace(e.Partition); len(p) > 0 && string(p) != "null" {
			dec := json.NewDecoder(bytes.NewReader(p))
			dec.UseNumber()
			if p[0] != '{' || dec.Decode(&changes[i].Partition) != nil {
				return nil, fmt.Sprintf("Invalid offsets body: offsets[%d].partition must be an object or null", i)
			}
		}
		switch off := bytes.TrimSpace(e.Offset); {
		case len(off) == 0 || string(off) == "null":
		case off[0] == '{':
			changes[i].Offset = append(json.RawMessage(nil), off...)
		default:
			return nil, fmt.Sprintf("Invalid offsets body: offsets[%d].offset must be an object or null", i)
		}
	}
	return changes, ""
}

// DELETE /connectors/{name}/offsets: removes every offset. Only while the
// connector is STOPPED.
func (a *API) resetOffsets(w http.ResponseWriter, r *http.Request) {
	if err := a.sup.ResetOffsets(r.Context(), r.PathValue("name")); err != nil {
		a.writeFailure(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": "The offsets for this connector have been reset successfully"})
}
