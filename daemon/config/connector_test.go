package config_test

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/sluice-cdc/sluice/daemon/config"
	_ "github.com/sluice-cdc/sluice/daemon/internal/testclass"
)

func TestParseConnectorNormalizesValues(t *testing.T) {
	data, err := os.ReadFile("../../examples/connectors/orders/elasticsearch-sink-connector.json")
	if err != nil {
		t.Fatal(err)
	}
	c, ps := config.ParseConnector(data, "es.json")
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	want := config.Connector{Name: "elasticsearch-sink-connector", File: "es.json", Config: map[string]string{
		"connector.class":         "io.confluent.connect.elasticsearch.ElasticsearchSinkConnector",
		"connection.url":          "http://elasticsearch:9200",
		"topics":                  "cdc-orders,myapp.orders_db.orders",
		"type.name":               "_doc",
		"key.ignore":              "false",
		"schema.ignore":           "true",
		"behavior.on.null.values": "delete",
		"write.method":            "upsert",
		"batch.size":              "200",
		"max.buffered.records":    "5000",
		"flush.timeout.ms":        "10000",
	}}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("parsed:\n got %+v\nwant %+v", c, want)
	}
}

func TestParseConnectorProblems(t *testing.T) {
	tests := []struct {
		name, doc string
		want      config.Problems
	}{
		{"bad JSON", `{"name": "a", "config": {`, config.Problems{{File: "f.json", Message: "invalid connector JSON: unexpected EOF"}}},
		{"unknown top-level key", `{"name": "a", "config": {}, "tasks": []}`,
			config.Problems{{File: "f.json", Message: `invalid connector JSON: unknown key "tasks" (a connector has name, config and initial_state)`}}},
		{"missing name and config", `{}`, config.Problems{
			{File: "f.json", Key: "name", Message: "missing: a connector needs a name"},
			{File: "f.json", Key: "config", Message: "missing: a connector needs a config object"}}},
		{"nested values, null, mismatched name, bad initial state", `{"name": "a", "initial_state": "gone",
			"config": {"x": {"y": 1}, "l": [1], "n": null, "name": "b", "ok": 1.5}}`, config.Problems{
			{File: "f.json", Connector: "a", Key: "l", Message: "must be a string, number or boolean, not an array"},
			{File: "f.json", Connector: "a", Key: "n", Message: "must be a string, number or boolean, not null"},
			{File: "f.json", Connector: "a", Key: "x", Message: "must be a string, number or boolean, not an object"},
			{File: "f.json", Connector: "a", Key: "initial_state", Message: `invalid value "gone": must be RUNNING, PAUSED or STOPPED`},
			{File: "f.json", Connector: "a", Key: "name", Message: `the config's name "b" does not match the connector's name "a"`}}},
		{"names", `{"name": "a/b\n", "config": {}}`, config.Problems{{File: "f.json", Connector: "a/b", Key: "name", Message: "must not contain '/'"}}},
		{"config not an object", `{"name": "a", "config": "x"}`, config.Problems{
			{File: "f.json", Connector: "a", Message: "the config must be an object of string values, not a JSON string"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ps := config.ParseConnector([]byte(tc.doc), "f.json")
			if !reflect.DeepEqual(ps, tc.want) {
				t.Fatalf("problems:\n got %#v\nwant %#v", ps, tc.want)
			}
		})
	}
}

func TestLoadDirFindsDuplicates(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("a.json", `{"name": "x", "config": {"connector.class": "sluice-test", "initial_state": "x"}}`)
	write("b.json", `{"name": "x", "config": {"connector.class": "sluice-test"}}`)
	write("c.json", `{"name": "y", "config": {"connector.class": "sluice-test"}, "initial_state": "paused"}`)
	write("notes.txt", `ignored`)
	got, ps := config.LoadDir(dir)
	want := config.Problems{{File: filepath.Join(dir, "b.json"), Connector: "x", Key: "name", Message: "defined twice: also in " + filepath.Join(dir, "a.json")}}
	if !reflect.DeepEqual(ps, want) {
		t.Fatalf("problems:\n got %#v\nwant %#v", ps, want)
	}
	if len(got) != 2 || got[0].Name != "x" || got[1].Name != "y" || got[1].InitialState != "PAUSED" || got[1].File != filepath.Join(dir, "c.json") {
		t.Fatalf("connectors = %+v", got)
	}
	if _, ps := config.LoadDir(filepath.Join(dir, "missing")); len(ps) != 1 || ps[0].Message[:36] != "cannot read the connectors directory" {
		t.Fatalf("missing directory: %v", ps)
	}
}
