package sourcetest

import (
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/connectors"
)

// RunSnapshot posts sig, an execute-snapshot signal, to the signals a
// running source was given (WithSignals), as the daemon's REST API does,
// and waits up to timeout until the source reports the snapshot of sig's
// id COMPLETED; it returns the snapshot's state then. alive, called
// between polls, fails the test when the source stopped.
func RunSnapshot(t testing.TB, signals *connectors.Signals, sig connectors.Signal, timeout time.Duration, alive func()) connectors.SnapshotStatus {
	t.Helper()
	signals.Post(sig)
	deadline := time.Now().Add(timeout)
	for {
		for _, s := range signals.Snapshots() {
			if s.ID == sig.ID && s.State == "COMPLETED" {
				return s
			}
		}
		alive()
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for snapshot %s to complete", sig.ID)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
