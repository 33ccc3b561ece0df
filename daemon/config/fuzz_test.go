package config

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseConnector: any document either parses into a connector whose
// name passes CheckName and whose JSON form parses back to the same
// connector, or is refused with problems; it never panics.
func FuzzParseConnector(f *testing.F) {
	for _, seed := range []string{
		`{"name": "orders", "config": {"connector.class": "postgres", "database.port": 5432, "snapshot": true}}`,
		`{"name": " a ", "config": {"name": "a", "k": null}, "initial_state": "paused"}`,
		`{"name": "../etc", "config": {}}`,
		`{"name": "a\u0000b", "config": {}}`,
		`{"name": "a%2Fb", "config": {"x": 1.5e300}}`,
		`{"name": "x", "config": {"k": {"nested": 1}}}`,
		`{"name": "x", "config": []}`,
		`{"name": "x", "config": {}} {"name": "y"}`,
		`{"name": 7}`,
		`[`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, ps := ParseConnector(data, "")
		if len(ps) > 0 {
			for _, p := range ps {
				if p.Message == "" {
					t.Fatalf("a problem without a message: %+v", p)
				}
			}
			return
		}
		if len(CheckName(c.Name)) > 0 || c.Name != strings.TrimSpace(c.Name) {
			t.Fatalf("accepted name %q", c.Name)
		}
		again, err := json.Marshal(map[string]any{"name": c.Name, "config": c.Config})
		if err != nil {
			t.Fatal(err)
		}
		back, ps := ParseConnector(again, "")
		if len(ps) > 0 || back.Name != c.Name || !reflect.DeepEqual(back.Config, c.Config) {
			t.Fatalf("%s parsed as %+v, its JSON form %s as %+v (%v)", data, c, again, back, ps)
		}
	})
}
