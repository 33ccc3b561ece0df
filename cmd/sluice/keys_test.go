package main

import (
	"bufio"
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/sluice-cdc/sluice/connectors"
)

// TestDebeziumKeysDeclared checks that every key Debezium 3.6.1's Postgres
// and MySQL connectors declare is declared by sluice's class, so it is
// supported, accepted without effect or refused with what to do — never
// answered as an unknown key.
func TestDebeziumKeysDeclared(t *testing.T) {
	// The ConfigDef names key families by their regular expressions.
	example := strings.NewReplacer(`(d+)`, "12", `([^.]+)`, "SHA-256", `(.+)`, "CzQMA0cB5K")
	for class, file := range map[string]string{"postgres": "postgres.txt", "mysql": "mysql.txt"} {
		c, ok := connectors.Lookup(class)
		if !ok {
			t.Fatalf("class %s is not registered", class)
		}
		f, err := os.Open("testdata/debezium-keys/" + file)
		if err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(f)
		n := 0
		for lines.Scan() {
			name := strings.TrimSpace(lines.Text())
			if name == "" || strings.HasPrefix(name, "#") {
				continue
			}
			n++
			if _, ok := c.Spec.Lookup(example.Replace(name)); !ok {
				t.Errorf("%s: Debezium's key %s is not declared", class, name)
			}
		}
		f.Close()
		if n < 100 {
			t.Errorf("%s: only %d Debezium keys read", class, n)
		}
	}
}

// TestConnectorKeysDoc checks that docs/connector-keys.md is what
// `sluice keys` prints; SLUICE_UPDATE_DOCS=1 rewrites it.
func TestConnectorKeysDoc(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run(t.Context(), []string{"keys"}, &out, &errs); code != exitOK {
		t.Fatalf("sluice keys: exit %d: %s", code, errs.String())
	}
	const path = "../../docs/connector-keys.md"
	if os.Getenv("SLUICE_UPDATE_DOCS") == "1" {
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(doc, out.Bytes()) {
		t.Errorf("%s is not what sluice keys prints; run SLUICE_UPDATE_DOCS=1 go test -run TestConnectorKeysDoc ./cmd/sluice", path)
	}
	for _, want := range []string{
		"| `slot.failover` | not supported | false | create the slot yourself",
		"| `max.queue.size` | no effect |  | sluice batches events itself",
		"| `topic.prefix` | supported | (required) |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("sluice keys lacks %q", want)
		}
	}
}
