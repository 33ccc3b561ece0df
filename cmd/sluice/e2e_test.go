package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/testenv"
)

// binary builds sluice once, the way the release build and the Dockerfile
// do: static (CGO_ENABLED=0), -trimpath, stripped.
var binary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "sluice-e2e-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "sluice")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=e2e", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", errors.New(string(out))
	}
	return bin, nil
})

func sluiceBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin, err := binary()
	if err != nil {
		t.Fatalf("go build: %v", err)
	}
	return bin
}

// daemonProc is a running `sluice run`.
type daemonProc struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string // http://127.0.0.1:PORT
	mu   sync.Mutex
	logs []string
	done chan error
}

var listening = regexp.MustCompile(`"msg":"REST API listening","addr":"([^"]+)"`)

func startDaemon(t *testing.T, env []string, args ...string) *daemonProc {
	t.Helper()
	cmd := exec.Command(sluiceBinary(t), append([]string{"run"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemonProc{t: t, cmd: cmd, done: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			d.mu.Lock()
			d.logs = append(d.logs, sc.Text())
			d.mu.Unlock()
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		d.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
	})
	select {
	case a := <-addr:
		d.base = "http://" + a
	case <-time.After(20 * time.Second):
		t.Fatalf("the daemon did not start listening; logs:\n%s", d.log())
	}
	// Started: its connectors may still be starting, or failing on purpose.
	d.waitFor("started", func() bool {
		code, body := d.call("GET", "/readyz", "")
		return code == 200 || code == 503 && !strings.Contains(body, "the daemon is starting or shutting down")
	})
	return d
}

func (d *daemonProc) log() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return strings.Join(d.logs, "\n")
}

func (d *daemonProc) call(method, path, body string) (int, string) {
	d.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, d.base+path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// expect checks a call's status and JSON body (compared as data).
func (d *daemonProc) expect(method, path, body string, wantCode int, want string) {
	d.t.Helper()
	code, got := d.call(method, path, body)
	if code != wantCode {
		d.t.Fatalf("%s %s: %d, want %d: %s", method, path, code, wantCode, got)
	}
	if want == "" {
		return
	}
	var g, w any
	json.Unmarshal([]byte(got), &g)
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		d.t.Fatalf("bad expectation: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		d.t.Fatalf("%s %s:\n got %s\nwant %s", method, path, got, want)
	}
}

func (d *daemonProc) waitFor(what string, cond func() bool) {
	d.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			d.t.Fatalf("waiting for %s; logs:\n%s", what, d.log())
		}
	}
}

// terminate sends SIGTERM and checks the daemon exits 0 within bound.
func (d *daemonProc) terminate(bound time.Duration) time.Duration {
	d.t.Helper()
	began := time.Now()
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.done:
		if err != nil {
			d.t.Fatalf("exit after SIGTERM: %v; logs:\n%s", err, d.log())
		}
	case <-time.After(bound):
		d.t.Fatalf("still running %v after SIGTERM; logs:\n%s", bound, d.log())
	}
	return time.Since(began)
}

