package runtime

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluice-cdc/sluice/connectors/metrics"
	"github.com/sluice-cdc/sluice/daemon/config"
)

// The embedded registry asks for the REST API's credentials, and the
// daemon's own registry client gives them: a basic user, or else a token.
func TestTheDaemonAuthenticatesToItsEmbeddedRegistry(t *testing.T) {
	for name, auth := range map[string]string{
		"user and tokens": `{"user": "admin", "password": "pw", "tokens": ["first-token-0123456", "second-token-012345"]}`,
		"tokens only":     `{"tokens": ["first-token-0123456", "second-token-012345"]}`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "sluice.json")
			cfg := `{"state.dir": "` + dir + `", "rest": {"auth": ` + auth + `}, "registry": {"listen": "127.0.0.1:0"}, "kafka": {"embedded": {"listen": "127.0.0.1:0"}}}`
			if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			d, err := config.Load(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			r, err := New(t.Context(), d, slog.New(slog.DiscardHandler), metrics.NewRegistry())
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if _, err := r.registry.Register(t.Context(), "orders", false, `{"type": "record", "name": "Order", "fields": [{"name": "id", "type": "long"}]}`); err != nil {
				t.Fatalf("register through the daemon's client: %v", err)
			}
		})
	}
}
