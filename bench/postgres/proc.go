package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sluice-cdc/sluice/bench/internal/procstat"
)

// child is the pipeline process of a run.
type child struct {
	cmd      *exec.Cmd
	readyAt  time.Time     // when it reported being about to run the source
	readyCPU time.Duration // CPU time it had used by then
	exited   chan struct{} // closed when the process has exited
	waitErr  error         // what Wait returned; valid once exited is closed
}

// startChild starts the pipeline process for e and waits until it reports
// ready. profile, when set, is where it writes its CPU profile.
func startChild(ctx context.Context, o options, e *runEnv, profile string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own executable: %w", err)
	}
	args := []string{"-role", "sluice", "-config", e.configFile, "-registry", e.registryURL,
		"-state", e.stateDir, "-brokers", o.brokers}
	if profile != "" {
		args = append(args, "-cpuprofile", profile)
	}
	if o.verbose {
		args = append(args, "-v")
	}
	if n := o.producer.maxBufferedRecords; n > 0 {
		args = append(args, "-max-buffered-records", strconv.Itoa(n))
	}
	if n := o.producer.batchMaxBytes; n > 0 {
		args = append(args, "-batch-max-bytes", strconv.Itoa(n))
	}
	if n := o.producer.zstdLevel; n > 0 {
		args = append(args, "-zstd-level", strconv.Itoa(n))
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
	c := &child{cmd: cmd, exited: make(chan struct{})}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, readyPrefix) {
				ready <- line
			}
		}
	}()
	go func() {
		c.waitErr = cmd.Wait()
		close(c.exited)
	}()
	select {
	case line := <-ready:
		c.readyAt = time.Now()
		ns, _ := strconv.ParseInt(strings.TrimPrefix(line, readyPrefix), 10, 64)
		c.readyCPU = time.Duration(ns)
		return c, nil
	case <-c.exited:
		return nil, fmt.Errorf("the pipeline process exited before it was ready: %v", c.waitErr)
	case <-time.After(30 * time.Second):
		c.kill()
		return nil, fmt.Errorf("the pipeline process was not ready within 30s")
	case <-ctx.Done():
		c.kill()
		return nil, ctx.Err()
	}
}

// failed returns an error if the process exited on its own.
func (c *child) failed() error {
	select {
	case <-c.exited:
		return fmt.Errorf("the pipeline process stopped: %v", c.waitErr)
	default:
		return nil
	}
}

// stop sends SIGTERM, waits for the process to drain and exit, and returns
// the CPU time it used after reporting ready and its peak RSS in bytes.
func (c *child) stop() (cpu time.Duration, peakRSS int64, err error) {
	if c.failed() != nil {
		return 0, 0, c.failed()
	}
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return 0, 0, fmt.Errorf("stop the pipeline process: %w", err)
	}
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		c.kill()
		return 0, 0, fmt.Errorf("the pipeline process did not stop within 30s of SIGTERM")
	}
	if c.waitErr != nil {
		return 0, 0, fmt.Errorf("the pipeline process failed: %v", c.waitErr)
	}
	ru, ok := c.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, 0, fmt.Errorf("no resource usage of the pipeline process")
	}
	cpu = time.Duration(ru.Utime.Nano()+ru.Stime.Nano()) - c.readyCPU
	return cpu, ru.Maxrss * 1024, nil // Linux reports ru_maxrss in KiB
}

// kill ends the process at once and waits for it.
func (c *child) kill() {
	c.cmd.Process.Kill()
	<-c.exited
}

// cpuSampler follows the CPU time of a process that may exit at any time
// (a walsender ends with its connection): it keeps the last value read.
type cpuSampler struct {
	pid  int
	last time.Duration
	stop chan struct{}
	done chan struct{}
}

func sampleCPU(pid int) *cpuSampler {
	s := &cpuSampler{pid: pid, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if v, err := procstat.CPU(pid); err == nil {
				s.last = v
			}
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// finish stops sampling, takes a last sample if the process still exists,
// and returns the CPU time it had used.
func (s *cpuSampler) finish() time.Duration {
	close(s.stop)
	<-s.done
	if v, err := procstat.CPU(s.pid); err == nil {
		s.last = v
	}
	return s.last
}

// findBroker returns the pid of the local process listening on the TCP
// port of broker (host:port), or 0 when there is none or it cannot be told.
func findBroker(broker string) int {
	_, portText, err := net.SplitHostPort(broker)
	if err != nil {
		return 0
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return 0
	}
	inodes := map[string]bool{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			// local_address is HEXIP:HEXPORT; state 0A is LISTEN; field 9 is the inode.
			if len(f) > 9 && f[3] == "0A" && strings.HasSuffix(f[1], fmt.Sprintf(":%04X", port)) {
				inodes["socket:["+f[9]+"]"] = true
			}
		}
	}
	if len(inodes) == 0 {
		return 0
	}
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		fds, _ := os.ReadDir(filepath.Join("/proc", p.Name(), "fd"))
		for _, fd := range fds {
			if link, err := os.Readlink(filepath.Join("/proc", p.Name(), "fd", fd.Name())); err == nil && inodes[link] {
				return pid
			}
		}
	}
	return 0
}

// cpuSince returns the CPU time process pid has used since it had used
// base, or 0 when pid is 0 or gone.
func cpuSince(pid int, base time.Duration) time.Duration {
	if pid == 0 {
		return 0
	}
	v, err := procstat.CPU(pid)
	if err != nil {
		return 0
	}
	return v - base
}
