package postgres_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/connectors/metrics"
	"github.com/sluice-cdc/sluice/connectors/postgres"
	"github.com/sluice-cdc/sluice/daemon"
	"github.com/sluice-cdc/sluice/daemon/api"
	"github.com/sluice-cdc/sluice/daemon/config"
	"github.com/sluice-cdc/sluice/daemon/runtime"
	"github.com/sluice-cdc/sluice/daemon/store"
)

// connectorStatus is what GET /connectors/{name}/status answers.
type connectorStatus struct {
	Connector struct {
		State string `json:"state"`
		Trace string `json:"trace"`
	} `json:"connector"`
	Tasks []struct {
		State string `json:"state"`
		Trace string `json:"trace"`
	} `json:"tasks"`
}

// startDaemon runs the daemon's supervisor and REST API over the
// harness's Kafka and registry, restarting failed connectors a few
// milliseconds apart, and returns the supervisor and the API's URL.
func startDaemon(t *testing.T, h *harness) (*daemon.Supervisor, string) {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	d := &config.Daemon{Kafka: config.Kafka{BootstrapServers: strings.Join(h.brokers, ",")}, SchemaRegistry: config.SchemaRegistry{URL: h.regURL}}
	rt, err := runtime.New(context.Background(), d, logger, metrics.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close() })
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sup, err := daemon.New(daemon.Options{Store: st, Workers: rt.Workers, WorkDir: t.TempDir(), WorkerID: "host:8083", Logger: logger,
		Backoff: daemon.Backoff{Initial: 20 * time.Millisecond, Max: 40 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sup.Start(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		sup.Shutdown(ctx)
	})
	srv := httptest.NewServer(api.New(sup, api.Options{Logger: logger}))
	t.Cleanup(srv.Close)
	return sup, srv.URL
}

// TestDaemonShowsAConversionFailureAsFailed runs the source under the
// daemon's supervisor and REST API, with restarts a few milliseconds
// apart: a change that does not convert puts it in FAILED at once, with
// the message as the trace of GET /connectors/{name}/status, and it is not
// restarted. Reconfigured with event.processing.failure.handling.mode=skip
// through PUT /connectors/{name}/config, it resumes where it stopped: the
// change is dropped and the next ones are delivered.
func TestDaemonShowsAConversionFailureAsFailed(t *testing.T) {
	h := newHarness(t, nil)
	h.exec(`CREATE TABLE t (id int PRIMARY KEY, v text)`, `INSERT INTO t VALUES (1, 'a')`)
	sup, url := startDaemon(t, h)

	put := func(cfg map[string]string) {
		t.Helper()
		body, _ := json.Marshal(cfg)
		req, _ := http.NewRequest(http.MethodPut, url+"/connectors/pg/config", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Fatalf("PUT /connectors/pg/config: %s", resp.Status)
		}
	}
	status := func() connectorStatus {
		t.Helper()
		resp, err := http.Get(url + "/connectors/pg/status")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var s connectorStatus
		if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	waitState := func(want string) connectorStatus {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if s := status(); s.Connector.State == want {
				return s
			}
		}
		t.Fatalf("connector not %s within 30s: %+v", want, status())
		return connectorStatus{}
	}

	put(h.config())
	waitState("RUNNING")
	h.waitStreaming()
	// The snapshot row is in Kafka before the failure: a failure while it
	// is still being written cancels that write, and the restart below
	// would then snapshot again.
	if got := ids(h.read(h.topic("t"), 1)); !slices.Equal(got, []string{"r 1"}) {
		t.Fatalf("t: %v, want the snapshot row", got)
	}
	xid := commitXid(t, h.db, fmt.Sprintf(`INSERT INTO t VALUES (2, '%s')`, postgres.Rejected))
	failed := waitState("FAILED")
	if !failMessage(xid).MatchString(failed.Connector.Trace) || len(failed.Tasks) != 1 || failed.Tasks[0].Trace != failed.Connector.Trace {
		t.Fatalf("status %+v, want the trace to match %s", failed, failMessage(xid))
	}
	// Restarts would come every 20 to 40 ms; there are none.
	time.Sleep(time.Second)
	if s, _ := sup.Status("pg"); s.State != daemon.Failed || s.Restarts != 0 {
		t.Fatalf("a second later: state %s after %d restarts, want FAILED after none", s.State, s.Restarts)
	}

	cfg := h.config()
	cfg["event.processing.failure.handling.mode"] = "skip"
	put(cfg)
	waitState("RUNNING")
	h.exec(`INSERT INTO t VALUES (3, 'c')`)
	if got := ids(h.read(h.topic("t"), 2)); !slices.Equal(got, []string{"r 1", "c 3"}) {
		t.Errorf("t: %v, want the snapshot row and the change after the dropped one", got)
	}
}
