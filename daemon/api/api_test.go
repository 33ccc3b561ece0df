package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/daemon"
	"github.com/sluice-cdc/sluice/daemon/config"
	"github.com/sluice-cdc/sluice/daemon/internal/testclass"
	"github.com/sluice-cdc/sluice/daemon/internal/testsink"
	"github.com/sluice-cdc/sluice/daemon/store"
	"github.com/sluice-cdc/sluice/testenv/openapitest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type harness struct {
	t      *testing.T
	api    *API
	sup    *daemon.Supervisor
	store  *store.Files
	groups *fakeGroups
}

func newHarness(t *testing.T, opts Options, files ...config.Connector) *harness {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "connectors"))
	if err != nil {
		t.Fatal(err)
	}
	groups := &fakeGroups{committed: map[string][]daemon.GroupOffset{}}
	sup, _ := daemon.New(daemon.Options{Store: st, Workers: testsink.Workers, WorkerID: "host:8083", Logger: quiet,
		Backoff: daemon.Backoff{Initial: 10 * time.Millisecond, Max: 40 * time.Millisecond}, Groups: groups, ProbeInterval: 10 * time.Millisecond})
	if err := sup.Start(context.Background(), files); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sup.Shutdown(context.Background()) })
	opts.Version, opts.Commit, opts.Logger = "1.2.3", "abc123", quiet
	return &harness{t: t, api: New(sup, opts), sup: sup, store: st, groups: groups}
}

// do sends a request and returns the status and body.
func (h *harness) do(method, path, body string, header ...string) (int, string, http.Header) {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.api.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String(), rec.Header()
}

// expect checks a response's status and that its body is the JSON want
// (compared as data), or empty when want is empty.
func (h *harness) expect(method, path, body string, wantCode int, want string, header ...string) {
	h.t.Helper()
	code, got, hdr := h.do(method, path, body, header...)
	if code != wantCode {
		h.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, code, wantCode, got)
	}
	if want == "" {
		if got != "" {
			h.t.Fatalf("%s %s: body %q, want none", method, path, got)
		}
		return
	}
	if ct := hdr.Get("Content-Type"); ct != "application/json" {
		h.t.Fatalf("%s %s: Content-Type %q", method, path, ct)
	}
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		h.t.Fatalf("%s %s: body is not JSON: %s", method, path, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		h.t.Fatalf("bad expectation %s: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		h.t.Fatalf("%s %s:\n got %s\nwant %s", method, path, got, want)
	}
}

