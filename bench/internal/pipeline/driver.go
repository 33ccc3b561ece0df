package pipeline

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Child is the pipeline process of a run, seen from the driver.
type Child struct {
	cmd      *exec.Cmd
	ReadyAt  time.Time     // when it reported being about to run the source
	readyCPU time.Duration // CPU time it had used by then
	running  chan struct{} // closed when the source reports its position fixed
	exited   chan struct{} // closed when the process has exited
	waitErr  error         // what Wait returned; valid once exited is closed
	peakRSS  int64         // what it reported last (peakPrefix); valid once exited is closed
}

// Start runs the driver's own executable with args (which must make it run
// the child: Run) and waits until the child reports ready. Its stderr is
// the driver's.
func Start(ctx context.Context, args ...string) (*Child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own executable: %w", err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the pipeline process: %w", err)
	}
	c := &Child{cmd: cmd, running: make(chan struct{}), exited: make(chan struct{})}
	ready := make(chan string, 1)
	// Its output is read to the end before Wait, which closes the pipe:
	// the last line says its peak RSS.
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			switch line := sc.Text(); {
			case strings.HasPrefix(line, readyPrefix):
				ready <- line
			case line == runningLine:
				close(c.running)
			case strings.HasPrefix(line, peakPrefix):
				c.peakRSS, _ = strconv.ParseInt(strings.TrimPrefix(line, peakPrefix), 10, 64)
			}
		}
		c.waitErr = cmd.Wait()
		close(c.exited)
	}()
	select {
	case line := <-ready:
		c.ReadyAt = time.Now()
		ns, _ := strconv.ParseInt(strings.TrimPrefix(line, readyPrefix), 10, 64)
		c.readyCPU = time.Duration(ns)
		return c, nil
	case <-c.exited:
		return nil, fmt.Errorf("the pipeline process exited before it was ready: %v", c.waitErr)
	case <-time.After(30 * time.Second):
		c.Kill()
		return nil, fmt.Errorf("the pipeline process was not ready within 30s")
	case <-ctx.Done():
		c.Kill()
		return nil, ctx.Err()
	}
}

// Pid is the process's id.
func (c *Child) Pid() int { return c.cmd.Process.Pid }

// Running is closed once the source has reported its start position fixed
// (connectors.Env.Running).
func (c *Child) Running() <-chan struct{} { return c.running }

// WaitRunning waits until the source reports its start position fixed.
func (c *Child) WaitRunning(ctx context.Context, timeout time.Duration) error {
	select {
	case <-c.running:
		return nil
	case <-c.exited:
		return c.Failed()
	case <-time.After(timeout):
		return fmt.Errorf("the source did not report running within %s", timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Failed returns an error if the process exited on its own.
func (c *Child) Failed() error {
	select {
	case <-c.exited:
		return fmt.Errorf("the pipeline process stopped: %v", c.waitErr)
	default:
		return nil
	}
}

// Stop sends SIGTERM, waits for the process to drain and exit, and returns
// the CPU time it used after reporting ready and its peak RSS in bytes, as
// it reported them (see peakPrefix).
func (c *Child) Stop() (cpu time.Duration, peakRSS int64, err error) {
	if c.Failed() != nil {
		return 0, 0, c.Failed()
	}
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return 0, 0, fmt.Errorf("stop the pipeline process: %w", err)
	}
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		c.Kill()
		return 0, 0, fmt.Errorf("the pipeline process did not stop within 30s of SIGTERM")
	}
	if c.waitErr != nil {
		return 0, 0, fmt.Errorf("the pipeline process failed: %v", c.waitErr)
	}
	ru, ok := c.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, 0, fmt.Errorf("no resource usage of the pipeline process")
	}
	if c.peakRSS <= 0 {
		return 0, 0, fmt.Errorf("the pipeline process did not report its peak RSS")
	}
	cpu = time.Duration(ru.Utime.Nano()+ru.Stime.Nano()) - c.readyCPU
	return cpu, c.peakRSS, nil
}

// Kill ends the process at once and waits for it.
func (c *Child) Kill() {
	c.cmd.Process.Kill()
	<-c.exited
}
