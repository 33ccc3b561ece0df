package main

import (
	"encoding/json"
	"maps"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// TestFaultLifecycleRaces drives a source connector through the REST API
// the way a hurried user would — create, pause, resume, stop, restart,
// update its configuration, restart the daemon — each step right after
// the previous one, under a steady workload, and proves that RUNNING
// means capturing: every change committed after the status first said
// RUNNING arrives, once (every stop here is clean), in order per key.
func TestFaultLifecycleRaces(t *testing.T) {
	for _, src := range []faultSource{onPostgres, onMariaDB} {
		t.Run(src.String(), func(t *testing.T) {
			t.Run("no_data", func(t *testing.T) { lifecycleRaces(t, src, "no_data", 0) })
			t.Run("during the snapshot", func(t *testing.T) { lifecycleRaces(t, src, "initial", byLength(400, 3000)) })
		})
	}
}

// lifecycleRaces runs the races on a connector with snapshot.mode mode,
// created after preload transactions were committed.
func lifecycleRaces(t *testing.T, src faultSource, mode string, preload int) {
	r := newFaultRig(t, src, rigOptions{viaREST: true, keys: map[string]string{"snapshot.mode": mode, "snapshot.fetch.size": "50"}})
	ctx := t.Context()
	r.steps(preload)
	d := r.start()
	stopWriter := r.writer.Start(ctx, 100)
	time.Sleep(100 * time.Millisecond)

	// Created, then paused the moment it says RUNNING; resumed while the
	// workload goes on.
	d.expect("POST", "/connectors", connectorJSON("source", r.source), 201, "")
	r.waitState("RUNNING", 60*time.Second)
	from := r.writer.Next()
	d.expect("PUT", "/connectors/source/pause", "", 202, "")
	r.waitState("PAUSED", 10*time.Second)
	time.Sleep(200 * time.Millisecond)
	d.expect("PUT", "/connectors/source/resume", "", 202, "")

	fetch := 50
	steps := map[string]func(){
		"pause, resume": func() {
			d.expect("PUT", "/connectors/source/pause", "", 202, "")
			d.expect("PUT", "/connectors/source/resume", "", 202, "")
		},
		"pause, resume, pause, resume before RUNNING": func() {
			d.expect("PUT", "/connectors/source/pause", "", 202, "")
			d.expect("PUT", "/connectors/source/resume", "", 202, "")
			d.expect("PUT", "/connectors/source/pause", "", 202, "")
			time.Sleep(100 * time.Millisecond)
			d.expect("PUT", "/connectors/source/resume", "", 202, "")
		},
		"stop, resume": func() {
			d.expect("PUT", "/connectors/source/stop", "", 202, "")
			r.waitState("STOPPED", 10*time.Second)
			time.Sleep(100 * time.Millisecond)
			d.expect("PUT", "/connectors/source/resume", "", 202, "")
		},
		"restart": func() {
			d.expect("POST", "/connectors/source/restart?includeTasks=true", "", 202, "")
		},
		"restart twice": func() {
			d.expect("POST", "/connectors/source/restart", "", 204, "")
			d.expect("POST", "/connectors/source/restart", "", 204, "")
		},
		"configuration updated": func() {
			fetch = 150 - fetch
			cfg := maps.Clone(r.source)
			cfg["snapshot.fetch.size"] = strconv.Itoa(fetch)
			body, _ := json.Marshal(cfg)
			d.expect("PUT", "/connectors/source/config", string(body), 200, "")
		},
		"daemon restarted": func() {
			d.terminate(20 * time.Second)
			time.Sleep(100 * time.Millisecond)
			d = r.start()
		},
	}
	names := make([]string, 0, len(steps))
	for n := range steps {
		names = append(names, n)
	}
	rounds := byLength(1, 4)
	var slowest time.Duration
	for round := range rounds {
		rand.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
		for _, n := range names {
			r.waitState("RUNNING", 60*time.Second)
			steps[n]()
			took := r.waitState("RUNNING", 60*time.Second)
			slowest = max(slowest, took)
			t.Logf("round %d: %s; RUNNING again in %v", round+1, n, took.Round(time.Millisecond))
		}
	}
	time.Sleep(300 * time.Millisecond)
	if err := stopWriter(); err != nil {
		t.Fatalf("workload: %v", err)
	}
	rep, took := r.verify(from, false)
	t.Logf("%d transactions; %s; caught up %v after the workload; slowest return to RUNNING %v",
		r.writer.Transactions(), rep, took.Round(time.Millisecond), slowest.Round(time.Millisecond))
	if mode != "no_data" {
		t.Logf("replayed by key: %s", r.verifyState())
	}
	d.terminate(20 * time.Second)
}
