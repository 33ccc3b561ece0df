package testenv

import (
	"os"
	"path/filepath"
)

// CacheDir is where testenv/install.sh keeps what it resolves and builds
// (classpaths, the Python virtual environment, compiled runners):
// $SLUICE_TESTENV_CACHE, else sluice-testenv in the user's cache directory
// (${XDG_CACHE_HOME:-$HOME/.cache}), as testenv/lib.sh says.
func CacheDir() string {
	if c := os.Getenv("SLUICE_TESTENV_CACHE"); c != "" {
		return c
	}
	c, err := os.UserCacheDir()
	if err != nil {
		c = filepath.Join(os.Getenv("HOME"), ".cache")
	}
	return filepath.Join(c, "sluice-testenv")
}
