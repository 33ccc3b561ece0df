package embedded

import (
	"os"
	"strings"
	"testing"

	"github.com/sluice-cdc/sluice/testenv/openapitest"
)

// TestOpenAPIDescribesEveryRoute checks that testdata/openapi.json, the document cmd/sluice's
// TestRegistryMatchesItsOpenAPIDocument fuzzes the registry with, has an operation for each
// method of each route and nothing else.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	doc, err := os.ReadFile("testdata/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var served []string
	for _, rt := range (&Registry{}).table() {
		for method := range rt.methods {
			served = append(served, method+" "+strings.TrimSuffix(rt.path, "{$}"))
		}
	}
	openapitest.DescribesExactly(t, doc, served)
}
