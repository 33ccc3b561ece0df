package daemon_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/daemon"
	"github.com/sluice-cdc/sluice/daemon/config"
	"github.com/sluice-cdc/sluice/daemon/internal/testclass"
	"github.com/sluice-cdc/sluice/daemon/store"
)

var ctx = context.Background()

// newSupervisor starts a supervisor over a file store in dir, running the
// test class, with a fast backoff.
func newSupervisor(t *testing.T, dir string, files ...config.Connector) (*daemon.Supervisor, *store.Files) {
	t.Helper()
	return newSupervisorWith(t, dir, testclass.Workers, files...)
}

func newSupervisorWith(t *testing.T, dir string, workers daemon.WorkerFactory, files ...config.Connector) (*daemon.Supervisor, *store.Files) {
	t.Helper()
	return newSupervisorLogging(t, dir, workers, io.Discard, files...)
}

// newSupervisorLogging is newSupervisorWith with the daemon's log written
// to logs.
func newSupervisorLogging(t *testing.T, dir string, workers daemon.WorkerFactory, logs io.Writer, files ...config.Connector) (*daemon.Supervisor, *store.Files) {
	t.Helper()
	st, err := store.Open(filepath.Join(dir, "connectors"))
	if err != nil {
		t.Fatal(err)
	}
	sup, err := daemon.New(daemon.Options{
		Store: st, Workers: workers, WorkDir: filepath.Join(dir, "work"), WorkerID: "host:8083",
		Logger:  slog.New(slog.NewTextHandler(logs, nil)),
		Backoff: daemon.Backoff{Initial: 10 * time.Millisecond, Max: 40 * time.Millisecond}, StopTimeout: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := sup.Start(ctx, files); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := sup.Shutdown(c); err != nil {
			t.Error(err)
		}
	})
	return sup, st
}

// conf is a valid test-class configuration with the given changes.
func conf(kv ...string) map[string]string {
	m := map[string]string{"connector.class": testclass.Name, "topic.prefix": "cdc"}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// waitFor polls the connector's status until cond holds, or fails.
func waitFor(t *testing.T, sup *daemon.Supervisor, name string, what string, cond func(daemon.Status) bool) daemon.Status {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := sup.Status(name)
		if err == nil && cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: waiting for %s: last status %+v, %v", name, what, st, err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func waitState(t *testing.T, sup *daemon.Supervisor, name string, want daemon.State) daemon.Status {
	t.Helper()
	return waitFor(t, sup, name, string(want), func(s daemon.Status) bool { return s.State == want })
}

func running(name string) daemon.Status {
	return daemon.Status{Name: name, State: daemon.Running, WorkerID: "host:8083", Type: "source",
		Tasks: []daemon.TaskStatus{{ID: 0, State: daemon.Running, WorkerID: "host:8083"}}}
}

func TestLifecycle(t *testing.T) {
	sup, st := newSupervisor(t, t.TempDir())
	if _, err := sup.Create(ctx, config.Connector{Name: "a", Config: conf()}); err != nil {
		t.Fatal(err)
	}
	if got := waitState(t, sup, "a", daemon.Running); !reflect.DeepEqual(got, running("a")) {
		t.Fatalf("status = %+v", got)
	}
	step := func(name string, op func(context.Context, string) error, want daemon.State, target store.Target) {
		t.Helper()
		if err := op(ctx, "a"); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := waitState(t, sup, "a", want)
		if rec, _ := st.Get(ctx, "a"); rec.Target != target {
			t.Fatalf("%s: stored target %s, want %s", name, rec.Target, target)
		}
		wantTasks := 1
		if want == daemon.Stopped {
			wantTasks = 0
		}
		if len(got.Tasks) != wantTasks || (wantTasks == 1 && got.Tasks[0].State != want) {
			t.Fatalf("%s: tasks %+v", name, got.Tasks)
		}
		if info, _ := sup.Info("a"); info.Tasks != wantTasks {
			t.Fatalf("%s: info tasks %d", name, info.Tasks)
		}
	}
	step("pause", sup.Pause, daemon.Paused, store.Paused)
	step("resume", sup.Resume, daemon.Running, store.Running)
	step("stop", sup.Stop, daemon.Stopped, store.Stopped)
	step("resume from stop", sup.Resume, daemon.Running, store.Running)

	got, restarted, err := sup.Restart(ctx, "a", false)
	want := running("a")
	want.State, want.Tasks[0].State = daemon.Restarting, daemon.Restarting
	if err != nil || !restarted || !reflect.DeepEqual(got, want) {
		t.Fatalf("Restart = %+v, %v, %v", got, restarted, err)
	}
	waitState(t, sup, "a", daemon.Running)
	if _, restarted, _ := sup.Restart(ctx, "a", true); restarted {
		t.Fatal("Restart(onlyFailed) restarted a RUNNING connector")
	}

	if err := sup.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"Status": func() error { _, err := sup.Status("a"); return err }(),
		"Pause":  sup.Pause(ctx, "a"),
		"Delete": sup.Delete(ctx, "a"),
		"Store":  func() error { _, err := st.Get(ctx, "a"); return err }(),
	} {
		if !errors.Is(err, daemon.ErrNotFound) && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s after delete: %v", name, err)
		}
	}
	if err := sup.Pause(ctx, "a"); err.Error() != "Connector a not found" {
		t.Fatalf("message = %q", err)
	}
}

