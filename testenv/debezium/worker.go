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
// is set. Programs that are not tests (the benchmarks) use Launch, Create,
// StopConnector and Resume, which return errors instead.
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
	"slices"
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

// TestJVM are the JVM options of a test's worker: a small heap and the
// serial collector, as the machine is shared.
var TestJVM = []string{"-Xmx512m", "-XX:+UseSerialGC"}

// Start starts a worker of distribution d writing to brokers, and stops it
// when the test ends.
func Start(t testing.TB, d Distribution, brokers []string) *Worker {
	t.Helper()
	cp, err := d.Classpath()
	if err != nil {
		if os.Getenv(testenv.EnvRequired) != "" {
			t.Fatalf("%s requires %v", testenv.EnvRequired, err)
		}
		t.Skip(err)
	}
	w, err := Launch(cp, brokers, TestJVM...)
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

// Classpath returns the recorded classpath, or an error with a hint when
// it is missing, stale or names a missing jar.
func (d Distribution) Classpath() (string, error) {
	missing := func(why string) error {
		return fmt.Errorf("Kafka Connect with %s: the jars %s: %s", d.Name, why, hint)
	}
	file := d.ClasspathFile()
	data, err := os.ReadFile(file)
	if err != nil {
		return "", missing("are not resolved (" + err.Error() + ")")
	}
	sum, err := os.ReadFile(strings.TrimSuffix(file, ".classpath") + ".pom.sha256")
	want := sha256.Sum256(d.pom)
	if err != nil || !strings.HasPrefix(string(sum), hex.EncodeToString(want[:])) {
		return "", missing("in " + file + " were resolved from another pom than testenv/debezium's")
	}
	cp := strings.TrimSpace(string(data))
	for _, jar := range filepath.SplitList(cp) {
		if _, err := os.Stat(jar); err != nil {
			return "", missing("name " + jar + ", which is missing")
		}
	}
	return cp, nil
}

// Launch starts a standalone worker with no connector on classpath
// (Distribution.Classpath), writing to brokers through JsonConverter with
// schemas, in a JVM run with the options jvm (heap, collector), and waits
// until its REST API answers. The JVM runs until Stop, and is killed if
// the process that started it ends first. The caller removes w.Dir.
func Launch(classpath string, brokers []string, jvm ...string) (*Worker, error) {
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
	args := append(slices.Clone(jvm), "-Dlog4j2.configurationFile="+log4j,
		"-cp", classpath, "org.apache.kafka.connect.cli.ConnectStandalone", workerProps)
	w.cmd = exec.Command(java, args...)
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
// waits until it and every task of it are RUNNING (Create); the connector
// is deleted when the test ends. A connector or task that FAILED fails the
// test with its trace and the end of the log.
func (w *Worker) AddConnector(t testing.TB, name string, config map[string]string) {
	t.Helper()
	t.Cleanup(func() {
		if err := w.Delete(name); err != nil {
			t.Logf("%v", err)
		}
	})
	if err := w.Create(name, config); err != nil {
		t.Fatal(err)
	}
}

// Check returns a function that fails the test when the connector name,
// or a task of it, has FAILED or the worker has exited (Failed): for a
// test to call while it waits for what the connector writes.
func (w *Worker) Check(t testing.TB, name string) func() {
	return func() {
		t.Helper()
		if err := w.Failed(name); err != nil {
			t.Fatal(err)
		}
	}
}

// Create creates the connector name with config on the worker and waits
// until it and every task of it are RUNNING (Resume). An error says why,
// with the connector's trace and the end of the log.
func (w *Worker) Create(name string, config map[string]string) error {
	body, err := json.Marshal(config)
	if err != nil {
		return err
	}
	if _, err := w.request(http.MethodPut, "/connectors/"+url.PathEscape(name)+"/config", body); err != nil {
		return fmt.Errorf("create Debezium connector %s: %v; the log %s ends:\n%s", name, err, w.LogFile, w.Tail())
	}
	return w.waitRunning(name)
}

// Delete deletes the connector name.
func (w *Worker) Delete(name string) error {
	if _, err := w.request(http.MethodDelete, "/connectors/"+url.PathEscape(name), nil); err != nil {
		return fmt.Errorf("delete Debezium connector %s: %w", name, err)
	}
	return nil
}

// StopConnector stops the connector name and its tasks, as PUT
// /connectors/{name}/stop does: its tasks commit their offsets and end,
// and its configuration stays. It returns once the connector is STOPPED.
func (w *Worker) StopConnector(name string) error {
	if _, err := w.request(http.MethodPut, "/connectors/"+url.PathEscape(name)+"/stop", nil); err != nil {
		return fmt.Errorf("stop Debezium connector %s: %w", name, err)
	}
	deadline := time.Now().Add(connectorTimeout)
	for {
		state, _, _ := w.state(name)
		if state == "STOPPED" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("Debezium connector %s is %q %s after it was asked to stop", name, state, connectorTimeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Resume starts a stopped connector again from its committed offsets (PUT
// /connectors/{name}/resume) and waits until it and its tasks are RUNNING.
func (w *Worker) Resume(name string) error {
	if _, err := w.request(http.MethodPut, "/connectors/"+url.PathEscape(name)+"/resume", nil); err != nil {
		return fmt.Errorf("resume Debezium connector %s: %w", name, err)
	}
	return w.waitRunning(name)
}

// waitRunning waits until the connector name and every task of it are
// RUNNING.
func (w *Worker) waitRunning(name string) error {
	deadline := time.Now().Add(connectorTimeout)
	for {
		state, trace, err := w.state(name)
		switch {
		case err == nil && state == "RUNNING":
			return nil
		case state == "FAILED":
			return fmt.Errorf("Debezium connector %s FAILED: %s; the log %s ends:\n%s", name, trace, w.LogFile, w.Tail())
		case time.Now().After(deadline):
			return fmt.Errorf("Debezium connector %s is %q (%v) after %s; the log %s ends:\n%s", name, state, err, connectorTimeout, w.LogFile, w.Tail())
		}
		select {
		case <-w.exited:
			return fmt.Errorf("the Kafka Connect worker exited (%v); the log %s ends:\n%s", w.err, w.LogFile, w.Tail())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Failed returns an error when the connector name, or a task of it, has
// FAILED or the worker has exited; nil otherwise.
func (w *Worker) Failed(name string) error {
	select {
	case <-w.exited:
		return fmt.Errorf("the Kafka Connect worker exited (%v); the log %s ends:\n%s", w.err, w.LogFile, w.Tail())
	default:
	}
	if state, trace, _ := w.state(name); state == "FAILED" {
		return fmt.Errorf("Debezium connector %s FAILED: %s; the log %s ends:\n%s", name, trace, w.LogFile, w.Tail())
	}
	return nil
}

// Pid is the JVM's process id, for reading its CPU time and memory.
func (w *Worker) Pid() int { return w.cmd.Process.Pid }

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
