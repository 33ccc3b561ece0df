package daemon_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/daemon"
	"github.com/sluice-cdc/sluice/daemon/config"
	"github.com/sluice-cdc/sluice/daemon/internal/testclass"
	"github.com/sluice-cdc/sluice/daemon/store"
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
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "connectors"))
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	sup, err := daemon.New(daemon.Options{
		Store: st, Workers: testclass.Workers, WorkDir: filepath.Join(dir, "work"), WorkerID: "host:8083",
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := sup.Start(ctx, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		sup.Shutdown(c)
	})
	if _, err := sup.Create(ctx, config.Connector{Name: "a", Config: conf("max.queue.size", "8192")}); err != nil {
		t.Fatal(err)
	}
	waitState(t, sup, "a", daemon.Running)
	want := `level=WARN msg="configuration key max.queue.size: has no effect in sluice: the test source has no queue" connector=a key=max.queue.size`
	if !strings.Contains(logs.String(), want) {
		t.Errorf("log lacks %q:\n%s", want, logs.String())
	}
}