func TestTransientErrorsRestartWithBackoff(t *testing.T) {
	sup, _ := newSupervisor(t, t.TempDir())
	began := time.Now() // before the first failure, whose wait counts too
	for name, c := range map[string]map[string]string{
		"fails":  conf("behavior", "fail", "error.message", "connection refused"),
		"panics": conf("behavior", "panic", "error.message", "nil map"),
		"fine":   conf(),
	} {
		if _, err := sup.Create(ctx, config.Connector{Name: name, Config: c}); err != nil {
			t.Fatal(err)
		}
	}
	st := waitFor(t, sup, "fails", "4 failures", func(s daemon.Status) bool { return s.Restarts >= 4 })
	if st.State != daemon.Unassigned || st.Trace != "connection refused" || st.Tasks[0].Trace != "connection refused" {
		t.Fatalf("failing connector: %+v", st)
	}
	// Three waits between four failures, of at least 5, 10 and 20ms (half
	// of 10, 20 and 40).
	if d := time.Since(began); d < 35*time.Millisecond {
		t.Fatalf("4 failures took %v: no backoff", d)
	}
	time.Sleep(200 * time.Millisecond)
	st, _ = sup.Status("fails")
	if st.Restarts > 4+200/20+1 { // capped at 40ms, so at least 20ms apart
		t.Fatalf("%d restarts in %v: the backoff is not capped above its floor", st.Restarts, time.Since(began))
	}
	p := waitFor(t, sup, "panics", "a restart", func(s daemon.Status) bool { return s.Restarts >= 1 })
	if p.Trace != "connector worker panicked: nil map" {
		t.Fatalf("panicking connector: %+v", p)
	}
	// The others never disturbed the healthy one.
	if got, _ := sup.Status("fine"); !reflect.DeepEqual(got, running("fine")) {
		t.Fatalf("healthy connector: %+v", got)
	}
}

