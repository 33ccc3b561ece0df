package api

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/daemon"
)

func TestTaskRestart(t *testing.T) {
	h := newHarness(t, Options{})
	h.status("POST", "/connectors", `{"name": "s", "config": {"connector.class": "sluice-test-sink", "topics": "t1"}}`, 201)
	h.waitState("s", daemon.Running)
	h.waitTopics("s", `["t1"]`)
	// The restarted task records its topic again.
	h.expect("PUT", "/connectors/s/topics/reset", "", 202, "")
	h.expect("GET", "/connectors/s/topics", "", 200, `{"s": {"topics": []}}`)
	h.expect("POST", "/connectors/s/tasks/0/restart", "", 204, "")
	h.waitState("s", daemon.Running)
	h.waitTopics("s", `["t1"]`)

	h.expect("POST", "/connectors/s/tasks/1/restart", "", 404, `{"error_code": 404, "message": "Task s-1 not found"}`)
	h.expect("POST", "/connectors/s/tasks/x/restart", "", 404, `{"error_code": 404, "message": "Task s-x not found"}`)
	h.expect("POST", "/connectors/nope/tasks/0/restart", "", 404, `{"error_code": 404, "message": "Connector nope not found"}`)
	h.expect("PUT", "/connectors/s/stop", "", 202, "")
	h.expect("POST", "/connectors/s/tasks/0/restart", "", 404, `{"error_code": 404, "message": "Task s-0 not found"}`)
}

func TestActiveTopics(t *testing.T) {
	h := newHarness(t, Options{})
	h.status("POST", "/connectors", `{"name": "s", "config": {"connector.class": "sluice-test-sink", "topics": "t2,t1"}}`, 201)
	h.waitTopics("s", `["t1", "t2"]`)
	if rec, _ := h.store.Get(context.Background(), "s"); !reflect.DeepEqual(rec.Topics, []string{"t1", "t2"}) {
		t.Fatalf("stored topics %v", rec.Topics)
	}
	// Topics are kept while stopped and across a configuration change.
	h.expect("PUT", "/connectors/s/stop", "", 202, "")
	h.status("PATCH", "/connectors/s/config", `{"topics": "t3"}`, 200)
	h.expect("GET", "/connectors/s/topics", "", 200, `{"s": {"topics": ["t1", "t2"]}}`)
	h.expect("PUT", "/connectors/s/topics/reset", "", 202, "")
	h.expect("GET", "/connectors/s/topics", "", 200, `{"s": {"topics": []}}`)
	if rec, _ := h.store.Get(context.Background(), "s"); rec.Topics != nil {
		t.Fatalf("stored topics after reset %v", rec.Topics)
	}
	h.expect("PUT", "/connectors/s/resume", "", 202, "")
	h.waitTopics("s", `["t3"]`)

	h.expect("GET", "/connectors/nope/topics", "", 404, `{"error_code": 404, "message": "Connector nope not found"}`)
	h.expect("PUT", "/connectors/nope/topics/reset", "", 404, `{"error_code": 404, "message": "Connector nope not found"}`)
}

