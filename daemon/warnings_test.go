package daemon_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"github.com/sluice-cdc/sluice/daemon"
	"github.com/sluice-cdc/sluice/daemon/config"
	"github.com/sluice-cdc/sluice/daemon/internal/testclass"
)

// lockedBuffer is a log destination safe for the supervisor's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestKeysWithoutEffectAreLoggedAtStart checks that a connector given a key
// that has no effect in sluice starts, and its log says which key and why.
func TestKeysWithoutEffectAreLoggedAtStart(t *testing.T) {
	var logs lockedBuffer
	sup, _ := newSupervisorLogging(t, t.TempDir(), testclass.Workers, &logs)
	if _, err := sup.Create(ctx, config.Connector{Name: "a", Config: conf("max.queue.size", "8192")}); err != nil {
		t.Fatal(err)
	}
	waitState(t, sup, "a", daemon.Running)
	want := `level=WARN msg="configuration key max.queue.size: has no effect in sluice: the test source has no queue" connector=a key=max.queue.size`
	if !strings.Contains(logs.String(), want) {
		t.Errorf("log lacks %q:\n%s", want, logs.String())
	}
}
