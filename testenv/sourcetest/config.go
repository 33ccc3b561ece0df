package sourcetest

import (
	"io"
	"log/slog"
	"maps"
	"strings"
	"testing"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/testenv/offsetstest"
)

// testConfig checks the configuration as the daemon checks it (Spec.Parse,
// then NewSource): the driver's configuration is accepted; without any one
// required key, or with an unknown key, it is refused with an error that
// names the key.
func testConfig(t *testing.T, d Driver) {
	db := d.NewDatabase(t)
	cfg := db.Config()
	env := connectors.Env{Name: "acceptance", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Offsets: &offsetstest.Memory{}, StateDir: t.TempDir()}
	check := func(raw map[string]string) error {
		_, _, _, err := parse(d.Class(), raw, env)
		return err
	}
	if err := check(cfg); err != nil {
		t.Fatalf("the driver's configuration is refused: %v", err)
	}
	if len(d.RequiredKeys()) == 0 {
		t.Error("the driver names no required key")
	}
	for _, key := range d.RequiredKeys() {
		t.Run("without "+key, func(t *testing.T) {
			if _, ok := cfg[key]; !ok {
				t.Fatalf("the driver's configuration has no %s to leave out", key)
			}
			raw := maps.Clone(cfg)
			delete(raw, key)
			err := check(raw)
			if err == nil || !strings.Contains(err.Error(), key) {
				t.Errorf("without %s: error %v, want one that names %s", key, err, key)
			}
		})
	}
	for _, key := range []string{"table.include.lists", "database.hostnme", "acceptance.unknown"} {
		t.Run("unknown key "+key, func(t *testing.T) {
			err := check(with(cfg, key, "x"))
			if err == nil || !strings.Contains(err.Error(), key) {
				t.Errorf("with %s: error %v, want one that names %s", key, err, key)
			}
		})
	}
}
