package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestReferenceDocsAreCurrent checks that docs/reference holds exactly what
// `sluice docs` writes; SLUICE_UPDATE_DOCS=1 rewrites it.
func TestReferenceDocsAreCurrent(t *testing.T) {
	const dir = "../../docs/reference"
	if os.Getenv("SLUICE_UPDATE_DOCS") == "1" {
		os.RemoveAll(dir)
		if code, _, errs := sluice(t, "docs", "--dir", dir); code != exitOK {
			t.Fatalf("sluice docs: exit %d: %s", code, errs)
		}
	}
	tmp := t.TempDir()
	code, out, errs := sluice(t, "docs", "--dir", tmp)
	if code != exitOK || out != "wrote the configuration reference to "+tmp+"\n" || errs != "" {
		t.Fatalf("sluice docs: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	names := func(d string) []string {
		entries, err := os.ReadDir(d)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return out
	}
	want, got := names(tmp), names(dir)
	if !slices.Equal(got, want) {
		t.Fatalf("%s holds %v, sluice docs writes %v; run SLUICE_UPDATE_DOCS=1 go test -run TestReferenceDocsAreCurrent ./cmd/sluice", dir, got, want)
	}
	for _, n := range want {
		w, _ := os.ReadFile(filepath.Join(tmp, n))
		g, _ := os.ReadFile(filepath.Join(dir, n))
		if string(g) != string(w) {
			t.Errorf("%s/%s is not what sluice docs writes; run SLUICE_UPDATE_DOCS=1 go test -run TestReferenceDocsAreCurrent ./cmd/sluice", dir, n)
		}
	}
	for _, c := range []struct{ page, want string }{
		{"postgres.md", "| `publication.autocreate.mode` | string | all_tables | all_tables, filtered, disabled | supported |"},
		{"postgres.md", "A connector in place of Debezium's `io.debezium.connector.postgresql.PostgresConnector`."},
		{"postgres.md", "| `database.port` | int | 5432 | 1 to 65535 | supported |"},
		{"sse.md", "A connector of sluice's own, with no Debezium or Confluent equivalent."},
		{"daemon.md", "| `kafka.bootstrap.servers` | `SLUICE_KAFKA_BOOTSTRAP_SERVERS` | string |  | `bootstrap.servers` |"},
		{"daemon.md", "| `value.converter.class` | `SLUICE_VALUE_CONVERTER_CLASS` | string |  | `value.converter` |"},
		{"README.md", "- [`elasticsearch`](elasticsearch.md): sink in place of Confluent's `io.confluent.connect.elasticsearch.ElasticsearchSinkConnector`."},
	} {
		page, _ := os.ReadFile(filepath.Join(tmp, c.page))
		if !strings.Contains(string(page), c.want) {
			t.Errorf("%s lacks %q", c.page, c.want)
		}
	}
}
