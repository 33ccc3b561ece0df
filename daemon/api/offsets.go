package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// Offsets are stored by partition key; the API shows each key as Kafka
// Connect's partition object. A key is written name=value[,name=value]
// (Postgres: "server=<topic.prefix>", shown as {"server": "<topic.prefix>"});
// a key not of that form is shown as {"key": "<key>"}.

// offsetsBody is Kafka Connect's ConnectorOffsets body.
type offsetsBody struct {
	Offsets []offsetEntry `json:"offsets"`
}

type offsetEntry struct {
	Partition map[string]string `json:"partition"`
	Offset    json.RawMessage   `json:"offset"`
}

// partitionOf turns an offset key into a partition object.
func partitionOf(key string) map[string]string {
	p := map[string]string{}
	for _, pair := range strings.Split(key, ",") {
		k, v, ok := strings.Cut(pair, "=")
		if !ok || k == "" {
			return map[string]string{"key": key}
		}
		p[k] = v
	}
	return p
}

// keyOf turns a partition object into its offset key, or explains why it
// cannot.
func keyOf(p map[string]string) (string, error) {
	if len(p) == 0 {
		return "", fmt.Errorf("the partition must not be empty")
	}
	names := make([]string, 0, len(p))
	for k, v := range p {
		if k == "" || strings.ContainsAny(k, ",=") || strings.Contains(v, ",") {
			return "", fmt.Errorf("partition field %q: names may not be empty or contain ',' or '=', values may not contain ','", k)
		}
		names = append(names, k)
	}
	sort.Strings(names)
	pairs := make([]string, len(names))
	for i, k := range names {
		pairs[i] = k + "=" + p[k]
	}
	return strings.Join(pairs, ","), nil
}

// GET /connectors/{name}/offsets
func (a *API) getOffsets(w http.ResponseWriter, r *http.Request) {
	offs, err := a.sup.Offsets(r.Context(), r.PathValue("name"))
	if err != nil {
		a.writeFailure(w, r, err)
		return
	}
	keys := make([]string, 0, len(offs))
	for k := range offs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	body := offsetsBody{Offsets: []offsetEntry{}}
	for _, k := range keys {
		body.Offsets = append(body.Offsets, offsetEntry{Partition: partitionOf(k), Offset: offs[k]})
	}
	writeJSON(w, http.StatusOK, body)
}

// PATCH /connectors/{name}/offsets: sets the listed partitions' offsets; a
// null offset removes the partition. Only while the connector is STOPPED.
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

// parseOffsets reads a PATCH body into changes by key (nil: remove), or
// returns what is wrong with it.
func parseOffsets(body []byte) (map[string]json.RawMessage, string) {
	var doc struct {
		Offsets *[]struct {
			Partition *map[string]json.RawMessage `json:"partition"`
			Offset    json.RawMessage             `json:"offset"`
		} `json:"offsets"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, "Invalid offsets body: " + strings.TrimPrefix(err.Error(), "json: ")
	}
	if doc.Offsets == nil || len(*doc.Offsets) == 0 {
		return nil, "Invalid offsets body: offsets must list at least one {\"partition\": {...}, \"offset\": {...}}"
	}
	changes := map[string]json.RawMessage{}
	for i, e := range *doc.Offsets {
		if e.Partition == nil {
			return nil, fmt.Sprintf("Invalid offsets body: offsets[%d].partition is missing", i)
		}
		part := map[string]string{}
		for k, v := range *e.Partition {
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, fmt.Sprintf("Invalid offsets body: offsets[%d].partition.%s must be a string", i, k)
			}
			part[k] = s
		}
		key, err := keyOf(part)
		if err != nil {
			return nil, fmt.Sprintf("Invalid offsets body: offsets[%d]: %v", i, err)
		}
		off := bytes.TrimSpace(e.Offset)
		switch {
		case len(off) == 0 || string(off) == "null":
			changes[key] = nil
		case off[0] == '{':
			changes[key] = append(json.RawMessage(nil), off...)
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
