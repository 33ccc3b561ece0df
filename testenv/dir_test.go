package testenv_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestServicesDirectoryIsPerCheckout runs testenv/dir.sh from two copies of
// the scripts, as two checkouts would: each gets a directory of its own,
// always the same one, so one checkout's up.sh never reuses, nor its
// down.sh stops, the other's services; SLUICE_TESTENV_DIR still chooses.
func TestServicesDirectoryIsPerCheckout(t *testing.T) {
	base := t.TempDir()
	checkout := func(name string) string {
		dir := filepath.Join(base, name, "testenv")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"lib.sh", "dir.sh"} {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, f), data, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		return filepath.Join(dir, "dir.sh")
	}
	dirOf := func(script string, env ...string) string {
		cmd := exec.Command("bash", script)
		cmd.Env = append(os.Environ(), "SLUICE_TESTENV_DIR=") // empty counts as unset
		cmd.Env = append(cmd.Env, env...)
		cmd.Dir = base
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", script, err)
		}
		return strings.TrimSpace(string(out))
	}
	a, b := checkout("a"), checkout("b")
	dirA, dirB := dirOf(a), dirOf(b)
	perCheckout := regexp.MustCompile(`^/tmp/sluice-testenv-[0-9a-f]{12}$`)
	if !perCheckout.MatchString(dirA) || !perCheckout.MatchString(dirB) {
		t.Errorf("directories %q and %q, want /tmp/sluice-testenv- and 12 hex digits", dirA, dirB)
	}
	if dirA == dirB {
		t.Errorf("both checkouts use %s", dirA)
	}
	if again := dirOf(a); again != dirA {
		t.Errorf("checkout a: %s, then %s", dirA, again)
	}
	if got := dirOf(a, "SLUICE_TESTENV_DIR=/srv/testenv"); got != "/srv/testenv" {
		t.Errorf("with SLUICE_TESTENV_DIR=/srv/testenv: %s", got)
	}
}