func (h *harness) waitState(name string, want daemon.State) {
	h.t.Helper()
	for i := 0; i < 2500; i++ {
		if st, err := h.sup.Status(name); err == nil && st.State == want {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	st, _ := h.sup.Status(name)
	h.t.Fatalf("%s: state %s, want %s", name, st.State, want)
}

const (
	cfgA    = `{"connector.class": "sluice-test", "topic.prefix": "cdc", "database.password": "pw", "count": 2, "offset.key": "server=cdc", "offset.value": "{\"lsn\":5}"}`
	shownA  = `{"connector.class": "sluice-test", "topic.prefix": "cdc", "database.password": "[hidden]", "count": "2", "offset.key": "server=cdc", "offset.value": "{\"lsn\":5}", "name": "a"}`
	infoA   = `{"name": "a", "config": ` + shownA + `, "tasks": [{"connector": "a", "task": 0}], "type": "source"}`
	running = `{"name": "a", "connector": {"state": "RUNNING", "worker_id": "host:8083"}, "tasks": [{"id": 0, "state": "RUNNING", "worker_id": "host:8083"}], "type": "source"}`
)

func TestServerInfo(t *testing.T) {
	h := newHarness(t, Options{})
	h.expect("GET", "/", "", 200, `{"version": "1.2.3", "commit": "abc123", "kafka_cluster_id": ""}`)
}

func TestConnectorEndpoints(t *testing.T) {
	h := newHarness(t, Options{})
	h.expect("GET", "/connectors", "", 200, `[]`)
	h.expect("POST", "/connectors", `{"name": "a", "config": `+cfgA+`}`, 201, infoA)
	h.waitState("a", daemon.Running)

	h.expect("GET", "/connectors", "", 200, `["a"]`)
	h.expect("GET", "/connectors?expand=status", "", 200, `{"a": {"status": `+running+`}}`)
	h.expect("GET", "/connectors?expand=info", "", 200, `{"a": {"info": `+infoA+`}}`)
	h.expect("GET", "/connectors?expand=status&expand=info", "", 200, `{"a": {"status": `+running+`, "info": `+infoA+`}}`)
	h.expect("GET", "/connectors/a", "", 200, infoA)
	h.expect("GET", "/connectors/a/config", "", 200, shownA)
	h.expect("GET", "/connectors/a/status", "", 200, running)
	h.expect("GET", "/connectors/a/tasks", "", 200, `[{"id": {"connector": "a", "task": 0}, "config": `+shownA+`}]`)
	h.expect("GET", "/connectors/a/tasks/0/status", "", 200, `{"id": 0, "state": "RUNNING", "worker_id": "host:8083"}`)
	h.expect("GET", "/connectors/a/tasks/1/status", "", 404, `{"error_code": 404, "message": "No status found for task a-1"}`)
	h.expect("GET", "/connectors/a/tasks/x/status", "", 404, `{"error_code": 404, "message": "No status found for task a-x"}`)

	// The config is stored as written, the secret too (it was literal).
	if rec, _ := h.store.Get(context.Background(), "a"); rec.Config["database.password"] != "pw" || rec.Config["count"] != "2" {
		t.Fatalf("stored config %v", rec.Config)
	}

	// PUT sends back the masked config with a change: the secret is kept.
	updated := strings.Replace(shownA, `"count": "2"`, `"count": "3"`, 1)
	h.expect("PUT", "/connectors/a/config", updated, 200, strings.Replace(infoA, `"count": "2"`, `"count": "3"`, 1))
	if rec, _ := h.store.Get(context.Background(), "a"); rec.Config["database.password"] != "pw" || rec.Config["count"] != "3" {
		t.Fatalf("stored config after PUT %v", rec.Config)
	}
	// A reference is stored and shown as written; one that cannot resolve is refused.
	h.expect("PATCH", "/connectors/a/config", `{"database.password": "${env:DB_PASSWORD}"}`, 400,
		problems([2]string{"database.password", "cannot resolve ${env:DB_PASSWORD}: environment variable DB_PASSWORD is not set"}))
	t.Setenv("DB_PASSWORD", "from-env")
	h.expect("PATCH", "/connectors/a/config", `{"count": null, "database.password": "${env:DB_PASSWORD}", "behavior": "permanent"}`, 200,
		strings.Replace(strings.Replace(infoA, `"count": "2", `, `"behavior": "permanent", `, 1), `"[hidden]"`, `"${env:DB_PASSWORD}"`, 1))
	if rec, _ := h.store.Get(context.Background(), "a"); rec.Config["database.password"] != "${env:DB_PASSWORD}" {
		t.Fatalf("stored password %q", rec.Config["database.password"])
	}
	h.expect("PUT", "/connectors/b/config", `{"connector.class": "sluice-test", "topic.prefix": "b"}`, 201,
		`{"name": "b", "config": {"connector.class": "sluice-test", "topic.prefix": "b", "name": "b"}, "tasks": [{"connector": "b", "task": 0}], "type": "source"}`)
	h.waitState("a", daemon.Failed)
	h.expect("GET", "/connectors/a/status", "", 200,
		`{"name": "a", "connector": {"state": "FAILED", "worker_id": "host:8083", "trace": "boom"}, "tasks": [{"id": 0, "state": "FAILED", "worker_id": "host:8083", "trace": "boom"}], "type": "source"}`)
	h.expect("POST", "/connectors/a/restart?onlyFailed=true", "", 202,
		`{"name": "a", "connector": {"state": "RESTARTING", "worker_id": "host:8083"}, "tasks": [{"id": 0, "state": "RESTARTING", "worker_id": "host:8083"}], "type": "source"}`)
	h.waitState("a", daemon.Failed)
	h.expect("PATCH", "/connectors/a/config", `{"behavior": null}`, 200, strings.Replace(strings.Replace(infoA, `"count": "2", `, ``, 1), `"[hidden]"`, `"${env:DB_PASSWORD}"`, 1))
	h.waitState("a", daemon.Running)
	h.expect("POST", "/connectors/a/restart", "", 204, "")
	h.waitState("a", daemon.Running)
	h.expect("POST", "/connectors/a/restart?includeTasks=true&onlyFailed=true", "", 202, running)
	h.expect("POST", "/connectors/a/restart?includeTasks=yes", "", 400, `{"error_code": 400, "message": "Invalid value \"yes\" of query parameter includeTasks: must be true or false"}`)

	// Offsets: readable always, changed only while STOPPED.
	h.expect("GET", "/connectors/a/offsets", "", 200, `{"offsets": [{"partition": {"server": "cdc"}, "offset": {"lsn": 5}}]}`)
	notStopped := `{"error_code": 400, "message": "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/a/stop' endpoint"}`
	change := `{"offsets": [{"partition": {"server": "cdc"}, "offset": {"lsn": 1}}, {"partition": {"server": "old"}, "offset": null}]}`
	h.expect("PATCH", "/connectors/a/offsets", change, 400, notStopped)
	h.expect("DELETE", "/connectors/a/offsets", "", 400, notStopped)
	h.expect("PUT", "/connectors/a/pause", "", 202, "")
	h.expect("GET", "/connectors/a/status", "", 200, strings.ReplaceAll(running, "RUNNING", "PAUSED"))
	h.expect("PUT", "/connectors/a/stop", "", 202, "")
	h.expect("GET", "/connectors/a/status", "", 200, `{"name": "a", "connector": {"state": "STOPPED", "worker_id": "host:8083"}, "tasks": [], "type": "source"}`)
	h.expect("GET", "/connectors/a/tasks", "", 200, `[]`)
	h.expect("PATCH", "/connectors/a/offsets", change, 200, `{"message": "The offsets for this connector have been altered successfully"}`)
	h.expect("GET", "/connectors/a/offsets", "", 200, `{"offsets": [{"partition": {"server": "cdc"}, "offset": {"lsn": 1}}]}`)
	for body, msg := range map[string]string{
		`{"offsets": []}`:                        `Partitions / offsets need to be provided for an alter offsets request`,
		`{}`:                                     `Partitions / offsets need to be provided for an alter offsets request`,
		`{"offsets": [{"partition": [1]}]}`:      `Invalid offsets body: offsets[0].partition must be an object or null`,
		`{"offsets": [{"offset": {}}]}`:          `Invalid offsets body: offsets[0].partition is missing`,
		`{"offsets": [{"partition": {"a": 1}}]}`: `Invalid offsets body: offsets[0].partition.a must be a string`,
		`{"offsets": [{"partition": {"a": "x"}, "offset": 3}]}`: `Invalid offsets body: offsets[0].offset must be an object or null`,
		`{"offsets": [{"partition": {}, "offset": {}}]}`:        `Invalid offsets body: offsets[0]: the partition must not be empty`,
		`{"offset": []}`: `Invalid offsets body: unknown field \"offset\"`,
	} {
		h.expect("PATCH", "/connectors/a/offsets", body, 400, `{"error_code": 400, "message": "`+msg+`"}`)
	}
	h.expect("DELETE", "/connectors/a/offsets", "", 200, `{"message": "The offsets for this connector have been reset successfully"}`)
	h.expect("GET", "/connectors/a/offsets", "", 200, `{"offsets": []}`)
	h.expect("PUT", "/connectors/a/resume", "", 202, "")
	h.waitState("a", daemon.Running)

	h.expect("DELETE", "/connectors/a", "", 204, "")
	notFound := `{"error_code": 404, "message": "Connector a not found"}`
	for _, r := range [][2]string{{"GET", "/connectors/a"}, {"GET", "/connectors/a/config"}, {"GET", "/connectors/a/status"}, {"GET", "/connectors/a/tasks"},
		{"GET", "/connectors/a/tasks/0/status"}, {"DELETE", "/connectors/a"}, {"PUT", "/connectors/a/pause"}, {"PUT", "/connectors/a/resume"},
		{"PUT", "/connectors/a/stop"}, {"POST", "/connectors/a/restart"}, {"GET", "/connectors/a/offsets"}, {"DELETE", "/connectors/a/offsets"}} {
		h.expect(r[0], r[1], "", 404, notFound)
	}
	h.expect("PATCH", "/connectors/a/config", `{"count": "1"}`, 404, notFound)
	h.expect("PATCH", "/connectors/a/offsets", change, 404, notFound)
	h.expect("GET", "/connectors", "", 200, `["b"]`)
}

func TestInitialState(t *testing.T) {
	h := newHarness(t, Options{})
	h.expect("POST", "/connectors", `{"name": "s", "config": {"connector.class": "sluice-test", "topic.prefix": "x"}, "initial_state": "STOPPED"}`, 201,
		`{"name": "s", "config": {"connector.class": "sluice-test", "topic.prefix": "x", "name": "s"}, "tasks": [], "type": "source"}`)
	h.expect("GET", "/connectors/s/status", "", 200, `{"name": "s", "connector": {"state": "STOPPED", "worker_id": "host:8083"}, "tasks": [], "type": "source"}`)
}

// problems is the body of a 400 answer listing configuration problems.
func problems(ps ...[2]string) string {
	lines := make([]string, len(ps))
	entries := make([]string, len(ps))
	for i, p := range ps {
		if p[0] == "" {
			lines[i] = p[1]
		} else {
			lines[i] = p[0] + ": " + p[1]
		}
		k, _ := json.Marshal(p[0])
		m, _ := json.Marshal(p[1])
		entries[i] = `{"key": ` + string(k) + `, "message": ` + string(m) + `}`
	}
	msg, _ := json.Marshal("Connector configuration is invalid and contains the following " + itoa(len(ps)) + " error(s):\n" + strings.Join(lines, "\n"))
	return `{"error_code": 400, "message": ` + string(msg) + `, "errors": [` + strings.Join(entries, ", ") + `]}`
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestBadInputsAreRefusedAndChangeNothing(t *testing.T) {
	h := newHarness(t, Options{MaxBodyBytes: 4096}, config.Connector{Name: "file", Config: map[string]string{"connector.class": "sluice-test", "topic.prefix": "f"}, File: "/etc/sluice/file.json"})
	h.expect("POST", "/connectors", `{"name": "a", "config": `+cfgA+`}`, 201, infoA)
	for i := 0; i < 2500; i++ { // until the worker has saved its offset
		if rec, _ := h.store.Get(context.Background(), "a"); len(rec.Offsets) > 0 {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	before := func() string { _, b, _ := h.do("GET", "/connectors?expand=info", ""); return b }()
	storedBefore, _ := h.store.List(context.Background())

	valid := `"connector.class": "sluice-test", "topic.prefix": "cdc"`
	tests := []struct {
		name, method, path, body string
		code                     int
		want                     string
	}{
		{"bad JSON", "POST", "/connectors", `{"name": "x", "config": {`, 400, `{"error_code": 400, "message": "Malformed JSON request body: unexpected end of JSON input"}`},
		{"not an object", "POST", "/connectors", `[1]`, 400, problems([2]string{"", "invalid connector JSON: cannot unmarshal array into Go value of type config.connectorFile"})},
		{"unknown body key", "POST", "/connectors", `{"name": "x", "config": {` + valid + `}, "tasks": []}`, 400,
			problems([2]string{"", `invalid connector JSON: unknown key "tasks" (a connector has name, config and initial_state)`})},
		{"missing name", "POST", "/connectors", `{"config": {` + valid + `}}`, 400, problems([2]string{"name", "missing: a connector needs a name"})},
		{"slash in name", "POST", "/connectors", `{"name": "x/y", "config": {` + valid + `}}`, 400, problems([2]string{"name", "must not contain '/'"})},
		{"unknown key", "POST", "/connectors", `{"name": "x", "config": {` + valid + `, "colour": "red"}}`, 400, problems([2]string{"colour", "unknown configuration key"})},
		{"wrong type", "POST", "/connectors", `{"name": "x", "config": {` + valid + `, "count": "many"}}`, 400, problems([2]string{"count", `invalid value "many": not an integer`})},
		{"nested value", "POST", "/connectors", `{"name": "x", "config": {` + valid + `, "count": {"n": 1}}}`, 400, problems([2]string{"count", "must be a string, number or boolean, not an object"})},
		{"missing required key", "POST", "/connectors", `{"name": "x", "config": {"connector.class": "sluice-test"}}`, 400, problems([2]string{"topic.prefix", "missing required configuration"})},
		{"unknown class", "POST", "/connectors", `{"name": "x", "config": {"connector.class": "com.example.Nope"}}`, 400,
			problems([2]string{"connector.class", `unknown connector class "com.example.Nope"; this build has: sluice-test, sluice-test-sink`})},
		{"unknown transform key", "POST", "/connectors", `{"name": "x", "config": {` + valid + `, "transforms": "route", "transforms.rout.type": "RegexRouter"}}`, 400,
			problems([2]string{"transforms.rout.type", `"rout" is not listed in transforms`}, [2]string{"transforms.route.type", "missing required configuration"})},
		{"client override", "POST", "/connectors", `{"name": "x", "config": {` + valid + `, "consumer.override.sasl.jaas.config": "x"}}`, 400,
			problems([2]string{"consumer.override.sasl.jaas.config", "Kafka client override not allowed; connector class sluice-test allows: producer.override.linger.ms"})},
		{"bad initial state", "POST", "/connectors", `{"name": "x", "config": {` + valid + `}, "initial_state": "FAILED"}`, 400,
			problems([2]string{"initial_state", `invalid value "FAILED": must be RUNNING, PAUSED or STOPPED`})},
		{"duplicate name", "POST", "/connectors", `{"name": "a", "config": {` + valid + `}}`, 409, `{"error_code": 409, "message": "Connector a already exists"}`},
		{"file connector", "POST", "/connectors", `{"name": "file", "config": {` + valid + `}}`, 409,
			`{"error_code": 409, "message": "Connector file is managed by file /etc/sluice/file.json: edit or remove that file and reload the daemon (SIGHUP)"}`},
		{"too large", "POST", "/connectors", `{"name": "x", "config": {"k": "` + strings.Repeat("x", 5000) + `"}}`, 413, `{"error_code": 413, "message": "Request body is larger than 4096 bytes"}`},
		{"empty body", "POST", "/connectors", "", 400, `{"error_code": 400, "message": "Request body is empty: send a JSON document"}`},
		{"PUT unknown key", "PUT", "/connectors/a/config", `{` + valid + `, "colour": "red"}`, 400, problems([2]string{"colour", "unknown configuration key"})},
		{"PUT mismatched name", "PUT", "/connectors/a/config", `{` + valid + `, "name": "b"}`, 400, problems([2]string{"name", `the config's name "b" does not match the connector's name "a"`})},
		{"PUT array", "PUT", "/connectors/a/config", `[]`, 400, problems([2]string{"", "the config must be an object of string values, not a JSON array"})},
		{"PUT file connector", "PUT", "/connectors/file/config", `{` + valid + `}`, 409,
			`{"error_code": 409, "message": "Connector file is managed by file /etc/sluice/file.json: edit or remove that file and reload the daemon (SIGHUP)"}`},
		{"PATCH wrong type", "PATCH", "/connectors/a/config", `{"count": true}`, 400, problems([2]string{"count", `invalid value "true": not an integer`})},
		{"PATCH removes required key", "PATCH", "/connectors/a/config", `{"topic.prefix": null}`, 400, problems([2]string{"topic.prefix", "missing required configuration"})},
		{"DELETE file connector", "DELETE", "/connectors/file", "", 409,
			`{"error_code": 409, "message": "Connector file is managed by file /etc/sluice/file.json: edit or remove that file and reload the daemon (SIGHUP)"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.t = t
			h.expect(tc.method, tc.path, tc.body, tc.code, tc.want)
		})
	}
	h.t = t
	code, _, _ := h.do("POST", "/connectors", `{"name": "x"}`, "Content-Type", "text/plain")
	if code != 415 {
		t.Fatalf("text/plain body: %d", code)
	}
	after := func() string { _, b, _ := h.do("GET", "/connectors?expand=info", ""); return b }()
	storedAfter, _ := h.store.List(context.Background())
	if before != after || !reflect.DeepEqual(storedBefore, storedAfter) {
		t.Fatalf("bad inputs changed something:\nbefore %s\nafter  %s", before, after)
	}
}

func TestPlugins(t *testing.T) {
	h := newHarness(t, Options{})
	h.expect("GET", "/connector-plugins", "", 200, `[{"class": "io.sluice.test.TestSourceConnector", "type": "source", "version": "1.2.3"}, {"class": "sluice-test-sink", "type": "sink", "version": "1.2.3"}]`)
	code, body, _ := h.do("GET", "/connector-plugins/sluice-test/config", "")
	var defs []keyDefinition
	if code != 200 || json.Unmarshal([]byte(body), &defs) != nil || len(defs) != len(testclass.Spec.Keys) {
		t.Fatalf("config: %d %s", code, body)
	}
	empty := ""
	wantFirst := keyDefinition{Name: "connector.class", Type: "CLASS", Required: true, Importance: "HIGH", Documentation: "sluice-test", Group: "Common", OrderInGroup: 1, Width: "NONE", DisplayName: "connector.class", Dependents: []string{}}
	wantOffset := keyDefinition{Name: "offset.key", Type: "STRING", DefaultValue: &empty, Importance: "MEDIUM", Documentation: "When set, Run saves offset.value under this key first.", Group: "Test", OrderInGroup: 5, Width: "NONE", DisplayName: "offset.key", Dependents: []string{}}
	if !reflect.DeepEqual(defs[0], wantFirst) || !reflect.DeepEqual(defs[6], wantOffset) {
		t.Fatalf("definitions:\n%+v\n%+v", defs[0], defs[6])
	}
	h.expect("GET", "/connector-plugins/nope/config", "", 404, `{"error_code": 404, "message": "Unknown plugin nope: no connector class of that name or alias"}`)

	code, body, _ = h.do("PUT", "/connector-plugins/io.sluice.test.TestSourceConnector/config/validate", `{"count": "x", "behavior": "fail", "database.password": "pw", "colour": "red", "lingr.ms": "5", "transforms.a.type": "X"}`)
	var infos configInfos
	if code != 200 || json.Unmarshal([]byte(body), &infos) != nil {
		t.Fatalf("validate: %d %s", code, body)
	}
	if infos.Name != "io.sluice.test.TestSourceConnector" || infos.ErrorCount != 5 || !reflect.DeepEqual(infos.Groups, []string{"Common", "Topics", "Test", "Connection", "Producer"}) {
		t.Fatalf("validate: name %s, %d errors, groups %v", infos.Name, infos.ErrorCount, infos.Groups)
	}
	values := map[string]keyValue{}
	for _, c := range infos.Configs {
		values[c.Value.Name] = c.Value
	}
	str := func(s string) *string { return &s }
	for name, want := range map[string]keyValue{
		"connector.class":   {Name: "connector.class", Value: str("io.sluice.test.TestSourceConnector"), RecommendedValues: []string{}, Errors: []string{}, Visible: true},
		"count":             {Name: "count", Value: str("x"), RecommendedValues: []string{}, Errors: []string{`invalid value "x": not an integer`}, Visible: true},
		"topic.prefix":      {Name: "topic.prefix", RecommendedValues: []string{}, Errors: []string{"missing required configuration"}, Visible: true},
		"behavior":          {Name: "behavior", Value: str("fail"), RecommendedValues: []string{"run", "fail", "permanent", "finish", "panic", "linger"}, Errors: []string{}, Visible: true},
		"database.password": {Name: "database.password", Value: str("[hidden]"), RecommendedValues: []string{}, Errors: []string{}, Visible: true},
		"linger.ms":         {Name: "linger.ms", Value: str("0"), RecommendedValues: []string{}, Errors: []string{}, Visible: true},
		"colour":            {Name: "colour", Value: str("red"), RecommendedValues: []string{}, Errors: []string{"unknown configuration key"}, Visible: true},
		"lingr.ms":          {Name: "lingr.ms", Value: str("5"), RecommendedValues: []string{}, Errors: []string{"unknown configuration key; did you mean linger.ms?"}, Visible: true},
		"transforms.a.type": {Name: "transforms.a.type", Value: str("X"), RecommendedValues: []string{}, Errors: []string{`"a" is not listed in transforms`}, Visible: true},
	} {
		if !reflect.DeepEqual(values[name], want) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, values[name], want)
		}
	}
	if len(infos.Configs) != len(testclass.Spec.Keys)+3 {
		t.Fatalf("%d entries", len(infos.Configs))
	}
	h.expect("PUT", "/connector-plugins/sluice-test/config/validate", `{"connector.class": "postgres"}`, 400, `{"error_code": 400, "message": "Included connector type postgres does not match request type sluice-test"}`)
	h.expect("PUT", "/connector-plugins/nope/config/validate", `{}`, 404, `{"error_code": 404, "message": "Unknown plugin nope: no connector class of that name or alias"}`)
	h.expect("PUT", "/connector-plugins/sluice-test/config/validate", `{"a": [1]}`, 400, problems([2]string{"a", "must be a string, number or boolean, not an array"}))
	if names := h.sup.Names(); len(names) != 0 {
		t.Fatalf("validation created %v", names)
	}
}

func TestAuthentication(t *testing.T) {
	h := newHarness(t, Options{Auth: &config.Auth{User: "admin", Password: "s3cret", Tokens: []string{"0123456789abcdef"}}})
	unauthorized := `{"error_code": 401, "message": "Authentication required: send HTTP basic credentials or a bearer token"}`
	h.expect("GET", "/connectors", "", 401, unauthorized)
	h.expect("GET", "/connectors", "", 401, unauthorized, "Authorization", "Basic YWRtaW46d3Jvbmc=") // admin:wrong
	h.expect("GET", "/connectors", "", 401, unauthorized, "Authorization", "Bearer 0123456789abcdeX")
	h.expect("GET", "/connectors", "", 200, `[]`, "Authorization", "Basic YWRtaW46czNjcmV0") // admin:s3cret
	h.expect("GET", "/connectors", "", 200, `[]`, "Authorization", "Bearer 0123456789abcdef")
	h.expect("GET", "/healthz", "", 200, `{"status": "ok"}`)
	h.expect("GET", "/readyz", "", 200, `{"status": "ready", "connectors": {}}`)
	if _, _, hdr := h.do("GET", "/metrics", ""); hdr.Get("WWW-Authenticate") != `Basic realm="sluice", charset="UTF-8"` {
		t.Fatalf("WWW-Authenticate = %q", hdr.Get("WWW-Authenticate"))
	}
}

func TestUnknownPathsAndMethods(t *testing.T) {
	h := newHarness(t, Options{})
	h.expect("GET", "/nope", "", 404, `{"error_code": 404, "message": "HTTP 404 Not Found"}`)
	h.expect("GET", "/connectors/a/b/c", "", 404, `{"error_code": 404, "message": "HTTP 404 Not Found"}`)
	h.expect("DELETE", "/connectors", "", 405, `{"error_code": 405, "message": "HTTP 405 Method Not Allowed"}`)
	if _, _, hdr := h.do("POST", "/connectors/a/status", ""); hdr.Get("Allow") != "GET, HEAD" {
		t.Fatalf("Allow = %q", hdr.Get("Allow"))
	}
}

func TestHealthAndMetrics(t *testing.T) {
	h := newHarness(t, Options{})
	before := time.Now()
	h.expect("POST", "/connectors", `{"name": "a\"b", "config": {"connector.class": "sluice-test", "topic.prefix": "x", "behavior": "permanent"}}`, 201,
		`{"name": "a\"b", "config": {"connector.class": "sluice-test", "topic.prefix": "x", "behavior": "permanent", "name": "a\"b"}, "tasks": [{"connector": "a\"b", "task": 0}], "type": "source"}`)
	h.waitState(`a"b`, daemon.Failed)
	h.expect("GET", "/nope", "", 404, `{"error_code": 404, "message": "HTTP 404 Not Found"}`)
	code, body, hdr := h.do("GET", "/metrics", "")
	failedAt := time.Now()
	want := `# HELP sluice_connector_last_error_timestamp_seconds When an error last failed or restarted the connector, in seconds since the Unix epoch; absent when none has since the daemon started.
# TYPE sluice_connector_last_error_timestamp_seconds gauge
# HELP sluice_connector_restarts_total Restarts of a connector after transient errors since the daemon started.
# TYPE sluice_connector_restarts_total counter
sluice_connector_restarts_total{connector="a\"b"} 0
# HELP sluice_connectors Connectors by runtime state.
# TYPE sluice_connectors gauge
sluice_connectors{state="FAILED"} 1
sluice_connectors{state="PAUSED"} 0
sluice_connectors{state="RUNNING"} 0
sluice_connectors{state="STOPPED"} 0
sluice_connectors{state="UNASSIGNED"} 0
# HELP sluice_http_requests_total REST API responses by status code.
# TYPE sluice_http_requests_total counter
sluice_http_requests_total{code="201"} 1
sluice_http_requests_total{code="404"} 1
`
	var sluice strings.Builder
	var lastError float64
	for _, line := range strings.SplitAfter(body, "\n") {
		if v, ok := strings.CutPrefix(line, `sluice_connector_last_error_timestamp_seconds{connector="a\"b"} `); ok {
			lastError, _ = strconv.ParseFloat(strings.TrimSpace(v), 64)
		} else if strings.Contains(line, "sluice_") {
			sluice.WriteString(line)
		}
	}
	if code != 200 || sluice.String() != want || hdr.Get("Content-Type") != "text/plain; version=0.0.4; charset=utf-8; escaping=underscores" {
		t.Fatalf("metrics: %d %q\n%s", code, hdr.Get("Content-Type"), body)
	}
	if at := time.UnixMilli(int64(lastError * 1000)); at.Before(before.Truncate(time.Millisecond)) || at.After(failedAt) {
		t.Errorf("last error at %v, want between %v and %v", at, before, failedAt)
	}
	for _, family := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if !strings.Contains(body, "\n# TYPE "+family+" gauge\n") {
			t.Errorf("no %s in /metrics", family)
		}
	}
	h.sup.Shutdown(context.Background())
	h.expect("GET", "/readyz", "", 503, `{"status": "not ready", "reason": "the daemon is starting or shutting down; FAILED: a\"b (GET /connectors/{name}/status says why)", "connectors": {"a\"b": "FAILED"}}`)
}

// TestReadyzReportsConnectors checks that /readyz is ready only while every
// connector runs or was paused or stopped on purpose, and names the others
// with their states but not their traces.
func TestReadyzReportsConnectors(t *testing.T) {
	h := newHarness(t, Options{})
	create := func(name, behavior string) {
		h.t.Helper()
		code, body, _ := h.do("POST", "/connectors", `{"name": "`+name+`", "config": {"connector.class": "sluice-test", "topic.prefix": "x", "behavior": "`+behavior+`"}}`)
		if code != 201 {
			t.Fatalf("create %s: %d %s", name, code, body)
		}
	}
	create("up", "run")
	h.waitState("up", daemon.Running)
	h.expect("PUT", "/connectors/up/pause", "", 202, "")
	h.waitState("up", daemon.Paused)
	h.expect("GET", "/readyz", "", 200, `{"status": "ready", "connectors": {"up": "PAUSED"}}`)

	create("flaky", "fail") // a transient error each run: UNASSIGNED between retries
	for i := 0; ; i++ {
		if st, _ := h.sup.Status("flaky"); st.State == daemon.Unassigned && st.Trace != "" {
			break
		}
		if i == 2500 {
			t.Fatal("flaky never waited to retry")
		}
		time.Sleep(2 * time.Millisecond)
	}
	create("broken", "permanent")
	h.waitState("broken", daemon.Failed)
	h.expect("GET", "/readyz", "", 503, `{"status": "not ready", "reason": "FAILED: broken; retrying after an error: flaky (GET /connectors/{name}/status says why)",
		"connectors": {"broken": "FAILED", "flaky": "UNASSIGNED", "up": "PAUSED"}}`)

	h.expect("DELETE", "/connectors/flaky", "", 204, "")
	h.expect("PUT", "/connectors/broken/stop", "", 202, "")
	h.waitState("broken", daemon.Stopped)
	h.expect("GET", "/readyz", "", 200, `{"status": "ready", "connectors": {"broken": "STOPPED", "up": "PAUSED"}}`)

	// A sink whose task 1 failed is not ready, though it RUNS with task 0.
	code, body, _ := h.do("POST", "/connectors", `{"name": "index", "config": {"connector.class": "sluice-test-sink", "topics": "x", "tasks.max": "2", "fail.task": "1"}}`)
	if code != 201 {
		t.Fatalf("create index: %d %s", code, body)
	}
	for i := 0; ; i++ {
		if st, _ := h.sup.Status("index"); len(st.Tasks) == 2 && st.Tasks[1].State == daemon.Failed {
			break
		}
		if i == 2500 {
			t.Fatal("task 1 of index never failed")
		}
		time.Sleep(2 * time.Millisecond)
	}
	h.expect("GET", "/readyz", "", 503, `{"status": "not ready", "reason": "FAILED: index (GET /connectors/{name}/status says why)",
		"connectors": {"broken": "STOPPED", "index": "RUNNING", "up": "PAUSED"}}`)
	h.expect("GET", "/connectors/index/status", "", 200, `{"name": "index", "type": "sink", "connector": {"state": "RUNNING", "worker_id": "host:8083"},
		"tasks": [{"id": 0, "state": "RUNNING", "worker_id": "host:8083"}, {"id": 1, "state": "FAILED", "worker_id": "host:8083", "trace": "task 1 fails, as fail.task says"}]}`)
}

// TestOpenAPIDescribesEveryRoute checks that the document is OpenAPI 3 and
// has an operation, with responses, for each route and nothing else.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	h := newHarness(t, Options{})
	code, body, _ := h.do("GET", "/openapi.json", "")
	if code != 200 {
		t.Fatalf("GET /openapi.json: %d %s", code, body)
	}
	var served []string
	for _, r := range h.api.table() {
		served = append(served, r.method+" "+r.path)
	}
	openapitest.DescribesExactly(t, []byte(body), served)
}

func TestListRefusesUnknownExpansions(t *testing.T) {
	h := newHarness(t, Options{})
	h.expect("GET", "/connectors?expand=status&expand=everything", "", 400, `{"error_code": 400, "message": "Invalid value \"everything\" of query parameter expand: must be status or info"}`)
}