func TestPermanentErrorsFailWithoutRetry(t *testing.T) {
	sup, _ := newSupervisor(t, t.TempDir())
	before := time.Now()
	if _, err := sup.Create(ctx, config.Connector{Name: "p", Config: conf("behavior", "permanent", "error.message", "password authentication failed")}); err != nil {
		t.Fatal(err)
	}
	want := daemon.Status{Name: "p", State: daemon.Failed, Trace: "password authentication failed", WorkerID: "host:8083", Type: "source",
		Tasks: []daemon.TaskStatus{{ID: 0, State: daemon.Failed, Trace: "password authentication failed", WorkerID: "host:8083"}}}
	got := waitState(t, sup, "p", daemon.Failed)
	if got.LastError.Before(before) || got.LastError.After(time.Now()) {
		t.Errorf("last error at %v, want after %v and before now", got.LastError, before)
	}
	want.LastError = got.LastError
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("status = %+v", got)
	}
	time.Sleep(100 * time.Millisecond)
	if got, _ := sup.Status("p"); !reflect.DeepEqual(got, want) {
		t.Fatalf("after 100ms: %+v", got)
	}
	// onlyFailed restarts it; it fails again.
	got, restarted, err := sup.Restart(ctx, "p", true)
	if err != nil || !restarted || got.State != daemon.Restarting || got.Trace != "" {
		t.Fatalf("Restart = %+v, %v, %v", got, restarted, err)
	}
	waitState(t, sup, "p", daemon.Failed)
	// Resume starts a FAILED connector again too; fixing its config does.
	if _, err := sup.PatchConfig(ctx, "p", map[string]*string{"behavior": nil}); err != nil {
		t.Fatal(err)
	}
	waitState(t, sup, "p", daemon.Running)
}

func TestFinishedWorkerShowsStopped(t *testing.T) {
	sup, _ := newSupervisor(t, t.TempDir())
	sup.Create(ctx, config.Connector{Name: "f", Config: conf("behavior", "finish")})
	if got := waitState(t, sup, "f", daemon.Stopped); got.Tasks != nil || got.Trace != "" {
		t.Fatalf("status = %+v", got)
	}
}

func TestNoRuntime(t *testing.T) {
	sup, _ := newSupervisorWith(t, t.TempDir(), nil)
	sup.Create(ctx, config.Connector{Name: "n", Config: conf()})
	if got := waitState(t, sup, "n", daemon.Failed); got.Trace != "connector class sluice-test has no runtime in this build" {
		t.Fatalf("status = %+v", got)
	}
}

func TestCreateAndConfigErrorsChangeNothing(t *testing.T) {
	sup, st := newSupervisor(t, t.TempDir())
	_, err := sup.Create(ctx, config.Connector{Name: "bad", Config: conf("count", "x")})
	var ps config.Problems
	if !errors.As(err, &ps) || !reflect.DeepEqual(ps, config.Problems{{Connector: "bad", Key: "count", Message: `invalid value "x": not an integer`}}) {
		t.Fatalf("Create of an invalid config: %#v", err)
	}
	if _, err := sup.Create(ctx, config.Connector{Name: "a", Config: conf("count", "2")}); err != nil {
		t.Fatal(err)
	}
	if _, err := sup.Create(ctx, config.Connector{Name: "a", Config: conf()}); !errors.Is(err, daemon.ErrExists) || err.Error() != "Connector a already exists" {
		t.Fatalf("duplicate: %v", err)
	}
	if _, _, err := sup.PutConfig(ctx, "a", conf("count", "x")); !errors.As(err, &ps) {
		t.Fatalf("PutConfig of an invalid config: %v", err)
	}
	if _, err := sup.PatchConfig(ctx, "a", map[string]*string{"colour": ptr("red")}); !errors.As(err, &ps) || ps[0].Key != "colour" {
		t.Fatalf("PatchConfig with an unknown key: %v", err)
	}
	if _, err := sup.PatchConfig(ctx, "nope", nil); !errors.Is(err, daemon.ErrNotFound) {
		t.Fatalf("PatchConfig of a missing connector: %v", err)
	}
	recs, _ := st.List(ctx)
	if len(recs) != 1 || !maps.Equal(recs[0].Config, conf("count", "2")) || sup.Names()[0] != "a" || len(sup.Names()) != 1 {
		t.Fatalf("stored after errors: %+v, names %v", recs, sup.Names())
	}
}

