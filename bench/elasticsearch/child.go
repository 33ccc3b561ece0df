package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/elasticsearch"
	"github.com/sluice-cdc/sluice/connectors/metrics"
	"github.com/sluice-cdc/sluice/internal/procstat"
	"github.com/sluice-cdc/sluice/schema/registry"
)

// readyLine is what the sink child prints right before it runs the sink.
const readyLine = "sink-ready"

// childOptions are the flags of the sink role.
type childOptions struct {
	configFile  string
	registryURL string
	name        string
	brokers     []string
}

// runSink is the sink child process: it runs the configured sink until ctx
// ends (the driver sends SIGTERM).
func runSink(ctx context.Context, c childOptions) error {
	raw, err := os.ReadFile(c.configFile)
	if err != nil {
		return fmt.Errorf("read sink configuration: %w", err)
	}
	var kv map[string]string
	if err := json.Unmarshal(raw, &kv); err != nil {
		return fmt.Errorf("parse sink configuration %s: %w", c.configFile, err)
	}
	parsed, err := elasticsearch.Spec.Parse(kv)
	if err != nil {
		return fmt.Errorf("validate sink configuration: %w", err)
	}
	cfg, err := elasticsearch.ParseConfig(parsed)
	if err != nil {
		return fmt.Errorf("validate sink configuration: %w", err)
	}
	reg, err := registry.New(c.registryURL)
	if err != nil {
		return fmt.Errorf("registry client for %s: %w", c.registryURL, err)
	}
	sink := elasticsearch.New(cfg, connectors.Env{Name: c.name, Metrics: metrics.NewRegistry()})
	fmt.Println(readyLine)
	err = sink.Run(ctx, connectors.Kafka{Brokers: c.brokers, Registry: reg})
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// child is a running sink process.
type child struct {
	cmd     *exec.Cmd
	readyAt time.Time
	exited  chan struct{}
	waitErr error
}

// startChild starts the sink process and waits until it reports ready.
func startChild(ctx context.Context, o options, configFile, registryURL, name string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own executable: %w", err)
	}
	args := []string{"-role", "sink", "-config", configFile, "-registry", registryURL, "-name", name, "-brokers", o.brokers}
	if o.verbose {
		args = append(args, "-v")
	}
	cmd := exec.Command(exe, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the sink process: %w", err)
	}
	c := &child{cmd: cmd, exited: make(chan struct{})}
	ready := make(chan struct{}, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == readyLine {
				ready <- struct{}{}
			}
		}
	}()
	go func() {
		c.waitErr = cmd.Wait()
		close(c.exited)
	}()
	select {
	case <-ready:
		c.readyAt = time.Now()
		return c, nil
	case <-c.exited:
		return nil, fmt.Errorf("the sink process exited before it was ready: %v", c.waitErr)
	case <-ctx.Done():
		c.stop()
		return nil, ctx.Err()
	}
}

// peakRSS returns the process's VmHWM in bytes.
func (c *child) peakRSS() (int64, error) {
	_, hwm, err := procstat.Memory(c.cmd.Process.Pid)
	if err != nil {
		return 0, fmt.Errorf("read the sink process's memory: %w", err)
	}
	return hwm, nil
}

// stop ends the process with SIGTERM (SIGKILL after 10 s) and waits for it.
func (c *child) stop() error {
	select {
	case <-c.exited:
		return c.waitErr
	default:
	}
	_ = c.cmd.Process.Signal(os.Interrupt)
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
	return c.waitErr
}