func writeJSON(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestRunLikeAUser(t *testing.T) {
	pgURL, err := url.Parse(testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	db := newDatabase(t)
	db.exec(t, `CREATE TABLE orders (id int PRIMARY KEY, item text NOT NULL)`, `INSERT INTO orders VALUES (1, 'book')`)

	dir := t.TempDir()
	conns := filepath.Join(dir, "connectors")
	os.Mkdir(conns, 0o700)
	kafkaAddr, registryAddr := freeAddr(t), freeAddr(t)
	cfgFile := filepath.Join(dir, "sluice.json")
	writeJSON(t, cfgFile, `{"state.dir": "`+dir+`/state", "rest": {"listen": ":1"}, "log": {"format": "text"}, "shutdown.timeout.ms": 5000,
		"kafka": {"embedded": {"listen": "`+kafkaAddr+`"}}, "registry": {"listen": "`+registryAddr+`"}}`)
	pgPassword, _ := pgURL.User.Password()
	writeJSON(t, filepath.Join(conns, "orders.json"), `{"name": "orders", "config": {"connector.class": "io.debezium.connector.postgresql.PostgresConnector",
		"database.hostname": "`+pgURL.Hostname()+`", "database.port": `+pgURL.Port()+`, "database.user": "`+pgURL.User.Username()+`",
		"database.password": "${env:PG_PASSWORD}", "database.dbname": "`+db.name+`", "database.sslmode": "disable",
		"slot.name": "`+db.name+`", "publication.name": "`+db.name+`", "topic.prefix": "cdc"}}`)
	// Connectors that cannot reach their database: they must not disturb orders.
	unreachable := func(name, prefix string) string {
		return `{"name": "` + name + `", "config": {"connector.class": "postgres", "database.hostname": "127.0.0.1", "database.port": 1,
			"database.user": "cdc", "database.password": "${env:PG_PASSWORD}", "database.dbname": "app", "topic.prefix": "` + prefix + `"}}`
	}
	writeJSON(t, filepath.Join(conns, "extra.json"), unreachable("extra", "extra"))
	env := []string{"SLUICE_REST_LISTEN=127.0.0.1:0", "SLUICE_LOG_FORMAT=json", "PG_PASSWORD=" + pgPassword}
	d := startDaemon(t, env, "--config", cfgFile, "--connectors-dir", conns)

	d.expect("GET", "/", "", 200, `{"version": "e2e", "commit": "", "kafka_cluster_id": ""}`)
	d.expect("GET", "/connectors", "", 200, `["extra","orders"]`)
	// The container image's health check.
	if out, err := exec.Command(sluiceBinary(t), "health", "--url", d.base+"/healthz").CombinedOutput(); err != nil || string(out) != "healthy\n" {
		t.Errorf("sluice health: %v %q", err, out)
	}
	if out, err := exec.Command(sluiceBinary(t), "health", "--url", "http://"+freeAddr(t)+"/healthz").CombinedOutput(); err == nil || err.(*exec.ExitError).ExitCode() != 1 {
		t.Errorf("sluice health of nothing: %v %q, want exit 1", err, out)
	}
	d.waitFor("orders RUNNING", func() bool {
		_, b := d.call("GET", "/connectors/orders/status", "")
		return strings.Contains(b, `"state":"RUNNING"`)
	})
	topic := newTopicReader(t, []string{kafkaAddr}, "http://"+registryAddr, "cdc.public.orders")
	topic.expect(t, "r 1 book")
	db.exec(t, `INSERT INTO orders VALUES (2, 'pen')`)
	topic.expect(t, "r 1 book", "c 2 pen")

	d.expect("GET", "/connectors/orders/config", "", 200, `{"connector.class": "io.debezium.connector.postgresql.PostgresConnector", "database.hostname": "`+pgURL.Hostname()+`",
		"database.port": "`+pgURL.Port()+`", "database.user": "`+pgURL.User.Username()+`", "database.password": "${env:PG_PASSWORD}", "database.dbname": "`+db.name+`",
		"database.sslmode": "disable", "slot.name": "`+db.name+`", "publication.name": "`+db.name+`", "topic.prefix": "cdc", "name": "orders"}`)
	d.expect("PUT", "/connectors/orders/config", `{"connector.class": "postgres"}`, 409,
		`{"error_code": 409, "message": "Connector orders is managed by file `+filepath.Join(conns, "orders.json")+`: edit or remove that file and reload the daemon (SIGHUP)"}`)

	// A connector created through the API, with a literal password.
	apiDef := `{"name": "api", "config": {"connector.class": "postgres", "database.hostname": "127.0.0.1", "database.port": "1", "database.user": "cdc", "database.password": "literal-secret-value", "database.dbname": "app", "topic.prefix": "api"}}`
	d.expect("POST", "/connectors", apiDef, 201, `{"name": "api", "config": {"connector.class": "postgres", "database.hostname": "127.0.0.1", "database.port": "1", "database.user": "cdc",
		"database.password": "[hidden]", "database.dbname": "app", "topic.prefix": "api", "name": "api"}, "tasks": [{"connector": "api", "task": 0}], "type": "source"}`)
	d.expect("POST", "/connectors", apiDef, 409, `{"error_code": 409, "message": "Connector api already exists"}`)
	d.expect("PUT", "/connectors/api/pause", "", 202, "")
	d.expect("GET", "/connectors/api/status", "", 200, "")
	d.expect("GET", "/connector-plugins", "", 200, `[{"class": "io.confluent.connect.elasticsearch.ElasticsearchSinkConnector", "type": "sink", "version": "e2e"},
		{"class": "io.debezium.connector.mariadb.MariaDbConnector", "type": "source", "version": "e2e"}, {"class": "io.debezium.connector.mysql.MySqlConnector", "type": "source", "version": "e2e"},
		{"class": "io.debezium.connector.postgresql.PostgresConnector", "type": "source", "version": "e2e"}, {"class": "sse", "type": "sink", "version": "e2e"}]`)
	if _, m := d.call("GET", "/metrics", ""); !strings.Contains(m, `sluice_source_events_total{connector="orders"} 2`) {
		t.Errorf("metrics do not count orders' two events:\n%s", m)
	}

	// SIGHUP: extra goes, inventory arrives.
	os.Remove(filepath.Join(conns, "extra.json"))
	writeJSON(t, filepath.Join(conns, "inventory.json"), unreachable("inventory", "inv"))
	d.cmd.Process.Signal(syscall.SIGHUP)
	d.waitFor("reload", func() bool { _, b := d.call("GET", "/connectors", ""); return b == `["api","inventory","orders"]`+"\n" })

	took := d.terminate(6 * time.Second)
	t.Logf("SIGTERM to exit: %v", took)
	logs := d.log()
	for _, secret := range []string{pgPassword + `"`, "literal-secret-value"} {
		if strings.Contains(logs, secret) {
			t.Fatalf("a secret is in the logs:\n%s", logs)
		}
	}
	if !strings.Contains(logs, `"msg":"signal received; shutting down","signal":"terminated"`) && !strings.Contains(logs, `"msg":"shutting down"`) {
		t.Fatalf("no shutdown log:\n%s", logs)
	}

	// A change made while the daemon is down arrives after its restart,
	// once: the position survived, and nothing is snapshotted again.
	db.exec(t, `INSERT INTO orders VALUES (3, 'ink')`)
	d = startDaemon(t, env, "--config", cfgFile, "--connectors-dir", conns)
	d.expect("GET", "/connectors", "", 200, `["api","inventory","orders"]`)
	topic.expect(t, "r 1 book", "c 2 pen", "c 3 ink")
	time.Sleep(time.Second)
	topic.expect(t, "r 1 book", "c 2 pen", "c 3 ink")
	host, _ := os.Hostname()
	worker := host + d.base[strings.LastIndex(d.base, ":"):]
	d.expect("GET", "/connectors/api/status", "", 200, `{"name": "api", "connector": {"state": "PAUSED", "worker_id": "`+worker+
		`"}, "tasks": [{"id": 0, "state": "PAUSED", "worker_id": "`+worker+`"}], "type": "source"}`)
	d.expect("DELETE", "/connectors/api", "", 204, "")
	d.terminate(6 * time.Second)
	entries, _ := os.ReadDir(filepath.Join(dir, "state", "connectors"))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != "inventory.json,orders.json" {
		t.Fatalf("state after delete: %v", names)
	}
}

func TestCommandExitCodes(t *testing.T) {
	bin := sluiceBinary(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	os.Mkdir(good, 0o700)
	writeJSON(t, filepath.Join(good, "a.json"), `{"name": "a", "config": {"connector.class": "postgres", "database.hostname": "db", "database.user": "u", "database.dbname": "d", "topic.prefix": "p"}}`)
	badCfg := filepath.Join(dir, "bad.json")
	writeJSON(t, badCfg, `{"rest": {"listen": 8083}, "kafka": {"bootstrap": "x"}}`)
	seeds, err := filepath.Abs("../../examples/connectors/orders")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PG_PASSWORD", "example") // the seed configs read their passwords from the environment
	t.Setenv("MYSQL_PASSWORD", "example")
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		// The example pipeline: Debezium's and Confluent's configs as users write them.
		{"seed configs", []string{"validate", "--connectors-dir", seeds}, 0,
			"ok: daemon config (defaults and environment) and 3 connector(s): elasticsearch-sink-connector, mysql-source-connector, postgresql-source-connector\n", ""},
		{"valid", []string{"validate", "--connectors-dir", good}, 0, "ok: daemon config (defaults and environment) and 1 connector(s): a\n", ""},
		{"bad daemon config", []string{"validate", "--config", badCfg}, 2,
			badCfg + ": kafka.bootstrap: unknown setting\n" + badCfg + ": rest.listen: must be a string, not a number\n", "sluice: 2 problem(s) in the configuration\n"},
		{"run with a bad daemon config", []string{"run", "--config", badCfg}, 2, "",
			badCfg + ": kafka.bootstrap: unknown setting\n" + badCfg + ": rest.listen: must be a string, not a number\nsluice: 2 problem(s) in the configuration\n"},
		{"bad flag", []string{"run", "--nope"}, 2, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(bin, tc.args...)
			cmd.Dir = dir
			var out, errOut strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &errOut
			err := cmd.Run()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			}
			if code != tc.code || out.String() != tc.stdout || (tc.stderr != "" && errOut.String() != tc.stderr) {
				t.Fatalf("exit %d (want %d)\nstdout %q\nwant   %q\nstderr %q\nwant   %q", code, tc.code, out.String(), tc.stdout, errOut.String(), tc.stderr)
			}
		})
	}
}

// TestExamplesValidate checks that the shipped example configs are valid.
func TestExamplesValidate(t *testing.T) {
	cmd := exec.Command(sluiceBinary(t), "validate", "--config", "../../examples/sluice.json", "--connectors-dir", "../../examples/connectors")
	cmd.Env = append(os.Environ(), "PG_PASSWORD=example")
	out, err := cmd.CombinedOutput()
	// The example serves without authentication inside its container, published on loopback.
	want := "warning: rest.listen :8083 serves without authentication beyond loopback (rest.allow.unauthenticated): anyone who can reach it can use it\n" +
		"warning: sse.listen :8080 serves SSE sinks with auth.type none beyond loopback (sse.allow.unauthenticated): anyone who can reach it can read their streams\n" +
		"ok: daemon config (../../examples/sluice.json) and 1 connector(s): postgresql-source-connector\n"
	if err != nil || string(out) != want {
		t.Fatalf("validate examples: %v\n%s", err, out)
	}
}
