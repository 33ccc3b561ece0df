package main

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

	"github.com/sluice-cdc/sluice/bench/internal/procstat"
)

// buildSluice builds cmd/sluice into dir as the release build does (static,
// -trimpath, stripped) and returns the binary's path.
func buildSluice(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "sluice")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "github.com/sluice-cdc/sluice/cmd/sluice")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the sluice binary: %v\n%s", err, out)
	}
	return bin, nil
}

// daemon is a running `sluice run` with one connector.
type daemon struct {
	name    string
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error

	mu   sync.Mutex
	rest string                   // the REST API's address, once logged
	logs []string                 // the last log lines, for errors
	errl string                   // the first line logged at level ERROR
	seen map[string]chan struct{} // closed when the message is logged
}

// startDaemon runs the binary with a daemon config on the external Kafka
// and registry and one connector file holding connector, a Kafka Connect
// style {"name", "config"} object. State goes under dir. wait lists the log
// messages that waitFor can wait for.
func startDaemon(bin, dir, brokers, registryURL string, connector map[string]any, wait ...string) (*daemon, error) {
	name, _ := connector["name"].(string)
	conns := filepath.Join(dir, "connectors")
	if err := os.MkdirAll(conns, 0o700); err != nil {
		return nil, err
	}
	cfg, _ := json.Marshal(map[string]any{
		"state.dir": filepath.Join(dir, "state"), "rest": map[string]any{"listen": "127.0.0.1:0"},
		"kafka": map[string]any{"bootstrap.servers": brokers}, "schema.registry": map[string]any{"url": registryURL},
		"log": map[string]any{"format": "json"}, "shutdown.timeout.ms": 10000,
	})
	conn, _ := json.Marshal(connector)
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
	d := &daemon{name: name, cmd: cmd, exited: make(chan struct{}), seen: map[string]chan struct{}{}}
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

// line keeps a log line and signals the messages waited for.
func (d *daemon) line(l string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.logs = append(d.logs, l)
	if d.errl == "" && strings.Contains(l, `"level":"ERROR"`) {
		d.errl = l
	}
	if len(d.logs) > 50 {
		d.logs = d.logs[1:]
	}
	var m struct {
		Msg  string `json:"msg"`
		Addr string `json:"addr"`
	}
	if json.Unmarshal([]byte(l), &m) == nil {
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
}

// waitFor waits until the daemon logs msg (one of startDaemon's wait
// list), exits, or timeout passes.
func (d *daemon) waitFor(ctx context.Context, msg string, timeout time.Duration) error {
	d.mu.Lock()
	ch, ok := d.seen[msg]
	d.mu.Unlock()
	if !ok {
		return fmt.Errorf("the %s daemon was not started to wait for %q", d.name, msg)
	}
	what := strconv.Quote(msg)
	select {
	case <-ch:
		return nil
	case <-d.exited:
		return fmt.Errorf("the %s daemon exited (%v) before %s; its last logs:\n%s", d.name, d.waitErr, what, d.tail())
	case <-time.After(timeout):
		return fmt.Errorf("the %s daemon did not report %s within %v; its last logs:\n%s", d.name, what, timeout, d.tail())
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d *daemon) tail() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return strings.Join(d.logs, "\n")
}

// failed returns an error when the daemon exited or logged a connector
// failure.
func (d *daemon) failed() error {
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

// metric returns the sum of the samples of a Prometheus series (name with
// its suffix, such as _sum or _count) on the daemon's /metrics.
func (d *daemon) metric(ctx context.Context, name string) (float64, error) {
	d.mu.Lock()
	addr := d.rest
	d.mu.Unlock()
	if addr == "" {
		return 0, fmt.Errorf("the %s daemon has not logged its REST address", d.name)
	}
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/metrics", nil)
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

// peakRSS returns the daemon's VmHWM in bytes.
func (d *daemon) peakRSS() (int64, error) {
	_, hwm, err := procstat.Memory(d.cmd.Process.Pid)
	if err != nil {
		return 0, fmt.Errorf("read the memory of the %s daemon: %w", d.name, err)
	}
	return hwm, nil
}

// stop sends SIGTERM, waits up to 20 s (then SIGKILL) and returns the exit
// error.
func (d *daemon) stop() error {
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
