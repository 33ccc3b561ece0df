package main

import (
	"bufio"
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

// TestReferenceMarksWhatSluiceDoesWithEachKey spot-checks the status column
// of the generated reference: a refused key with what to do instead, a key
// without effect with why, and a supported one.
func TestReferenceMarksWhatSluiceDoesWithEachKey(t *testing.T) {
	page := referencePages()["postgres.md"]
	for _, want := range []string{
		"| `slot.failover` | string | false |  | not supported | create the slot yourself",
		"| `max.queue.size` | string |  |  | no effect | sluice batches events itself",
		"| `topic.prefix` | string | (required) |  | supported |",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("postgres.md lacks %q", want)
		}
	}
}
