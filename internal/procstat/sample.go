package procstat

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Sampler follows the CPU time of a process that may exit at any time (a
// walsender or binlog dump thread ends with its connection): it keeps the
// last value read.
type Sampler struct {
	pid  int
	last time.Duration
	stop chan struct{}
	done chan struct{}
}

// Sample starts reading the CPU time of pid every 50 ms.
func Sample(pid int) *Sampler {
	s := &Sampler{pid: pid, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if v, err := CPU(pid); err == nil {
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

// Finish stops sampling, takes a last sample if the process still exists,
// and returns the CPU time it had used.
func (s *Sampler) Finish() time.Duration {
	close(s.stop)
	<-s.done
	if v, err := CPU(s.pid); err == nil {
		s.last = v
	}
	return s.last
}

// Listener returns the pid of the local process listening on the TCP port
// of addr (host:port), or 0 when there is none or it cannot be told (the
// process belongs to another user).
func Listener(addr string) int {
	_, portText, err := net.SplitHostPort(addr)
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

// CPUSince returns the CPU time process pid has used since it had used
// base, or 0 when pid is 0 or gone.
func CPUSince(pid int, base time.Duration) time.Duration {
	if pid == 0 {
		return 0
	}
	v, err := CPU(pid)
	if err != nil {
		return 0
	}
	return v - base
}

// Span is the CPU time a process used between BeginListener and Finish.
type Span struct {
	pid  int
	base time.Duration
}

// BeginListener starts a Span of the local process listening on addr
// (host:port): the database server or the Kafka broker of a run. Without
// one that can be told (Listener), Finish returns 0.
func BeginListener(addr string) Span {
	pid := Listener(addr)
	return Span{pid: pid, base: CPUSince(pid, 0)}
}

// Finish returns the CPU time the process has used since the Span began.
func (s Span) Finish() time.Duration { return CPUSince(s.pid, s.base) }
