package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-cdc/sluice/testenv"
)

// TestAPIMatchesItsOpenAPIDocument lets a property-based fuzzer loose on the
// running daemon's REST API, driven by the daemon's own /openapi.json: no
// request may get a 5xx, and every response must match the document.
func TestAPIMatchesItsOpenAPIDocument(t *testing.T) {
	fuzzer := testenv.PyTool(t, "schemathesis") // daemon/api/testdata/install_schemathesis.sh
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sluice.json")
	writeJSON(t, cfg, `{"state.dir": "`+dir+`/state", "kafka": {"embedded": {"listen": "`+freeAddr(t)+`"}}, "registry": {"listen": "`+freeAddr(t)+`"}}`)
	d := startDaemon(t, []string{"SLUICE_REST_LISTEN=127.0.0.1:0"}, "--config", cfg)
	// A schema-valid config can still be refused (an unknown class, an
	// unreachable database), which no static document can express, so the
	// "positive data must be accepted" check does not apply.
	cmd := exec.Command(fuzzer, "run", d.base+"/openapi.json", "--url", d.base,
		"--checks", "all", "--exclude-checks", "positive_data_acceptance",
		"--max-examples", "30", "--seed", "1", "--workers", "1", "--no-color")
	cmd.Dir = t.TempDir() // schemathesis keeps a cache in its working directory
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("schemathesis found problems: %v\n%s\ndaemon log:\n%s", err, out, d.log())
	}
	if !strings.Contains(string(out), "passed") {
		t.Fatalf("schemathesis ran no test:\n%s", out)
	}
	t.Logf("%s", out[max(0, len(out)-400):])
}
