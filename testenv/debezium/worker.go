// Package debezium runs Debezium's own connectors on a Kafka Connect 4.3.0
// standalone worker writing to the test Kafka, for tests that compare what
// sluice writes with what Debezium writes: Debezium 3.6.1.Final's Postgres
// and MySQL connectors (Current), and its MariaDB connector 3.5.0.Final
// (MariaDB), the last published to Maven Central, which needs a core and
// so a worker of its own.
//
// testenv/install.sh (run by `make deps`) resolves the jars pom.xml and
// mariadb/pom.xml name and records their classpaths in the testenv cache.
// Start starts a worker for one test — ConnectStandalone with
// JsonConverter (schemas.enable=true) for keys and values, offsets in a
// file of its own directory, its REST API on a free port of 127.0.0.1, at
// most 512 MB of heap — and AddConnector runs a connector on it until the
// test ends. When the jars are missing, or were resolved from another pom,
// the test is skipped with a hint, or fails when SLUICE_TESTENV_REQUIRED
// is set.
package debezium

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/testenv"
)

var (
	//go:embed pom.xml
	currentPom []byte
	//go:embed mariadb/pom.xml
	mariaDBPom []byte
	//go:embed log4j2.properties
	log4jConfig []byte
)

// Distribution is a set of Debezium connectors with the Kafka Connect
// runtime they run on, as one pom.xml of this package resolves them.
type Distribution struct {
	// Name names the classpath install.sh records: <Name>.classpath in
	// testenv.CacheDir, beside <Name>.pom.sha256, the sha256 of the pom
	// it was resolved from.
	Name string
	pom  []byte
}

// The distributions.
var (
	// Current is Debezium 3.6.1.Final's Postgres and MySQL connectors (pom.xml).
	Current = Distribution{Name: "debezium", pom: currentPom}
	// MariaDB is Debezium's MariaDB connector 3.5.0.Final (mariadb/pom.xml).
	MariaDB = Distribution{Name: "debezium-mariadb", pom: mariaDBPom}
)

// ClasspathFile is where testenv/install.sh records the distribution's jars.
func (d Distribution) ClasspathFile() string {
	return filepath.Join(testenv.CacheDir(), d.Name+".classpath")
}

// EnvJavaHome names the JDK that runs the worker, as for testenv/up.sh;
// when unset, java is looked up on PATH.
const EnvJavaHome = "SLUICE_TESTENV_JAVA_HOME"

const hint = "run `make deps` (testenv/install.sh resolves Kafka Connect and Debezium from testenv/debezium's pom.xml files)"

// How long the worker may take to serve its REST API, and a connector to
// run with all its tasks.
const (
	startTimeout     = 3 * time.Minute
	connectorTimeout = 3 * time.Minute
	stopTimeout      = 30 * time.Second
)

// Worker is a Kafka Connect standalone worker.
type Worker struct {
	// Dir holds the worker's properties, offsets and log, and whatever
	// files its connectors keep (a MySQL connector's schema history).
	Dir string
	// URL is the base URL of the worker's REST API.
	URL string
	// LogFile is the worker's log: Kafka Connect's, Debezium's and the JVM's output.
	LogFile string

	cmd    *exec.Cmd
	exited chan struct{}
	err    error // how the JVM ended, once exited is closed
}

// Start starts a worker of distribution d writing to brokers, and stops it
// when the test ends.
func Start(t testing.TB, d Distribution, brokers []string) *Worker {
	t.Helper()
	w, err := start(d.classpath(t), brokers)
	if err != nil {
		t.Fatalf("start Kafka Connect with %s: %v", d.Name, err)
	}
	t.Cleanup(func() {
		if err := w.Stop(); err != nil {
			t.Errorf("stop Kafka Connect: %v; its log is %s", err, w.LogFile)
			return
		}
		if !t.Failed() {
			os.RemoveAll(w.Dir)
		} else {
			t.Logf("Kafka Connect's log is %s", w.LogFile)
		}
	})
	return w
}

