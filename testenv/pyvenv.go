package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// EnvPyVenv overrides where the project's Python virtual environment is.
const EnvPyVenv = "SLUICE_TESTENV_PYVENV"

// pyDepsHint says how to install the Python test tools.
const pyDepsHint = "run `make deps` (or schema/testdata/install_python_deps.sh and daemon/api/testdata/install_schemathesis.sh), which install them into the virtual environment of testenv/pyvenv.sh"

// PyVenv returns the directory of the Python virtual environment that
// testenv/pyvenv.sh creates for the Python test tools: $SLUICE_TESTENV_PYVENV,
// else $SLUICE_TESTENV_CACHE/pyvenv, else sluice-testenv/pyvenv in the user's
// cache directory (${XDG_CACHE_HOME:-$HOME/.cache}). It may not exist.
func PyVenv() string {
	if v := os.Getenv(EnvPyVenv); v != "" {
		return v
	}
	return filepath.Join(CacheDir(), "pyvenv")
}

// Python returns the interpreter of PyVenv after checking that it imports
// every one of modules. When it does not, the test is skipped with a hint on
// how to install them, or fails instead when SLUICE_TESTENV_REQUIRED is set.
func Python(t testing.TB, modules ...string) string {
	t.Helper()
	python := filepath.Join(PyVenv(), "bin", "python")
	script, what := "pass", "Python"
	if len(modules) > 0 {
		script, what = "import "+strings.Join(modules, ", "), "Python with "+strings.Join(modules, ", ")
	}
	if out, err := exec.Command(python, "-c", script).CombinedOutput(); err != nil {
		missing(t, what+" ("+python+": "+lastLine(string(out), err)+")")
	}
	return python
}

// PyTool returns the path of program name (schemathesis, say) in PyVenv's
// bin directory. When it is not there, the test is skipped with a hint on
// how to install it, or fails instead when SLUICE_TESTENV_REQUIRED is set.
func PyTool(t testing.TB, name string) string {
	t.Helper()
	bin := filepath.Join(PyVenv(), "bin", name)
	if fi, err := os.Stat(bin); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		missing(t, name+" (no executable "+bin+")")
	}
	return bin
}

func missing(t testing.TB, what string) {
	t.Helper()
	if os.Getenv(EnvRequired) != "" {
		t.Fatalf("%s requires %s, which is missing: %s", EnvRequired, what, pyDepsHint)
	}
	t.Skipf("%s is missing: %s", what, pyDepsHint)
}

// lastLine is the last line of a failed command's output (a Python
// traceback ends with the error), or the error itself when there is none.
func lastLine(out string, err error) string {
	out = strings.TrimSpace(out)
	if out == "" {
		return err.Error()
	}
	return out[strings.LastIndexByte(out, '\n')+1:]
}
