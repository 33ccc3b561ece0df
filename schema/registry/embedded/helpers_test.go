package embedded

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/testenv"
	"github.com/twmb/franz-go/pkg/kfake"
)

// backend is a Kafka cluster a test stores the registry's topic on.
type backend struct {
	name    string
	brokers func(t *testing.T) []string
}

// backends are kfake (fast, in process) and the real Kafka from testenv (skipped when unset).
var backends = []backend{
	{"kfake", func(t *testing.T) []string {
		c, err := kfake.NewCluster(kfake.NumBrokers(1))
		if err != nil {
			t.Fatalf("start kfake: %v", err)
		}
		t.Cleanup(c.Close)
		return c.ListenAddrs()
	}},
	{"kafka", func(t *testing.T) []string { return testenv.KafkaBrokers(t) }},
}

// forEachBackend runs fn once per backend, each with its own cluster or topic name.
func forEachBackend(t *testing.T, fn func(t *testing.T, brokers []string, topic string)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			brokers := b.brokers(t)
			fn(t, brokers, testenv.Name(t, "schemas"))
		})
	}
}

// startRegistry starts a registry on the topic, waits until it is ready and serves it.
func startRegistry(t *testing.T, brokers []string, topic string, opts ...Option) (*Registry, *httptest.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := New(context.Background(), brokers, append([]Option{WithTopic(topic), WithReplicationFactor(1)}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(r.Close)
	if err := r.WaitReady(ctx); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return r, srv
}

// call sends one request with Confluent's content type and returns status and body.
func call(t *testing.T, srv *httptest.Server, method, path, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp.StatusCode, string(b)
}

// step is one request and its exact expected answer.
type step struct {
	method, path, body string
	status             int
	want               string
}

func runSteps(t *testing.T, srv *httptest.Server, steps []step) {
	t.Helper()
	for i, s := range steps {
		status, got := call(t, srv, s.method, s.path, s.body)
		if status != s.status || got != s.want {
			t.Errorf("step %d: %s %s %s\n got %d %s\nwant %d %s", i, s.method, s.path, s.body, status, got, s.status, s.want)
		}
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
