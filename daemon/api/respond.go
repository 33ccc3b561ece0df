package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/daemon"
	"github.com/sluice-cdc/sluice/daemon/config"
)

// errorBody is Kafka Connect's error body; Errors, sluice's addition, lists
// configuration problems one by one.
type errorBody struct {
	Code    int            `json:"error_code"`
	Message string         `json:"message"`
	Errors  []problemEntry `json:"errors,omitempty"`
}

type problemEntry struct {
	Key     string `json:"key"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		writeError(w, http.StatusInternalServerError, "Internal server error: cannot encode the response")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Code: status, Message: msg})
}

// writeProblems answers 400 with every configuration problem.
func writeProblems(w http.ResponseWriter, ps config.Problems) {
	body := errorBody{Code: http.StatusBadRequest}
	lines := make([]string, 0, len(ps))
	for _, p := range ps {
		body.Errors = append(body.Errors, problemEntry{Key: p.Key, Message: p.Message})
		if p.Key != "" {
			lines = append(lines, p.Key+": "+p.Message)
		} else {
			lines = append(lines, p.Message)
		}
	}
	body.Message = fmt.Sprintf("Connector configuration is invalid and contains the following %d error(s):\n%s", len(ps), strings.Join(lines, "\n"))
	writeJSON(w, http.StatusBadRequest, body)
}

// writeFailure answers an error of the supervisor with its status.
func (a *API) writeFailure(w http.ResponseWriter, r *http.Request, err error) {
	var ps config.Problems
	switch {
	case errors.As(err, &ps):
		writeProblems(w, ps)
	case errors.Is(err, daemon.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, daemon.ErrExists), errors.Is(err, daemon.ErrManaged):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, daemon.ErrNotStopped), errors.Is(err, connectors.ErrInvalidOffset):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, daemon.ErrGroupActive):
		writeError(w, http.StatusConflict, err.Error())
	default:
		a.log.Error("REST request failed", "method", r.Method, "path", r.URL.Path, "error", err.Error())
		writeError(w, http.StatusInternalServerError, "Internal server error: "+err.Error())
	}
}

// readBody reads a JSON request body, answering 415, 413 or 400 itself and
// returning false when it cannot.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("HTTP 415 Unsupported Media Type: %q; send application/json", ct))
			return nil, false
		}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("Request body is larger than %d bytes", tooLarge.Limit))
			return nil, false
		}
		writeError(w, http.StatusBadRequest, "Cannot read the request body: "+err.Error())
		return nil, false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		writeError(w, http.StatusBadRequest, "Request body is empty: send a JSON document")
		return nil, false
	}
	// JSON decoding would turn invalid bytes into U+FFFD silently, making
	// names and values the sender never wrote.
	if !utf8.Valid(body) {
		writeError(w, http.StatusBadRequest, "Malformed JSON request body: not valid UTF-8")
		return nil, false
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		writeError(w, http.StatusBadRequest, "Malformed JSON request body: "+strings.TrimPrefix(err.Error(), "json: "))
		return nil, false
	}
	return body, true
}
