package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFaultStateDirFull, on Postgres and MariaDB, puts the daemon's state
// directory on a 2 MiB tmpfs, fills it up under a steady workload, kills the daemon with
// SIGKILL while it is full, frees the space and starts the daemon again.
// Saving offsets fails with a clear error while the disk is full, the
// offsets saved before are left whole (files are replaced by rename), and
// the restarted source resumes from them: nothing is missing, order per
// key holds. (A Postgres source's position is its slot, so it replays
// nothing; a MariaDB source replays from its last saved position.)
func TestFaultStateDirFull(t *testing.T) {
	for _, src := range []faultSource{onPostgres, onMariaDB} {
		t.Run(src.String(), func(t *testing.T) { stateDirFull(t, src) })
	}
}

func stateDirFull(t *testing.T, src faultSource) {
	r := newFaultRig(t, src, rigOptions{})
	state := filepath.Join(filepath.Dir(r.config), "state")
	mountTmpfs(t, state, "2m")
	d, from, stopWriter := r.startUnderLoad(100)

	filler := filepath.Join(state, "filler")
	fill(t, filler)
	full := time.Now()
	for !strings.Contains(d.log(), "saving offsets failed") {
		if time.Since(full) > 30*time.Second {
			t.Fatalf("no failed save logged 30 s after the state directory filled up; logs:\n%s", d.log())
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	logs := d.log()
	failed := logs[strings.Index(logs, "saving offsets failed"):]
	failed = failed[:strings.IndexByte(failed, '\n')]
	d.kill9()
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	back, mark := time.Now(), r.writer.Next()
	d = r.start()
	r.waitState("RUNNING", 60*time.Second)
	took := r.recovered(mark, back, time.Minute)
	time.Sleep(time.Second)
	if err := stopWriter(); err != nil {
		t.Fatalf("workload: %v", err)
	}
	rep, _ := r.verify(from, true)
	t.Logf("state directory full for %v (%s…), then kill -9; changes flowing again %v after the restart with space back; %s",
		back.Sub(full).Round(time.Millisecond), failed, took.Round(time.Millisecond), rep)
	d.terminate(20 * time.Second)
}

// mountTmpfs mounts a tmpfs of size on dir (created) for the test's
// duration. It skips the test where mounting is not allowed.
func mountTmpfs(t *testing.T, dir, size string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		if os.Getenv("SLUICE_TESTENV_REQUIRED") != "" {
			t.Fatalf("mount a tmpfs on %s: %v: %s", dir, err, out)
		}
		t.Skipf("mounting a tmpfs needs root: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
}

// fill writes to path until its file system has no space left.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return
		}
	}
}
