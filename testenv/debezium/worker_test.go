package debezium_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/sluice-cdc/sluice/testenv"
	"github.com/sluice-cdc/sluice/testenv/debezium"
)

func TestMain(m *testing.M) {
	code := m.Run()
	debezium.StopShared()
	os.Exit(code)
}

// The worker serves Kafka Connect 4.3.0 with Debezium's Postgres and MySQL
// connectors 3.6.1.Final and the JSON converter.
func TestWorkerServesDebezium(t *testing.T) {
	w := debezium.Shared(t, testenv.KafkaBrokers(t))
	resp, err := http.Get(w.URL + "/connector-plugins?connectorsOnly=false")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var plugins []struct {
		Class   string `json:"class"`
		Version string `json:"version"`
	}
	if err := json.Unmarshal(body, &plugins); err != nil {
		t.Fatalf("connector-plugins %s: %v", body, err)
	}
	got := map[string]string{}
	for _, p := range plugins {
		got[p.Class] = p.Version
	}
	for class, version := range map[string]string{
		"io.debezium.connector.postgresql.PostgresConnector": "3.6.1.Final",
		"io.debezium.connector.mysql.MySqlConnector":         "3.6.1.Final",
		"org.apache.kafka.connect.json.JsonConverter":        "4.3.0",
	} {
		if got[class] != version {
			t.Errorf("plugin %s: version %q, want %s (plugins: %s)", class, got[class], version, strings.TrimSpace(string(body)))
		}
	}
}
