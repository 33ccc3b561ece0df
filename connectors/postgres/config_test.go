package postgres

import (
	"strings"
	"testing"

	"github.com/sluice-cdc/sluice/testenv/sourcetest"
)

// seedConfig reads the Debezium Postgres connector JSON users run today.
func seedConfig(t *testing.T) map[string]string {
	t.Helper()
	return sourcetest.ConnectorConfig(t, "testdata/postgresql-source-connector.json")
}

// The seed config parses as written; its transforms.* keys are kept for the
// transform chain, which the daemon builds and checks.
func TestSeedConfigParses(t *testing.T) {
	raw := seedConfig(t)
	c, err := Spec.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if w := c.Warnings(); len(w) != 1 || w[0].Key != "database.server.name" {
		t.Errorf("warnings = %v, want the obsolete database.server.name", w)
	}
	cfg, err := ParseConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Slot != "debezium_slot" || cfg.Publication != "dbz_publication" || cfg.TopicPrefix != "cdc" || cfg.DBName != "orders_db" || cfg.Port != 5432 {
		t.Errorf("cfg = %+v", cfg)
	}
	if !cfg.Filter.Table("public", "orders") || !cfg.Filter.Table("public", "order_items") || cfg.Filter.Table("public", "orders_archive") {
		t.Error("table.include.list must match whole names only")
	}
	if c.Raw()["transforms.route.replacement"] != "cdc-$3" {
		t.Errorf("the transform keys were not kept: %v", c.Raw())
	}
	if cfg.SnapshotMode != "initial" || cfg.DecimalMode != "precise" || !cfg.Tombstones || cfg.Producer.Compression != "zstd" || cfg.Producer.MaxRequestSize != 16<<20 {
		t.Errorf("defaults wrong: %+v", cfg)
	}
	if got := cfg.Redacted(); strings.Contains(got, "password") || got != "debezium@postgres:5432/orders_db" {
		t.Errorf("Redacted() = %q", got)
	}
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	cases := []struct {
		name string
		set  map[string]string
		want string
	}{
		{"plugin", map[string]string{"plugin.name": "wal2json"}, `plugin.name: unsupported plugin "wal2json"`},
		{"slot", map[string]string{"slot.name": "Bad-Slot"}, `slot.name: invalid slot name "Bad-Slot"`},
		{"snapshot mode", map[string]string{"snapshot.mode": "sometimes"}, `snapshot.mode: invalid value "sometimes": must be one of initial, initial_only, no_data, never, when_needed, always`},
		{"port", map[string]string{"database.port": "x"}, `database.port: invalid value "x": not an integer`},
		{"unknown", map[string]string{"database.hostnme": "x"}, `database.hostnme: unknown configuration key`},
		{"key columns", map[string]string{"message.key.columns": "public.t"}, `message.key.columns: invalid entry "public.t": want schema.table:column[,column]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw := map[string]string{"connector.class": "postgres", "database.hostname": "h", "database.user": "u", "database.dbname": "d", "topic.prefix": "p"}
			for k, v := range tc.set {
				raw[k] = v
			}
			_, err := Spec.Parse(raw)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("err = %v, want prefix %q", err, tc.want)
			}
		})
	}
}

func TestIncludeAndExcludeListsCannotCombine(t *testing.T) {
	c, err := Spec.Parse(map[string]string{"connector.class": "postgres", "database.hostname": "h", "database.user": "u", "database.dbname": "d", "topic.prefix": "p",
		"table.include.list": "a.b", "table.exclude.list": "a.c"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ParseConfig(c)
	if err == nil || err.Error() != "table.exclude.list: cannot be combined with table.include.list; use one of them" {
		t.Errorf("err = %v", err)
	}
}

// The kafka signal channel reads the topic Debezium's does, named after
// topic.prefix unless signal.kafka.topic is given, and needs its brokers.
func TestKafkaSignalChannelConfig(t *testing.T) {
	base := map[string]string{"connector.class": "postgres", "database.hostname": "h", "database.user": "u", "database.dbname": "d", "topic.prefix": "p",
		"signal.enabled.channels": "source,kafka"}
	parse := func(set map[string]string) (*Config, error) {
		raw := map[string]string{}
		for k, v := range base {
			raw[k] = v
		}
		for k, v := range set {
			raw[k] = v
		}
		c, err := Spec.Parse(raw)
		if err != nil {
			return nil, err
		}
		return ParseConfig(c)
	}
	cfg, err := parse(map[string]string{"signal.kafka.bootstrap.servers": "k1:9092, k2:9092"})
	if err != nil {
		t.Fatal(err)
	}
	if k := cfg.KafkaSignals; k == nil || k.Topic != "p-signal" || k.Group != "kafka-signal" || k.Key != "p" || strings.Join(k.Brokers, ",") != "k1:9092,k2:9092" {
		t.Errorf("kafka signals = %+v", cfg.KafkaSignals)
	}
	for set, want := range map[string]string{
		"":                                      "signal.kafka.bootstrap.servers: missing: signal.enabled.channels has kafka, which reads signals from these brokers",
		"signal.enabled.channels=source,jmx":    `signal.enabled.channels: unsupported signal channel "jmx": sluice reads signals from the signal table (source), a Kafka topic (kafka) and its REST API (POST /connectors/{name}/snapshots)`,
		"signal.consumer.security.protocol=SSL": "signal.consumer.security.protocol: not supported by sluice: the kafka channel's consumer takes no extra properties",
	} {
		m := map[string]string{}
		if k, v, ok := strings.Cut(set, "="); ok {
			m[k] = v
		}
		if _, err := parse(m); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: err = %v, want prefix %q", set, err, want)
		}
	}
}
