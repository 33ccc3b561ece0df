// Package openapitest checks that an OpenAPI document describes exactly the
// endpoints an HTTP API serves: the REST API's /openapi.json and the embedded
// schema registry's testdata/openapi.json.
package openapitest

import (
	"encoding/json"
	"strings"
	"testing"
)

// DescribesExactly fails the test unless doc is an OpenAPI 3.0.3 document
// with an operation, with responses, for each of served ("GET /path/{name}")
// and for nothing else.
func DescribesExactly(t testing.TB, doc []byte, served []string) {
	t.Helper()
	var d struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(doc, &d); err != nil || d.OpenAPI != "3.0.3" {
		t.Fatalf("OpenAPI document: %v, version %q, want 3.0.3", err, d.OpenAPI)
	}
	described := map[string]bool{}
	for path, ops := range d.Paths {
		for method, op := range ops {
			if method == "parameters" {
				continue
			}
			var o struct {
				Responses map[string]json.RawMessage `json:"responses"`
			}
			if json.Unmarshal(op, &o) != nil || len(o.Responses) == 0 {
				t.Errorf("%s %s: no responses", method, path)
			}
			described[strings.ToUpper(method)+" "+path] = true
		}
	}
	for _, key := range served {
		if !described[key] {
			t.Errorf("%s is not in the OpenAPI document", key)
		}
		delete(described, key)
	}
	for key := range described {
		t.Errorf("the OpenAPI document describes %s, which is not served", key)
	}
}
