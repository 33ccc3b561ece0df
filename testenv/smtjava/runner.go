// Package smtjava runs records through Kafka Connect's and Debezium's own
// Java transforms (connect-transforms 4.4.0, Debezium 3.6.1.Final), so
// that tests can compare sluice's transforms with them on the same input.
//
// testenv/install.sh (run by `make deps`) resolves the jars pom.xml names
// and compiles SmtRunner.java against them into Dir. Run starts that
// runner, one JVM per test binary, and hands it cases over a pipe, each a
// connector configuration's transforms.* and predicates.* keys and one
// record in the JSON form Encode writes. When the runner is not built, or
// was built from other sources than these, Run skips the test with a hint,
// or fails it when SLUICE_TESTENV_REQUIRED is set.
package smtjava

import (
	"bufio"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sluice-cdc/sluice/schema/record"
	"github.com/sluice-cdc/sluice/testenv"
)

// The runner's sources; install.sh records the sha256 of the two, in this
// order, beside what it built from them.
var (
	//go:embed pom.xml
	pom []byte
	//go:embed SmtRunner.java
	runnerSource []byte
)

// EnvJavaHome names the JDK that runs the runner, as for testenv/up.sh;
// when unset, java is looked up on PATH.
const EnvJavaHome = "SLUICE_TESTENV_JAVA_HOME"

const hint = "run `make deps` (testenv/install.sh builds the Java transforms runner from testenv/smtjava)"

// Dir is where testenv/install.sh builds the runner: smtjava in
// testenv.CacheDir. It holds classpath (the jars), classes (SmtRunner
// compiled) and source.sha256.
func Dir() string { return filepath.Join(testenv.CacheDir(), "smtjava") }

// Case is one record through the transforms that Config's transforms.*
// and predicates.* keys describe, written as in a connector configuration.
type Case struct {
	Config map[string]string
	Record *record.Record
}

// Result is what the Java transforms made of a Case: the record out (nil
// when a transform dropped it), or the exception thrown ("class: message")
// and in which phase: "configure" (a transform or predicate), "read"
// (JsonConverter could not read the case's record), "apply" (a transform)
// or "write" (JsonConverter refused the record out, as a worker's
// converter would).
type Result struct {
	Record *record.Record
	Err    string
	Phase  string
}

// runner is the one JVM of the test binary, shared by every Run. It ends
// when the test binary does: its stdin closes, and it exits.
var runner struct {
	once   sync.Once
	mu     sync.Mutex // one Run at a time
	err    error
	in     io.Writer
	out    *bufio.Reader
	stderr tail
}

// Run applies each case's transforms in the Java runner and returns the
// results in the order of cases. It may be called from parallel tests.
func Run(t testing.TB, cases []Case) []Result {
	t.Helper()
	classpath := built(t)
	lines := make([][]byte, len(cases))
	for i, c := range cases {
		rec, err := Encode(c.Record)
		if err != nil {
			t.Fatalf("case %d: encode the record: %v", i, err)
		}
		line, err := json.Marshal(map[string]any{"config": c.Config, "record": json.RawMessage(rec)})
		if err != nil {
			t.Fatal(err)
		}
		lines[i] = append(line, '\n')
	}
	runner.mu.Lock()
	defer runner.mu.Unlock()
	runner.once.Do(func() {
		if err := start(classpath); err != nil {
			runner.err = fmt.Errorf("start: %w", err)
		}
	})
	if runner.err != nil {
		t.Fatalf("the Java transforms runner: %v", runner.err)
	}
	written := make(chan error, 1)
	go func() {
		var err error
		for _, l := range lines {
			if _, err = runner.in.Write(l); err != nil {
				break
			}
		}
		written <- err
	}()
	results := make([]Result, len(cases))
	for i := range cases {
		line, err := runner.out.ReadBytes('\n')
		if err != nil {
			runner.err = fmt.Errorf("stopped: %w", err)
			t.Fatalf("the Java transforms runner stopped at case %d: %v; its stderr ends:\n%s", i, err, runner.stderr.String())
		}
		var answer struct {
			Record json.RawMessage `json:"record"`
			Error  string          `json:"error"`
			Phase  string          `json:"phase"`
		}
		if err := json.Unmarshal(line, &answer); err != nil {
			t.Fatalf("case %d: the runner's answer %s: %v", i, line, err)
		}
		results[i] = Result{Err: answer.Error, Phase: answer.Phase}
		if answer.Error == "" && string(answer.Record) != "null" {
			if results[i].Record, err = Decode(answer.Record); err != nil {
				t.Fatalf("case %d: decode the Java record %s: %v", i, answer.Record, err)
			}
		}
	}
	if err := <-written; err != nil {
		t.Fatalf("write to the Java transforms runner: %v", err)
	}
	return results
}

// built returns the runner's classpath, or skips (fails, when required)
// the test when the runner is missing or was built from other sources.
func built(t testing.TB) string {
	t.Helper()
	dir := Dir()
	missing := func(why string) {
		t.Helper()
		if os.Getenv(testenv.EnvRequired) != "" {
			t.Fatalf("%s requires the Java transforms runner, which %s: %s", testenv.EnvRequired, why, hint)
		}
		t.Skipf("the Java transforms runner %s: %s", why, hint)
	}
	deps, err := os.ReadFile(filepath.Join(dir, "classpath"))
	if err != nil {
		missing("is not built (" + err.Error() + ")")
	}
	sum, err := os.ReadFile(filepath.Join(dir, "source.sha256"))
	want := sha256.Sum256(append(append([]byte(nil), pom...), runnerSource...))
	if err != nil || !strings.HasPrefix(string(sum), hex.EncodeToString(want[:])) {
		missing("in " + dir + " was built from other sources than testenv/smtjava's")
	}
	return filepath.Join(dir, "classes") + string(os.PathListSeparator) + strings.TrimSpace(string(deps))
}

func start(classpath string) error {
	java := "java"
	if h := os.Getenv(EnvJavaHome); h != "" {
		java = filepath.Join(h, "bin", "java")
	}
	// A short-lived JVM: the first compiler tier and the serial collector
	// start fastest and take the least of a shared machine.
	cmd := exec.Command(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", classpath, "SmtRunner")
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = &runner.stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", java, err)
	}
	runner.in, runner.out = in, bufio.NewReader(out)
	return nil
}

// tail keeps the last few kilobytes written to it, for error messages.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (w *tail) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if over := len(w.buf) - 8<<10; over > 0 {
		w.buf = w.buf[over:]
	}
	return len(p), nil
}

func (w *tail) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}
