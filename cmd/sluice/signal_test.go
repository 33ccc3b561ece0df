package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/conf"
)

// stuckClass is a source that goes on for stuckFor after being stopped, as
// a connector stuck in a write would.
const stuckClass = "sluice-stuck-test"

const stuckFor = 5 * time.Second

var registerStuck sync.Once

type stuckSource struct{ env connectors.Env }

func (s stuckSource) Run(ctx context.Context, _ connectors.Emitter) error {
	s.env.ReportRunning()
	<-ctx.Done()
	time.Sleep(stuckFor)
	return ctx.Err()
}

// The first SIGTERM starts a graceful shutdown, which waits for a stuck
// connector; a second one ends the daemon at once, saying so.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	registerStuck.Do(func() {
		connectors.Register(connectors.Class{
			Name: stuckClass, Kind: connectors.KindSource,
			Spec: &conf.Spec{Keys: []conf.Key{
				{Name: "connector.class", Type: conf.Class, Required: true},
				{Name: "topic.prefix", Type: conf.String, Required: true},
			}},
			Output: func(c *conf.Config) connectors.SourceOutput {
				return connectors.SourceOutput{TopicPrefix: c.String("topic.prefix")}
			},
			NewSource: func(_ *conf.Config, env connectors.Env) (connectors.Source, error) { return stuckSource{env}, nil },
		})
	})
	dir := t.TempDir()
	conns := filepath.Join(dir, "connectors")
	os.Mkdir(conns, 0o700)
	rest := freeAddr(t)
	cfgFile := filepath.Join(dir, "sluice.json")
	writeJSON(t, cfgFile, `{"state.dir": "`+dir+`/state", "rest": {"listen": "`+rest+`"}, "sse": {"listen": "`+freeAddr(t)+`"},
		"registry": {"listen": "`+freeAddr(t)+`"}, "kafka": {"embedded": {"listen": "`+freeAddr(t)+`"}}, "shutdown.timeout.ms": 30000}`)
	writeJSON(t, filepath.Join(conns, "stuck.json"), `{"name": "stuck", "config": {"connector.class": "`+stuckClass+`", "topic.prefix": "stuck"}}`)

	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- runDaemon(context.Background(), []string{"--config", cfgFile, "--connectors-dir", conns}, io.Discard, &logs)
	}()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if res, err := http.Get("http://" + rest + "/connectors/stuck/status"); err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if strings.Contains(string(b), `"state":"RUNNING"`) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("connector stuck not RUNNING after 30s; logs:\n%s", logs.String())
		}
	}

	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case err := <-done:
		t.Fatalf("the daemon returned %v after one signal, while its connector was still stopping", err)
	case <-time.After(500 * time.Millisecond):
	}
	second := time.Now()
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case err := <-done:
		want := "second signal (terminated): exiting without waiting for connectors to stop"
		if err == nil || err.Error() != want {
			t.Fatalf("runDaemon returned %v, want %q", err, want)
		}
		t.Logf("exited %v after the second signal", time.Since(second).Round(time.Millisecond))
	case <-time.After(stuckFor / 2):
		t.Fatalf("the daemon had not returned %v after the second signal; logs:\n%s", stuckFor/2, logs.String())
	}
	// The abandoned shutdown ends once the connector does.
	time.Sleep(stuckFor)
}

// syncBuffer is a bytes.Buffer safe for the daemon's logger and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
