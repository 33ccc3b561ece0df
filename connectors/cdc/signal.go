package cdc

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/sluice-cdc/sluice/connectors"
)

// The signal types a source acts on (Debezium's names).
const (
	SignalExecuteSnapshot = "execute-snapshot"
	SignalStopSnapshot    = "stop-snapshot"
	SignalPauseSnapshot   = "pause-snapshot"
	SignalResumeSnapshot  = "resume-snapshot"
	SignalLog             = "log"
)

// snapshotRequest is the data of execute-snapshot and stop-snapshot, as
// Debezium writes it:
//
//	{"data-collections": ["public.orders"], "type": "incremental",
//	 "additional-conditions": [{"data-collection": "public.orders", "filter": "region = 'eu'"}],
//	 "surrogate-key": "order_no"}
type snapshotRequest struct {
	Tables     []string `json:"data-collections"`
	Type       string   `json:"type"`
	Conditions []struct {
		Table  string `json:"data-collection"`
		Filter string `json:"filter"`
	} `json:"additional-conditions"`
	// SurrogateKey is the column the tables are read in the order of,
	// instead of their keys.
	SurrogateKey string `json:"surrogate-key"`
}

// parseSnapshotRequest reads the data of an execute-snapshot (tables
// required) or stop-snapshot signal, refusing what sluice cannot do.
func parseSnapshotRequest(sig connectors.Signal) (*snapshotRequest, error) {
	var req snapshotRequest
	if len(sig.Data) > 0 {
		if err := jsonObject(sig.Data, &req); err != nil {
			return nil, err
		}
	}
	switch strings.ToLower(req.Type) {
	case "", "incremental":
		req.Type = "incremental"
	case "blocking":
		req.Type = "blocking"
	default:
		return nil, fmt.Errorf("unknown snapshot type %q: want incremental or blocking", req.Type)
	}
	if sig.Type == SignalExecuteSnapshot && len(req.Tables) == 0 {
		return nil, fmt.Errorf(`data names no table: give "data-collections": ["schema.table", …]`)
	}
	for _, c := range req.Conditions {
		if c.Table == "" || strings.TrimSpace(c.Filter) == "" {
			return nil, fmt.Errorf(`each additional condition needs "data-collection" and "filter"`)
		}
	}
	return &req, nil
}

// logMessage is the data of a log signal.
type logMessage struct {
	Message string `json:"message"`
}

// jsonObject decodes a signal's data, which must be a JSON object.
func jsonObject(data []byte, v any) error {
	if len(data) == 0 {
		return errors.New(`data is empty: want a JSON object such as {"message": "…"}`)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("data is not a JSON object: %v", err)
	}
	return nil
}