// classpath returns the recorded classpath, or skips (fails, when
// required) the test when it is missing, stale or names a missing jar.
func (d Distribution) classpath(t testing.TB) string {
	t.Helper()
	missing := func(why string) {
		t.Helper()
		if os.Getenv(testenv.EnvRequired) != "" {
			t.Fatalf("%s requires Kafka Connect with %s, whose jars %s: %s", testenv.EnvRequired, d.Name, why, hint)
		}
		t.Skipf("Kafka Connect with %s: the jars %s: %s", d.Name, why, hint)
	}
	file := d.ClasspathFile()
	data, err := os.ReadFile(file)
	if err != nil {
		missing("are not resolved (" + err.Error() + ")")
	}
	sum, err := os.ReadFile(strings.TrimSuffix(file, ".classpath") + ".pom.sha256")
	want := sha256.Sum256(d.pom)
	if err != nil || !strings.HasPrefix(string(sum), hex.EncodeToString(want[:])) {
		missing("in " + file + " were resolved from another pom than testenv/debezium's")
	}
	cp := strings.TrimSpace(string(data))
	for _, jar := range filepath.SplitList(cp) {
		if _, err := os.Stat(jar); err != nil {
			missing("name " + jar + ", which is missing")
		}
	}
	return cp
}

// start starts a standalone worker with no connector, writing to brokers
// through JsonConverter with schemas, and waits until its REST API
// answers. The JVM runs until Stop (or the end of the process that started
// it).
func start(classpath string, brokers []string) (*Worker, error) {
	dir, err := os.MkdirTemp("", "sluice-debezium-")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	w := &Worker{Dir: dir, URL: "http://127.0.0.1:" + strconv.Itoa(port), LogFile: filepath.Join(dir, "connect.log"), exited: make(chan struct{})}
	props := map[string]string{
		"bootstrap.servers":              strings.Join(brokers, ","),
		"key.converter":                  "org.apache.kafka.connect.json.JsonConverter",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"key.converter.schemas.enable":   "true",
		"value.converter.schemas.enable": "true",
		"offset.storage.file.filename":   filepath.Join(dir, "offsets.dat"),
		"offset.flush.interval.ms":       "1000",
		"listeners":                      w.URL,
		"plugin.discovery":               "service_load",
	}
	workerProps := filepath.Join(dir, "worker.properties")
	log4j := filepath.Join(dir, "log4j2.properties")
	if err := os.WriteFile(workerProps, properties(props), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(log4j, log4jConfig, 0o600); err != nil {
		return nil, err
	}
	logFile, err := os.Create(w.LogFile)
	if err != nil {
		return nil, err
	}
	java := "java"
	if h := os.Getenv(EnvJavaHome); h != "" {
		java = filepath.Join(h, "bin", "java")
	}
	// A small heap and the serial collector: the machine is shared.
	w.cmd = exec.Command(java, "-Xmx512m", "-XX:+UseSerialGC", "-Dlog4j2.configurationFile="+log4j,
		"-cp", classpath, "org.apache.kafka.connect.cli.ConnectStandalone", workerProps)
	w.cmd.Dir = dir
	w.cmd.Stdout, w.cmd.Stderr = logFile, logFile
	// The JVM must not outlive the test binary, even one that is killed.
	w.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := w.cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("%s: %w (set %s to a JDK)", java, err, EnvJavaHome)
	}
	go func() {
		w.err = w.cmd.Wait()
		logFile.Close()
		close(w.exited)
	}()
	deadline := time.Now().Add(startTimeout)
	for {
		if _, err := w.request(http.MethodGet, "/", nil); err == nil {
			return w, nil
		} else if time.Now().After(deadline) {
			w.Stop()
			return nil, fmt.Errorf("the REST API at %s did not answer within %s: %v; the log %s ends:\n%s", w.URL, startTimeout, err, w.LogFile, w.Tail())
		}
		select {
		case <-w.exited:
			return nil, fmt.Errorf("the worker exited (%v) before serving its REST API; the log %s ends:\n%s", w.err, w.LogFile, w.Tail())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// properties renders a Java properties file, keys sorted.
func properties(m map[string]string) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	r := strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, r.Replace(m[k]))
	}
	return b.Bytes()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// AddConnector creates the connector name with config on the worker and
// waits until it and every task of it are RUNNING; the connector is
// deleted when the test ends. A connector or task that FAILED fails the
// test with its trace and the end of the log.
func (w *Worker) AddConnector(t testing.TB, name string, config map[string]string) {
	t.Helper()
	body, err := json.Marshal(config)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.request(http.MethodPut, "/connectors/"+url.PathEscape(name)+"/config", body); err != nil {
		t.Fatalf("create Debezium connector %s: %v; the log %s ends:\n%s", name, err, w.LogFile, w.Tail())
	}
	t.Cleanup(func() {
		if _, err := w.request(http.MethodDelete, "/connectors/"+url.PathEscape(name), nil); err != nil {
			t.Logf("delete Debezium connector %s: %v", name, err)
		}
	})
	deadline := time.Now().Add(connectorTimeout)
	for {
		state, trace, err := w.state(name)
		switch {
		case err == nil && state == "RUNNING":
			return
		case state == "FAILED":
			t.Fatalf("Debezium connector %s FAILED: %s; the log %s ends:\n%s", name, trace, w.LogFile, w.Tail())
		case time.Now().After(deadline):
			t.Fatalf("Debezium connector %s is %q (%v) after %s; the log %s ends:\n%s", name, state, err, connectorTimeout, w.LogFile, w.Tail())
		}
		select {
		case <-w.exited:
			t.Fatalf("the Kafka Connect worker exited (%v); the log %s ends:\n%s", w.err, w.LogFile, w.Tail())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Check returns a function that fails the test when the connector name,
// or a task of it, has FAILED or the worker has exited: for a test to call
// while it waits for what the connector writes.
func (w *Worker) Check(t testing.TB, name string) func() {
	return func() {
		t.Helper()
		select {
		case <-w.exited:
			t.Fatalf("the Kafka Connect worker exited (%v); the log %s ends:\n%s", w.err, w.LogFile, w.Tail())
		default:
		}
		if state, trace, _ := w.state(name); state == "FAILED" {
			t.Fatalf("Debezium connector %s FAILED: %s; the log %s ends:\n%s", name, trace, w.LogFile, w.Tail())
		}
	}
}

// state is the connector's state: RUNNING only when the connector and all
// of at least one task run, FAILED (with its trace) when any has failed.
func (w *Worker) state(name string) (string, string, error) {
	body, err := w.request(http.MethodGet, "/connectors/"+url.PathEscape(name)+"/status", nil)
	if err != nil {
		return "", "", err
	}
	type status struct {
		State string `json:"state"`
		Trace string `json:"trace"`
	}
	var st struct {
		Connector status   `json:"connector"`
		Tasks     []status `json:"tasks"`
	}
	if err := json.Unmarshal(body, &st); err != nil {
		return "", "", fmt.Errorf("status %s: %w", body, err)
	}
	if st.Connector.State == "FAILED" {
		return "FAILED", st.Connector.Trace, nil
	}
	for _, task := range st.Tasks {
		if task.State == "FAILED" {
			return "FAILED", task.Trace, nil
		}
		if task.State != "RUNNING" {
			return task.State, "", errors.New("a task is not running yet")
		}
	}
	if len(st.Tasks) == 0 {
		return st.Connector.State, "", errors.New("no task yet")
	}
	return st.Connector.State, "", nil
}

// request calls the REST API and returns the body of a 2xx answer.
func (w *Worker) request(method, path string, body []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, w.URL+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(out))
	}
	return out, nil
}

// Tail returns the last lines of the log.
func (w *Worker) Tail() string {
	data, err := os.ReadFile(w.LogFile)
	if err != nil {
		return err.Error()
	}
	if len(data) > 6<<10 {
		data = data[len(data)-6<<10:]
	}
	return string(data)
}

// Stop stops the worker as its stop script does (SIGTERM), killing it
// when it has not exited after 30 seconds.
func (w *Worker) Stop() error {
	select {
	case <-w.exited:
		return nil
	default:
	}
	w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.exited:
		return nil
	case <-time.After(stopTimeout):
		w.cmd.Process.Kill()
		<-w.exited
		return fmt.Errorf("Kafka Connect did not stop within %s of SIGTERM and was killed", stopTimeout)
	}
}