// waitTopics waits until the connector's active topics are want (JSON).
func (h *harness) waitTopics(name, want string) {
	h.t.Helper()
	var w []string
	json.Unmarshal([]byte(want), &w)
	for i := 0; i < 2500; i++ {
		if got, _ := h.sup.Topics(name); reflect.DeepEqual(got, w) {
			h.expect("GET", "/connectors/"+name+"/topics", "", 200, `{"`+name+`": {"topics": `+want+`}}`)
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	got, _ := h.sup.Topics(name)
	h.t.Fatalf("%s: topics %v, want %s", name, got, want)
}

func TestProbeProblemIsTheRunningTrace(t *testing.T) {
	h := newHarness(t, Options{})
	problem := "Elasticsearch at http://127.0.0.1:1 cannot be reached: connection refused"
	h.status("POST", "/connectors", `{"name": "s", "config": {"connector.class": "sluice-test-sink", "topics": "t", "probe.error": "`+problem+`"}}`, 201)
	troubled := `{"name": "s", "connector": {"state": "RUNNING", "worker_id": "host:8083", "trace": "` + problem + `"},
		"tasks": [{"id": 0, "state": "RUNNING", "worker_id": "host:8083", "trace": "` + problem + `"}], "type": "sink"}`
	h.waitStatus("s", troubled)
	h.expect("GET", "/connectors/s/tasks/0/status", "", 200, `{"id": 0, "state": "RUNNING", "worker_id": "host:8083", "trace": "`+problem+`"}`)
	// Once the target answers, the trace goes.
	h.status("PATCH", "/connectors/s/config", `{"probe.error": null}`, 200)
	h.waitStatus("s", `{"name": "s", "connector": {"state": "RUNNING", "worker_id": "host:8083"}, "tasks": [{"id": 0, "state": "RUNNING", "worker_id": "host:8083"}], "type": "sink"}`)
	// A paused connector is not probed.
	h.status("PATCH", "/connectors/s/config", `{"probe.error": "`+problem+`"}`, 200)
	h.waitStatus("s", troubled)
	h.expect("PUT", "/connectors/s/pause", "", 202, "")
	h.expect("GET", "/connectors/s/status", "", 200, `{"name": "s", "connector": {"state": "PAUSED", "worker_id": "host:8083"}, "tasks": [{"id": 0, "state": "PAUSED", "worker_id": "host:8083"}], "type": "sink"}`)
}

// waitStatus waits until the connector's status body is want.
func (h *harness) waitStatus(name, want string) {
	h.t.Helper()
	var w any
	json.Unmarshal([]byte(want), &w)
	var body string
	for i := 0; i < 2500; i++ {
		var g any
		_, body, _ = h.do("GET", "/connectors/"+name+"/status", "")
		if json.Unmarshal([]byte(body), &g) == nil && reflect.DeepEqual(g, w) {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	h.t.Fatalf("%s: status %s, want %s", name, body, want)
}

func TestLoggers(t *testing.T) {
	h := newHarness(t, Options{})
	h.status("POST", "/connectors", `{"name": "a", "config": {"connector.class": "sluice-test", "topic.prefix": "a"}}`, 201)
	h.status("POST", "/connectors", `{"name": "b", "config": {"connector.class": "sluice-test", "topic.prefix": "b"}}`, 201)
	h.expect("GET", "/admin/loggers", "", 200, `{"root": {"level": "INFO", "last_modified": null},
		"io.sluice.connector.a": {"level": "INFO", "last_modified": null}, "io.sluice.connector.b": {"level": "INFO", "last_modified": null}}`)
	h.expect("GET", "/admin/loggers/io.sluice.connector.a", "", 200, `{"level": "INFO", "last_modified": null}`)
	h.expect("GET", "/admin/loggers/ROOT", "", 200, `{"level": "INFO", "last_modified": null}`)
	h.expect("GET", "/admin/loggers/io.sluice.connector", "", 404, `{"error_code": 404, "message": "Logger io.sluice.connector not found."}`)

	before := time.Now().UnixMilli()
	h.expect("PUT", "/admin/loggers/io.sluice.connector.a", `{"level": "debug"}`, 200, `["io.sluice.connector.a"]`)
	// Setting it again changes nothing.
	h.expect("PUT", "/admin/loggers/io.sluice.connector.a", `{"level": "DEBUG"}`, 200, `[]`)
	// A namespace sets every logger below it, and becomes a logger itself.
	h.expect("PUT", "/admin/loggers/io.sluice.connector", `{"level": "WARN"}`, 200, `["io.sluice.connector", "io.sluice.connector.a", "io.sluice.connector.b"]`)
	h.expect("PUT", "/admin/loggers/io.sluice.connector.b?scope=Cluster", `{"level": "TRACE"}`, 204, "")
	levels := h.levels()
	for name, want := range map[string]string{"root": "INFO", "io.sluice.connector": "WARN", "io.sluice.connector.a": "WARN", "io.sluice.connector.b": "TRACE"} {
		if levels[name].Level != want {
			t.Errorf("%s: %s, want %s", name, levels[name].Level, want)
		}
	}
	if levels["root"].LastModified != nil || levels["io.sluice.connector.a"].LastModified == nil || *levels["io.sluice.connector.a"].LastModified < before ||
		*levels["io.sluice.connector.a"].LastModified > time.Now().UnixMilli() {
		t.Fatalf("last_modified: %+v", levels)
	}
	// A connector created now takes its namespace's level.
	h.status("POST", "/connectors", `{"name": "c", "config": {"connector.class": "sluice-test", "topic.prefix": "c"}}`, 201)
	h.expect("GET", "/admin/loggers/io.sluice.connector.c", "", 200, `{"level": "WARN", "last_modified": null}`)
	// scope=cluster answers 204 (this daemon is its whole cluster).
	h.expect("PUT", "/admin/loggers/root?scope=cluster", `{"level": "ERROR"}`, 204, "")
	for name, l := range h.levels() {
		if l.Level != "ERROR" {
			t.Errorf("after setting root: %s is %s", name, l.Level)
		}
	}
	// An unknown scope means worker, as in Kafka Connect.
	h.expect("PUT", "/admin/loggers/root?scope=everywhere", `{"level": "ERROR"}`, 200, `[]`)

	h.expect("PUT", "/admin/loggers/root", `{"level": "LOUD"}`, 404, `{"error_code": 404, "message": "invalid log level 'LOUD'."}`)
	h.expect("PUT", "/admin/loggers/root", `{"lvl": "INFO"}`, 400, `{"error_code": 400, "message": "Desired 'level' parameter was not specified in request."}`)
	h.expect("PUT", "/admin/loggers/root", `{"level": 3}`, 400, `{"error_code": 400, "message": "Desired 'level' parameter must be a string: one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL, OFF"}`)
	h.expect("PUT", "/admin/loggers/root", `["INFO"]`, 400, `{"error_code": 400, "message": "Invalid logger level body: send {\"level\": \"<level>\"}"}`)
}

// levels reads GET /admin/loggers.
func (h *harness) levels() map[string]loggerLevel {
	h.t.Helper()
	code, body, _ := h.do("GET", "/admin/loggers", "")
	var out map[string]loggerLevel
	if code != 200 || json.Unmarshal([]byte(body), &out) != nil {
		h.t.Fatalf("GET /admin/loggers: %d %s", code, body)
	}
	return out
}

// status sends a request and checks only its status code.
func (h *harness) status(method, path, body string, want int) {
	h.t.Helper()
	if code, got, _ := h.do(method, path, body); code != want {
		h.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, code, want, got)
	}
}
