package api

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/sluice-cdc/sluice/daemon"
)

// loggerLevel is Kafka Connect's LoggerLevel body: last_modified is when
// the level was last set through the API (milliseconds since the epoch),
// null when it never was.
type loggerLevel struct {
	Level        string `json:"level"`
	LastModified *int64 `json:"last_modified"`
}

func levelBody(l daemon.LoggerLevel) loggerLevel {
	body := loggerLevel{Level: l.Level}
	if !l.Modified.IsZero() {
		ms := l.Modified.UnixMilli()
		body.LastModified = &ms
	}
	return body
}

// GET /admin/loggers
func (a *API) listLoggers(w http.ResponseWriter, r *http.Request) {
	out := map[string]loggerLevel{}
	for name, l := range a.sup.Loggers().Levels() {
		out[name] = levelBody(l)
	}
	writeJSON(w, http.StatusOK, out)
}

// GET /admin/loggers/{logger}
func (a *API) getLogger(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("logger")
	l, ok := a.sup.Loggers().Level(name)
	if !ok {
		writeError(w, http.StatusNotFound, "Logger "+name+" not found.")
		return
	}
	writeJSON(w, http.StatusOK, levelBody(l))
}

// PUT /admin/loggers/{logger}[?scope=worker|cluster]: sets the level of
// the logger and of every logger below it, as Kafka Connect does. With
// scope=worker (the default, and what an unknown scope means) it answers
// the names of the loggers whose level changed; with scope=cluster, 204
// (this daemon is the whole cluster).
func (a *API) setLogger(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil {
		writeError(w, http.StatusBadRequest, `Invalid logger level body: send {"level": "<level>"}`)
		return
	}
	raw, ok := doc["level"]
	if !ok || string(raw) == "null" {
		writeError(w, http.StatusBadRequest, "Desired 'level' parameter was not specified in request.")
		return
	}
	var name string
	if err := json.Unmarshal(raw, &name); err != nil {
		writeError(w, http.StatusBadRequest, "Desired 'level' parameter must be a string: one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL, OFF")
		return
	}
	level, ok := daemon.ParseLevel(name)
	if !ok {
		writeError(w, http.StatusNotFound, "invalid log level '"+name+"'.")
		return
	}
	logger := r.PathValue("logger")
	changed := a.sup.Loggers().SetLevel(logger, level)
	a.log.Info("logger level set", "logger", logger, "level", daemon.LevelName(level), "changed", len(changed))
	if strings.EqualFold(r.URL.Query().Get("scope"), "cluster") {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if changed == nil {
		changed = []string{}
	}
	writeJSON(w, http.StatusOK, changed)
}
