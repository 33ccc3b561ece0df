package mysql_test

import (
	"testing"

	"github.com/sluice-cdc/sluice/testenv/sourcetest"
)

// TestMain runs the tests through sourcetest.Main, so that the crash tests
// can run this test binary as the source's child process.
func TestMain(m *testing.M) { sourcetest.Main(m) }