func ptr(s string) *string { return &s }

func TestPutAndPatchConfig(t *testing.T) {
	sup, st := newSupervisor(t, t.TempDir())
	info, created, err := sup.PutConfig(ctx, "a", conf("database.password", "literal", "name", "a"))
	if err != nil || !created || info.Name != "a" || !maps.Equal(info.Config, conf("database.password", "literal")) {
		t.Fatalf("PutConfig (create) = %+v, %v, %v", info, created, err)
	}
	if _, _, err := sup.PutConfig(ctx, "a", conf("name", "b")); err == nil || err.Error() != `connector "a": name: the config's name "b" does not match the connector's name "a"` {
		t.Fatalf("mismatched name: %v", err)
	}
	waitState(t, sup, "a", daemon.Running)
	// A masked secret sent back keeps the stored one; the change restarts the worker.
	info, created, err = sup.PutConfig(ctx, "a", conf("database.password", config.Hidden, "count", "5"))
	if err != nil || created || !maps.Equal(info.Config, conf("database.password", "literal", "count", "5")) {
		t.Fatalf("PutConfig (update) = %+v, %v, %v", info, created, err)
	}
	info, err = sup.PatchConfig(ctx, "a", map[string]*string{"count": nil, "offset.key": ptr("k")})
	if err != nil || !maps.Equal(info.Config, conf("database.password", "literal", "offset.key", "k")) {
		t.Fatalf("PatchConfig = %+v, %v", info, err)
	}
	// The restarted worker runs the new config: it saved its offset.
	waitFor(t, sup, "a", "offset saved", func(daemon.Status) bool {
		rec, _ := st.Get(ctx, "a")
		return string(rec.Offsets["k"]) == "{}"
	})
	// A paused connector takes a new config without starting.
	sup.Pause(ctx, "a")
	if _, err := sup.PatchConfig(ctx, "a", map[string]*string{"count": ptr("7")}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if got, _ := sup.Status("a"); got.State != daemon.Paused {
		t.Fatalf("paused connector after a config change: %+v", got)
	}
}

func TestOffsetsChangeOnlyWhileStopped(t *testing.T) {
	sup, _ := newSupervisor(t, t.TempDir())
	sup.Create(ctx, config.Connector{Name: "a", Config: conf("offset.key", "server=cdc", "offset.value", `{"lsn":7}`)})
	waitState(t, sup, "a", daemon.Running)
	offs := waitOffsets(t, sup, "a")
	if want := []daemon.Offset{{Partition: map[string]any{"server": "cdc"}, Offset: json.RawMessage(`{"lsn":7}`)}}; !reflect.DeepEqual(offs, want) {
		t.Fatalf("offsets = %+v", offs)
	}
	wantMsg := "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/a/stop' endpoint"
	for _, op := range []error{
		sup.AlterOffsets(ctx, "a", []daemon.Offset{{Partition: map[string]any{"x": "1"}, Offset: json.RawMessage(`{}`)}}),
		sup.ResetOffsets(ctx, "a"),
		func() error { sup.Pause(ctx, "a"); return sup.ResetOffsets(ctx, "a") }(),
	} {
		if !errors.Is(op, daemon.ErrNotStopped) || op.Error() != wantMsg {
			t.Fatalf("offset change while not STOPPED: %v", op)
		}
	}
	sup.Stop(ctx, "a")
	if err := sup.AlterOffsets(ctx, "a", []daemon.Offset{{Partition: map[string]any{"server": "cdc"}}, {Partition: map[string]any{"x": "1"}, Offset: json.RawMessage(`{"n":1}`)}}); err != nil {
		t.Fatal(err)
	}
	if offs, _ := sup.Offsets(ctx, "a"); !reflect.DeepEqual(offs, []daemon.Offset{{Partition: map[string]any{"x": "1"}, Offset: json.RawMessage(`{"n":1}`)}}) {
		t.Fatalf("after alter: %+v", offs)
	}
	if err := sup.ResetOffsets(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if offs, _ := sup.Offsets(ctx, "a"); len(offs) != 0 {
		t.Fatalf("after reset: %+v", offs)
	}
}

func waitOffsets(t *testing.T, sup *daemon.Supervisor, name string) []daemon.Offset {
	t.Helper()
	for i := 0; i < 1000; i++ {
		if offs, _ := sup.Offsets(ctx, name); len(offs) > 0 {
			return offs
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatal("no offsets saved")
	return nil
}

func TestRestartOfTheDaemonKeepsConnectorsTargetsAndOffsets(t *testing.T) {
	dir := t.TempDir()
	st, _ := store.Open(filepath.Join(dir, "connectors"))
	first, err := daemon.New(daemon.Options{Store: st, Workers: testclass.Workers, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	first.Start(ctx, nil)
	first.Create(ctx, config.Connector{Name: "run", Config: conf("offset.key", "server=cdc", "offset.value", `{"lsn":9}`)})
	first.Create(ctx, config.Connector{Name: "paused", Config: conf(), InitialState: "PAUSED"})
	first.Create(ctx, config.Connector{Name: "stopped", Config: conf(), InitialState: "STOPPED"})
	waitOffsets(t, first, "run")
	if err := first.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	second, _ := newSupervisor(t, dir)
	if names := second.Names(); !reflect.DeepEqual(names, []string{"paused", "run", "stopped"}) {
		t.Fatalf("names = %v", names)
	}
	waitState(t, second, "run", daemon.Running)
	for name, want := range map[string]daemon.State{"paused": daemon.Paused, "stopped": daemon.Stopped} {
		if got, _ := second.Status(name); got.State != want {
			t.Errorf("%s: %s, want %s", name, got.State, want)
		}
	}
	if offs, _ := second.Offsets(ctx, "run"); len(offs) != 1 || string(offs[0].Offset) != `{"lsn":9}` {
		t.Fatalf("offsets = %+v", offs)
	}
}

func TestConnectorFiles(t *testing.T) {
	dir := t.TempDir()
	file := func(name string, cfg map[string]string, initial string) config.Connector {
		return config.Connector{Name: name, Config: cfg, File: "/etc/sluice/" + name + ".json", InitialState: initial}
	}
	sup, st := newSupervisor(t, dir, file("f", conf(), ""), file("g", conf(), "PAUSED"))
	waitState(t, sup, "f", daemon.Running)
	if got, _ := sup.Status("g"); got.State != daemon.Paused {
		t.Fatalf("g: %+v", got)
	}
	// The API can operate a file connector but not change or delete it.
	managed := "Connector f is managed by file /etc/sluice/f.json: edit or remove that file and reload the daemon (SIGHUP)"
	for name, err := range map[string]error{
		"Create":      func() error { _, err := sup.Create(ctx, config.Connector{Name: "f", Config: conf()}); return err }(),
		"PutConfig":   func() error { _, _, err := sup.PutConfig(ctx, "f", conf("count", "2")); return err }(),
		"PatchConfig": func() error { _, err := sup.PatchConfig(ctx, "f", map[string]*string{"count": ptr("2")}); return err }(),
		"Delete":      sup.Delete(ctx, "f"),
	} {
		if !errors.Is(err, daemon.ErrManaged) || err.Error() != managed {
			t.Errorf("%s of a file connector: %v", name, err)
		}
	}
	if err := sup.Pause(ctx, "f"); err != nil {
		t.Fatal(err)
	}
	if rec, _ := st.Get(ctx, "f"); rec.Target != store.Paused || !maps.Equal(rec.Config, conf()) {
		t.Fatalf("after errors and a pause: %+v", rec)
	}

	// An API connector that a file names later is taken over by the file.
	sup.Create(ctx, config.Connector{Name: "api", Config: conf()})
	sup.Create(ctx, config.Connector{Name: "h", Config: conf()})

	// An invalid reload changes nothing.
	err := sup.SyncFiles(ctx, []config.Connector{file("f", conf("count", "x"), "")})
	var ps config.Problems
	if !errors.As(err, &ps) || ps.Error() != `/etc/sluice/f.json: connector "f": count: invalid value "x": not an integer` {
		t.Fatalf("invalid reload: %v", err)
	}
	if names := sup.Names(); !reflect.DeepEqual(names, []string{"api", "f", "g", "h"}) {
		t.Fatalf("after an invalid reload: %v", names)
	}

	// f changes (and stays paused), g goes, h is taken over, i arrives.
	if err := sup.SyncFiles(ctx, []config.Connector{file("f", conf("count", "3"), ""), file("h", conf("count", "4"), ""), file("i", conf(), "STOPPED")}); err != nil {
		t.Fatal(err)
	}
	if names := sup.Names(); !reflect.DeepEqual(names, []string{"api", "f", "h", "i"}) {
		t.Fatalf("after reload: %v", names)
	}
	want := map[string]store.Record{
		"api": {Name: "api", Config: conf(), Target: store.Running},
		"f":   {Name: "f", Config: conf("count", "3"), Target: store.Paused, File: "/etc/sluice/f.json"},
		"h":   {Name: "h", Config: conf("count", "4"), Target: store.Running, File: "/etc/sluice/h.json"},
		"i":   {Name: "i", Config: conf(), Target: store.Stopped, File: "/etc/sluice/i.json"},
	}
	recs, _ := st.List(ctx)
	for _, r := range recs {
		if !reflect.DeepEqual(r, want[r.Name]) {
			t.Errorf("stored %s:\n got %+v\nwant %+v", r.Name, r, want[r.Name])
		}
	}
	if len(recs) != 4 {
		t.Fatalf("stored %d connectors", len(recs))
	}
	if got, _ := sup.Status("f"); got.State != daemon.Paused {
		t.Fatalf("f after its file changed: %+v", got)
	}
	waitState(t, sup, "h", daemon.Running)
	if _, err := sup.PatchConfig(ctx, "h", nil); !errors.Is(err, daemon.ErrManaged) {
		t.Fatalf("h after takeover: %v", err)
	}
}

func TestStopWaitsBoundedForAWorkerThatLingers(t *testing.T) {
	dir := t.TempDir()
	st, _ := store.Open(filepath.Join(dir, "connectors"))
	sup, _ := daemon.New(daemon.Options{Store: st, Workers: testclass.Workers, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), StopTimeout: 50 * time.Millisecond})
	sup.Start(ctx, nil)
	sup.Create(ctx, config.Connector{Name: "slow", Config: conf("behavior", "linger", "linger.ms", "400")})
	sup.Create(ctx, config.Connector{Name: "quick", Config: conf()})
	waitState(t, sup, "slow", daemon.Running)

	began := time.Now()
	if err := sup.Pause(ctx, "slow"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(began); d < 50*time.Millisecond || d > 300*time.Millisecond {
		t.Fatalf("pause took %v; want about the 50ms stop timeout", d)
	}
	if got, _ := sup.Status("slow"); got.State != daemon.Paused {
		t.Fatalf("status = %+v", got)
	}
	sup.Resume(ctx, "slow")
	waitState(t, sup, "slow", daemon.Running)

	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := sup.Shutdown(short); err == nil || err.Error() != "shutdown: connectors still running when the timeout passed: slow" {
		t.Fatalf("Shutdown = %v", err)
	}
	if sup.Ready() {
		t.Fatal("ready after shutdown")
	}
	if err := sup.Shutdown(ctx); err != nil { // the lingering workers end in time
		t.Fatal(err)
	}
}
