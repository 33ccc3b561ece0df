package daemon_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sluice-cdc/sluice/daemon"
	"github.com/sluice-cdc/sluice/daemon/config"
	"github.com/sluice-cdc/sluice/daemon/internal/testsink"
)

// countLines counts the lines of logs holding every one of parts.
func countLines(logs *lockedBuffer, parts ...string) int {
	n := 0
	for _, line := range strings.Split(logs.String(), "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			n++
		}
	}
	return n
}

// sinkTasks is the status of sink connector name with tasks in state, all
// on this instance.
func sinkTasks(name string, state daemon.State, tasks int) daemon.Status {
	st := daemon.Status{Name: name, State: state, WorkerID: "host:8083", Type: "sink"}
	for id := range tasks {
		st.Tasks = append(st.Tasks, daemon.TaskStatus{ID: id, State: state, WorkerID: "host:8083"})
	}
	return st
}

// A sink whose class splits its work runs tasks.max tasks, each in a
// directory of its own; a task restarts alone; a lower tasks.max stops the
// tasks above it, and pausing pauses them all.
func TestSinkRunsItsTasks(t *testing.T) {
	dir := t.TempDir()
	logs := &lockedBuffer{}
	sup, _ := newSupervisorLogging(t, dir, testsink.Workers, logs)
	cfg := map[string]string{"connector.class": testsink.Name, "topics": "cdc.public.orders", "tasks.max": "3"}
	if _, err := sup.Create(ctx, config.Connector{Name: "index", Config: cfg}); err != nil {
		t.Fatal(err)
	}
	got := waitFor(t, sup, "index", "three tasks RUNNING", func(s daemon.Status) bool { return len(s.Tasks) == 3 && s.Tasks[2].State == daemon.Running })
	if want := sinkTasks("index", daemon.Running, 3); !reflect.DeepEqual(got, want) {
		t.Fatalf("status:\n got %+v\nwant %+v", got, want)
	}
	if info, _ := sup.Info("index"); info.Tasks != 3 {
		t.Fatalf("info lists %d tasks, want 3", info.Tasks)
	}
	for _, d := range []string{"index", "index/task-1", "index/task-2"} {
		if fi, err := os.Stat(filepath.Join(dir, "work", d)); err != nil || !fi.IsDir() {
			t.Errorf("task directory %s: %v", d, err)
		}
	}
	started := func(task string) int {
		if task == "0" {
			return countLines(logs, `msg="connector running"`, "connector=index") - countLines(logs, `msg="connector running"`, "connector=index", "task=")
		}
		return countLines(logs, `msg="connector running"`, "connector=index", "task="+task)
	}
	for _, task := range []string{"0", "1", "2"} {
		if n := started(task); n != 1 {
			t.Fatalf("task %s started %d times, want once", task, n)
		}
	}

	if err := sup.RestartTask(ctx, "index", "1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, sup, "index", "task 1 RUNNING again", func(s daemon.Status) bool { return started("1") == 2 && s.Tasks[1].State == daemon.Running })
	if started("0") != 1 || started("2") != 1 {
		t.Fatalf("restarting task 1 restarted others: task 0 started %d times, task 2 %d", started("0"), started("2"))
	}
	if err := sup.RestartTask(ctx, "index", "3"); err == nil || err.Error() != "Task index-3 not found" {
		t.Fatalf("restart of task 3 of 3: %v", err)
	}

	cfg["tasks.max"] = "2"
	if _, _, err := sup.PutConfig(ctx, "index", cfg); err != nil {
		t.Fatal(err)
	}
	got = waitFor(t, sup, "index", "two tasks RUNNING", func(s daemon.Status) bool {
		return len(s.Tasks) == 2 && s.Tasks[0].State == daemon.Running && s.Tasks[1].State == daemon.Running
	})
	if want := sinkTasks("index", daemon.Running, 2); !reflect.DeepEqual(got, want) {
		t.Fatalf("status after tasks.max=2:\n got %+v\nwant %+v", got, want)
	}

	if err := sup.Pause(ctx, "index"); err != nil {
		t.Fatal(err)
	}
	if got, want := waitState(t, sup, "index", daemon.Paused), sinkTasks("index", daemon.Paused, 2); !reflect.DeepEqual(got, want) {
		t.Fatalf("status after pause:\n got %+v\nwant %+v", got, want)
	}
}
