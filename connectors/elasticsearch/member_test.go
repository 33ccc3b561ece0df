package elasticsearch

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

func TestInstanceIDIsKeptInTheStateDirectory(t *testing.T) {
	if id, err := instanceID("", "orders"); id != "" || err != nil {
		t.Fatalf("without a state directory: %q, %v; want dynamic membership", id, err)
	}
	dir := filepath.Join(t.TempDir(), "orders")
	first, err := instanceID(dir, "orders")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^sluice-orders-[0-9a-f]{16}$`).MatchString(first) {
		t.Fatalf("id %q, want sluice-orders- and 16 hex digits", first)
	}
	again, err := instanceID(dir, "orders")
	if err != nil || again != first {
		t.Fatalf("after a restart: %q, %v; want %q", again, err, first)
	}
	other, _ := instanceID(filepath.Join(t.TempDir(), "orders"), "orders")
	if other == first {
		t.Fatalf("two state directories share the id %q", first)
	}
	b, err := os.ReadFile(filepath.Join(dir, instanceFile))
	if err != nil || string(b) != first+"\n" {
		t.Fatalf("state file holds %q, %v; want %q", b, err, first+"\n")
	}
}
