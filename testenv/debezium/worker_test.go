package debezium_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/sluice-cdc/sluice/testenv"
	"github.com/sluice-cdc/sluice/testenv/debezium"
)

// The workers serve Kafka Connect 4.3.0 with Debezium's connectors and the
// JSON converter: Postgres and MySQL 3.6.1.Final, and MariaDB 3.5.0.Final.
func TestWorkerServesDebezium(t *testing.T) {
	for _, tc := range []struct {
		dist debezium.Distribution
		want map[string]string
	}{
		{debezium.Current, map[string]string{
			"io.debezium.connector.postgresql.PostgresConnector": "3.6.1.Final",
			"io.debezium.connector.mysql.MySqlConnector":         "3.6.1.Final",
			"org.apache.kafka.connect.json.JsonConverter":        "4.3.0",
		}},
		{debezium.MariaDB, map[string]string{
			"io.debezium.connector.mariadb.MariaDbConnector": "3.5.0.Final",
			"org.apache.kafka.connect.json.JsonConverter":    "4.3.0",
		}},
	} {
		t.Run(tc.dist.Name, func(t *testing.T) { checkPlugins(t, debezium.Start(t, tc.dist, testenv.KafkaBrokers(t)), tc.want) })
	}
}

func checkPlugins(t *testing.T, w *debezium.Worker, want map[string]string) {
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
	for class, version := range want {
		if got[class] != version {
			t.Errorf("plugin %s: version %q, want %s (plugins: %s)", class, got[class], version, strings.TrimSpace(string(body)))
		}
	}
}
