// Package daemon builds the sluice binary as the release does and runs it as
// `sluice run` with one connector, the way a user does, for benchmarks that
// measure a connector inside the real daemon: it follows the daemon's JSON
// logs, waits for messages, reads /metrics and the process's memory, and
// stops it.
package daemon

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sluice-cdc/sluice/internal/procstat"
)

// Build builds cmd/sluice into dir as the release build does (static,
// -trimpath, stripped) and returns the binary's path.
func Build(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "sluice")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "github.com/sluice-cdc/sluice/cmd/sluice")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the sluice binary: %v\n%s", err, out)
	}
	return bin, nil
}

// keptLines is how many of the last log lines a Daemon keeps for errors.
const keptLines = 50

// Daemon is a running `sluice run` with one connector. Its methods may be
// called from any goroutine.
type Daemon struct {
	name    string
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error // set before exited is closed

	mu   sync.Mutex
	rest string                   // the REST API's address, once logged
	logs []string                 // the last keptLines log lines
	errl string                   // the first line logged at level ERROR
	seen map[string]chan struct{} // closed when the message is logged
}

// Start runs bin as `sluice run` with a daemon config on the external Kafka
// (brokers, comma-separated) and Schema Registry (registryURL) and one
// connector file holding connector, a Kafka Connect style {"name",
// "config"} object. The config, the connector file and the daemon's state
// go under dir, which is created. The REST API listens on a free port of
// 127.0.0.1; logs are JSON on stderr, read by the Daemon. wait lists the
// log messages WaitFor can wait for.
func Start(bin, dir, brokers, registryURL string, connector map[string]any, wait ...string) (*Daemon, error) {
	name, _ := connector["name"].(string)
	conns := filepath.Join(dir, "connectors")
	if err := os.MkdirAll(conns, 0o700); err != nil {
		return nil, fmt.Errorf("create the directory of the %s daemon: %w", name, err)
	}
	cfg, err := json.Marshal(map[string]any{
		"state.dir": filepath.Join(dir, "state"), "rest": map[string]any{"listen": "127.0.0.1:0"},
		"kafka": map[string]any{"bootstrap.servers": brokers}, "schema.registry": map[string]any{"url": registryURL},
		"log": map[string]any{"format": "json"}, "shutdown.timeout.ms": 10000,
	})
	if err != nil {
		return nil, fmt.Errorf("encode the config of the %s daemon: %w", name, err)
	}
	conn, err := json.Marshal(connector)
	if err != nil {
		return nil, fmt.Errorf("encode connector %s: %w", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sluice.json"), cfg, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(conns, name+".json"), conn, 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "run", "--config", filepath.Join(dir, "sluice.json"), "--connectors-dir", conns)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the sluice daemon of %s: %w", name, err)
	}
	d := &Daemon{name: name, cmd: cmd, exited: make(chan struct{}), seen: map[string]chan struct{}{}}
	for _, msg := range wait {
		d.seen[msg] = make(chan struct{})
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			d.line(sc.Text())
		}
		d.waitErr = cmd.Wait()
		close(d.exited)
	}()
	return d, nil
}

// Name is the connector's name.
func (d *Daemon) Name() string { return d.name }

// Pid is the daemon's process id.
func (d *Daemon) Pid() int { return d.cmd.Process.Pid }

// line keeps a log line and signals the messages waited for.
func (d *Daemon) line(l string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.logs = append(d.logs, l)
	if len(d.logs) > keptLines {
		d.logs = d.logs[1:]
	}
	if d.errl == "" && strings.Contains(l, `"level":"ERROR"`) {
		d.errl = l
	}
	var m struct {
		Msg  string `json:"msg"`
		Addr string `json:"addr"`
	}
	if json.Unmarshal([]byte(l), &m) != nil {
		return
	}
	if m.Msg == "REST API listening" {
		d.rest = m.Addr
	}
	if ch, ok := d.seen[m.Msg]; ok {
		select {
		case <-ch:
		default:
			close(ch)
		}
	}
}

// WaitFor blocks until the daemon logs msg (one of Start's wait list),
// exits, timeout passes or ctx ends.
func (d *Daemon) WaitFor(ctx context.Context, msg string, timeout time.Duration) error {
	d.mu.Lock()
	ch, ok := d.seen[msg]
	d.mu.Unlock()
	if !ok {
		return fmt.Errorf("the %s daemon was not started to wait for %q", d.name, msg)
	}
	select {
	case <-ch:
		return nil
	case <-d.exited:
		return fmt.Errorf("the %s daemon exited (%v) before logging %q; its last logs:\n%s", d.name, d.waitErr, msg, d.tail())
	case <-time.After(timeout):
		return fmt.Errorf("the %s daemon did not log %q within %v; its last logs:\n%s", d.name, msg, timeout, d.tail())
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d *Daemon) tail() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return strings.Join(d.logs, "\n")
}

// Failed returns an error once the daemon exited or logged at level ERROR,
// and nil before.
func (d *Daemon) Failed() error {
	select {
	case <-d.exited:
		return fmt.Errorf("the %s daemon exited: %v; its last logs:\n%s", d.name, d.waitErr, d.tail())
	default:
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.errl != "" {
		return fmt.Errorf("the %s daemon logged an error: %s", d.name, d.errl)
	}
	return nil
}

// Metric returns the sum of the samples of a Prometheus series (name with
// its suffix, such as _sum or _count) on the daemon's /metrics.
func (d *Daemon) Metric(ctx context.Context, name string) (float64, error) {
	d.mu.Lock()
	addr := d.rest
	d.mu.Unlock()
	if addr == "" {
		return 0, fmt.Errorf("the %s daemon has not logged its REST address", d.name)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("metrics of the %s daemon: %w", d.name, err)
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		series, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || (series != name && !strings.HasPrefix(series, name+"{")) {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return 0, fmt.Errorf("metric %s of the %s daemon: %w", series, d.name, err)
		}
		sum += v
	}
	return sum, sc.Err()
}

// PeakRSS returns the daemon's peak resident set size (VmHWM) in bytes.
func (d *Daemon) PeakRSS() (int64, error) {
	_, hwm, err := procstat.Memory(d.Pid())
	if err != nil {
		return 0, fmt.Errorf("read the memory of the %s daemon: %w", d.name, err)
	}
	return hwm, nil
}

// CPU returns the user+system CPU time the daemon has used.
func (d *Daemon) CPU() (time.Duration, error) {
	t, err := procstat.CPU(d.Pid())
	if err != nil {
		return 0, fmt.Errorf("read the CPU time of the %s daemon: %w", d.name, err)
	}
	return t, nil
}

// Stop sends SIGINT, waits up to 20 s (then SIGKILL) and returns the exit
// error. Stopping a daemon that has exited returns how it exited.
func (d *Daemon) Stop() error {
	select {
	case <-d.exited:
		return d.waitErr
	default:
	}
	_ = d.cmd.Process.Signal(os.Interrupt)
	select {
	case <-d.exited:
	case <-time.After(20 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.exited
		return errors.New("the " + d.name + " daemon did not stop within 20 s of SIGINT")
	}
	return d.waitErr
}
