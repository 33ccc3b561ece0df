package faults

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Private is a set of services of the test's own, started by testenv/up.sh
// in a directory of their own: a scenario that kills, pauses or stops a
// service does so to its private one, never to the services other tests
// share. They are stopped and their directory removed when the test ends.
type Private struct {
	t       testing.TB
	dir     string
	environ []string          // added to the services' environment
	env     map[string]string // the export lines of up.sh
}

// repoRoot is the checkout this file belongs to, where testenv/up.sh is.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// StartPrivate starts services (pg, mysql, kafka, es) of the test's own.
// It skips the test when not run as root, as up.sh needs (or fails it
// when SLUICE_TESTENV_REQUIRED is set).
func StartPrivate(t testing.TB, services ...string) *Private {
	t.Helper()
	return StartPrivateWith(t, nil, services...)
}

// StartPrivateWith is StartPrivate with environ (NAME=value) added to the
// environment the services run in, such as libfaketime's.
func StartPrivateWith(t testing.TB, environ []string, services ...string) *Private {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("SLUICE_TESTENV_REQUIRED") != "" {
			t.Fatal("private services need root, as testenv/up.sh does")
		}
		t.Skip("private services need root, as testenv/up.sh does")
	}
	dir, err := os.MkdirTemp("", "sluice-faults-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil { // the services' users enter it
		t.Fatal(err)
	}
	p := &Private{t: t, dir: dir, environ: environ, env: map[string]string{}}
	t.Cleanup(func() {
		for _, s := range services {
			p.stop(s)
		}
		os.RemoveAll(dir)
	})
	p.Start(services...)
	return p
}

// Start starts services again in the same directory, on the same ports,
// with the same data, and waits until they are ready.
func (p *Private) Start(services ...string) {
	p.t.Helper()
	began := time.Now()
	cmd := exec.Command("bash", filepath.Join(repoRoot(), "testenv", "up.sh"))
	cmd.Args = append(cmd.Args, services...)
	cmd.Env = append(append(os.Environ(), p.environ...), "SLUICE_TESTENV_DIR="+p.dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		p.t.Fatalf("testenv/up.sh %s in %s: %v\n%s", strings.Join(services, " "), p.dir, err, stderr.String())
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		name, value, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if ok {
			p.env[name] = strings.Trim(value, "'")
		}
	}
	p.t.Logf("private %s ready in %v (%s)", strings.Join(services, ", "), time.Since(began).Round(time.Millisecond), p.dir)
}

// Dir is the directory the services keep their data and logs in, one
// folder each (up.sh's SLUICE_TESTENV_DIR): Kafka's log directory is
// Dir()/kafka/data.
func (p *Private) Dir() string { return p.dir }

// Env is the value up.sh exported for name, such as SLUICE_TEST_KAFKA_BROKERS.
func (p *Private) Env(name string) string { return p.env[name] }

// Pid is the process id of a running service, found as testenv/lib.sh
// finds it; 0 when it does not run.
func (p *Private) Pid(service string) int {
	cmd := exec.Command("bash", "-c", `. "$1/testenv/lib.sh" && svc_pid "$2"`, "pid", repoRoot(), service)
	cmd.Env = append(os.Environ(), "SLUICE_TESTENV_DIR="+p.dir)
	out, err := cmd.Output()
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	return pid
}

// Signal sends sig to a service's main process: SIGKILL, SIGSTOP, SIGCONT.
func (p *Private) Signal(service string, sig syscall.Signal) {
	p.t.Helper()
	pid := p.Pid(service)
	if pid == 0 {
		p.t.Fatalf("private %s does not run", service)
	}
	if err := syscall.Kill(pid, sig); err != nil {
		p.t.Fatalf("signal %v to private %s (pid %d): %v", sig, service, pid, err)
	}
}

// Kill kills a service with SIGKILL and waits until it is gone.
func (p *Private) Kill(service string) {
	p.t.Helper()
	pid := p.Pid(service)
	p.Signal(service, syscall.SIGKILL)
	waitGone(pid, 30*time.Second)
}

// stop ends a service for good at the end of the test: Postgres with an
// immediate shutdown (SIGQUIT), the others with SIGKILL.
func (p *Private) stop(service string) {
	pid := p.Pid(service)
	if pid == 0 {
		return
	}
	syscall.Kill(pid, syscall.SIGCONT)
	sig := syscall.SIGKILL
	if service == "pg" {
		sig = syscall.SIGQUIT
	}
	syscall.Kill(pid, sig)
	waitGone(pid, 30*time.Second)
}

func waitGone(pid int, d time.Duration) {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if syscall.Kill(pid, 0) != nil {
			return
		}
	}
}
