package sourcetest

import (
	"encoding/json"
	"os"
	"testing"
)

// ConnectorConfig reads the config of a connector file as Kafka Connect
// takes it ({"name": …, "config": {key: value, …}}), such as the Debezium
// configurations users run today that a source's tests keep under
// testdata; it fails the test when the file cannot be read.
func ConnectorConfig(t testing.TB, path string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Config map[string]string `json:"config"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return doc.Config
}
