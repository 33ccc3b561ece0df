package sourcetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/kafka"
	"github.com/sluice-cdc/sluice/schema/registry"
)

// childEnv names the environment variable that makes a test binary calling
// Main run a source as a child process instead of its tests: its value is
// the path of the child's spec, a childSpec in JSON.
const childEnv = "SLUICE_SOURCETEST_CHILD"

// mainCalled records that the test binary's TestMain calls Main, without
// which it cannot be its own child.
var mainCalled bool

// Main runs the tests of a package that starts children (a driver's
// package, or a connector's tests calling StartChild); its TestMain must
// call it. Started as a child process (see childEnv), the test binary
// instead runs one source into Kafka until SIGTERM or SIGKILL: the child
// then knows exactly the source classes the test's package registers.
func Main(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		if err := runChild(spec); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	mainCalled = true
	code := m.Run()
	if plain.dir != "" {
		os.RemoveAll(plain.dir)
	}
	os.Exit(code)
}

// childSpec is what a child process runs.
type childSpec struct {
	Config   map[string]string // the connector configuration, connector.class included
	Brokers  []string
	Registry string // the schema registry's URL
	State    string // the state directory; offsets.json holds the offsets
}

// runChild runs the source of the spec in the file at path, retrying
// transient failures as the daemon's supervisor does, until SIGTERM. It
// prints "running" on standard output when the source reports Running.
func runChild(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var spec childSpec
	if err := json.Unmarshal(b, &spec); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	class, ok := connectors.Lookup(spec.Config["connector.class"])
	if !ok || class.Kind != connectors.KindSource || class.Output == nil {
		return fmt.Errorf("connector.class %q is no source class of this binary", spec.Config["connector.class"])
	}
	cfg, err := class.Spec.Parse(spec.Config)
	if err != nil {
		return err
	}
	reg, err := registry.New(spec.Registry)
	if err != nil {
		return err
	}
	client, err := kgo.NewClient(append(kafka.SourceClientOpts(cfg), kgo.SeedBrokers(spec.Brokers...))...)
	if err != nil {
		return err
	}
	defer client.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var once sync.Once
	env := connectors.Env{Name: "child", Version: "test", Logger: logger, StateDir: spec.State,
		Offsets: &fileOffsets{path: filepath.Join(spec.State, "offsets.json")},
		Running: func() { once.Do(func() { fmt.Println("running") }) }}
	// Right after a SIGKILL the database may still hold the dead
	// process's session (its slot, its binlog connection): retry.
	for {
		src, err := class.NewSource(cfg, env)
		if err != nil {
			return err
		}
		err = src.Run(ctx, kafka.NewSourceWriter(client, reg, class, cfg, kafka.WithLogger(logger)))
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, connectors.ErrPermanent) {
			return err
		}
		logger.Warn("source failed; retrying", "error", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// fileOffsets keeps offsets in one JSON file, replaced atomically.
type fileOffsets struct {
	mu   sync.Mutex
	path string
}

var _ connectors.OffsetStore = (*fileOffsets)(nil)

func (f *fileOffsets) Load(_ context.Context, key string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.read()
	return m[key], err
}

func (f *fileOffsets) Save(_ context.Context, key string, v []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.read()
	if err != nil {
		return err
	}
	m[key] = v
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	tmp := f.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, f.path)
}

func (f *fileOffsets) read() (map[string]json.RawMessage, error) {
	m := map[string]json.RawMessage{}
	b, err := os.ReadFile(f.path)
	if os.IsNotExist(err) {
		return m, nil
	}
	if err != nil {
		return nil, err
	}
	return m, json.Unmarshal(b, &m)
}

// Child is a source running in a child process: the test binary itself,
// through Main.
type Child struct {
	cmd    *exec.Cmd
	output *Log
	done   chan struct{}
	err    error // Wait's, once done is closed
}

// Log collects the output of a source (a child's, or one given WithLog)
// while the test reads it. Safe for concurrent use.
type Log struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Log) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Log) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// StartChild runs the source configured by raw (its class named by
// connector.class) into the target's Kafka in a child process: the test
// binary itself, whose TestMain must call Main, so the child knows the
// classes the test's package registers. state is its state directory, and
// its offsets are kept there in offsets.json: a child started again on
// the same state resumes. The child retries transient failures as the
// daemon's supervisor does; it is killed at the end of the test, and its
// output is logged then when the test failed.
func (k Target) StartChild(t testing.TB, raw map[string]string, state string, opts ...ChildOption) *Child {
	t.Helper()
	if !mainCalled {
		t.Fatal("the test package must run its tests through sourcetest.Main (func TestMain(m *testing.M) { sourcetest.Main(m) })")
	}
	var o childOptions
	for _, opt := range opts {
		opt(&o)
	}
	bin := os.Args[0]
	if o.withoutRace && raceEnabled {
		bin = plainBinary(t)
	}
	b, err := json.Marshal(childSpec{Config: raw, Brokers: k.Brokers, Registry: k.RegistryURL, State: state})
	if err != nil {
		t.Fatal(err)
	}
	spec := filepath.Join(state, "child.json")
	if err := os.WriteFile(spec, b, 0o600); err != nil {
		t.Fatal(err)
	}
	c := &Child{output: &Log{}, done: make(chan struct{})}
	c.cmd = exec.Command(bin, "-test.run=^$")
	c.cmd.Env = append(os.Environ(), childEnv+"="+spec)
	c.cmd.Stdout, c.cmd.Stderr = c.output, c.output
	started := time.Now()
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start the child: %v", err)
	}
	go func() { c.err = c.cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		c.Kill()
		if t.Failed() {
			t.Logf("output of the child started at %s:\n%s", started.Format("15:04:05.000"), c.output.String())
		}
	})
	return c
}

