package main

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/testenv"
)

// TestDemo runs `make demo`'s script as it runs without a terminal, on the
// test Postgres: it must show the snapshot and the three changes on the
// live stream in order, both connectors RUNNING, then stop what it started
// and say that Postgres keeps running.
func TestDemo(t *testing.T) {
	pg := testenv.PostgresURL(t)
	cmd := exec.Command("bash", "../../examples/demo/demo.sh")
	cmd.Env = append(os.Environ(), "SLUICE_TEST_PG_URL="+pg, "SLUICE_BIN="+sluiceBinary(t))
	var out, errs strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("demo: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errs.String())
		}
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("demo still running after 2 minutes\nstdout:\n%s\nstderr:\n%s", out.String(), errs.String())
	}
	events := regexp.MustCompile(`(?m)^event: (\w)\ndata: \{"id":(\d)`).FindAllStringSubmatch(out.String(), -1)
	var got []string
	for _, e := range events {
		got = append(got, e[1]+" "+e[2])
	}
	if want := "r 1, r 2, c 3, u 1, d 2"; strings.Join(got, ", ") != want {
		t.Errorf("events %v, want %s\nstdout:\n%s", got, want, out.String())
	}
	for _, want := range []string{`"orders-stream":{"status":{"name":"orders-stream","connector":{"state":"RUNNING"`, `"shop":{"status":{"name":"shop","connector":{"state":"RUNNING"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status lacks %s\nstdout:\n%s", want, out.String())
		}
	}
	if want := "Postgres was running before the demo and keeps running.\n"; !strings.HasSuffix(errs.String(), want) {
		t.Errorf("stderr does not end with %q:\n%s", want, errs.String())
	}
	if strings.Contains(errs.String(), "Kafka") || strings.Contains(errs.String(), "Elasticsearch:") {
		t.Errorf("the demo prints about services it does not use:\n%s", errs.String())
	}
}