// ChildOption changes how StartChild runs its child.
type ChildOption func(*childOptions)

type childOptions struct {
	withoutRace bool
}

// WithoutRace runs the child from a build of the test's package without
// the race detector when this test binary has it, so that what a test
// measures of the child, such as its memory, is the source's as the daemon
// runs it. The package is the one in the working directory, where go test
// runs its tests; it is built once per test binary, with go test -c.
func WithoutRace() ChildOption {
	return func(o *childOptions) { o.withoutRace = true }
}

// plain is the build of the test's package without the race detector,
// made by plainBinary and removed by Main.
var plain struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// plainBinary builds the test's package without the race detector, once,
// and returns the test binary's path.
func plainBinary(t testing.TB) string {
	t.Helper()
	plain.once.Do(func() {
		plain.dir, plain.err = os.MkdirTemp("", "sluice-child")
		if plain.err != nil {
			return
		}
		plain.bin = filepath.Join(plain.dir, "child.test")
		out, err := exec.Command("go", "test", "-c", "-race=false", "-o", plain.bin, ".").CombinedOutput()
		if err != nil {
			plain.err = fmt.Errorf("build the child without the race detector: %v\n%s", err, out)
		}
	})
	if plain.err != nil {
		t.Fatal(plain.err)
	}
	return plain.bin
}

// Kill ends the child with SIGKILL — no drain, no last acknowledgement —
// and waits for it to exit. Killing it again does nothing.
func (c *Child) Kill() {
	c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

// Alive fails the test when the child has exited.
func (c *Child) Alive(t testing.TB) {
	t.Helper()
	select {
	case <-c.done:
		t.Fatalf("the child exited (%v): %s", c.err, c.output.String())
	default:
	}
}

// Stop ends the child with SIGTERM, so that its source drains and stores
// its last position, and waits up to timeout for it to exit; it fails the
// test when the child still runs then or exits with an error.
func (c *Child) Stop(t testing.TB, timeout time.Duration) {
	t.Helper()
	c.cmd.Process.Signal(syscall.SIGTERM)
	if err := c.Wait(t, timeout); err != nil {
		t.Fatalf("the child stopped with %v: %s", err, c.output.String())
	}
}

// Wait waits up to timeout for the child to exit on its own, as it does
// when its source fails for good, and returns how it exited; it fails the
// test when the child still runs then.
func (c *Child) Wait(t testing.TB, timeout time.Duration) error {
	t.Helper()
	select {
	case <-c.done:
		return c.err
	case <-time.After(timeout):
		t.Fatalf("the child still runs after %s: %s", timeout, c.output.String())
		return nil
	}
}

// Pid is the child's process id, for reading its /proc entries.
func (c *Child) Pid() int { return c.cmd.Process.Pid }

// Output is what the child wrote to standard output and standard error so
// far: "running" once the source reported Running, and its warnings.
func (c *Child) Output() string { return c.output.String() }
