package mysql_test

import (
	"strings"
	"testing"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/mysql"
	"github.com/sluice-cdc/sluice/testenv/sourcetest"
)

// seedConfig reads the Debezium MySQL connector JSON users run today.
func seedConfig(t *testing.T) map[string]string {
	t.Helper()
	return sourcetest.ConnectorConfig(t, "testdata/mysql-source-connector.json")
}

func TestSeedConfigParses(t *testing.T) {
	c, err := mysql.Spec.Parse(seedConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if w := c.Warnings(); len(w) != 0 {
		t.Errorf("warnings = %v", w)
	}
	cfg, err := mysql.ParseConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr() != "mysql-server:3306" || cfg.ServerID != 1 || cfg.TopicPrefix != "myapp" || cfg.Redacted() != "debezium@mysql-server:3306" {
		t.Errorf("cfg = %+v", cfg)
	}
	if !cfg.Filter.Table("orders_db", "orders") || !cfg.Filter.Table("orders_db", "order_items") || cfg.Filter.Table("orders_db", "orders_archive") || cfg.Filter.Table("other", "orders") {
		t.Error("filters must keep exactly orders_db.orders and orders_db.order_items")
	}
	if cfg.SnapshotMode != "initial" || cfg.LockingMode != "minimal" || !cfg.SchemaChanges || !cfg.Tombstones || cfg.TimeMode.String() != "adaptive_time_microseconds" || cfg.BigInt != mysql.BigIntUnsignedLong {
		t.Errorf("defaults wrong: %+v", cfg)
	}
	if cfg.Connector != "mysql" {
		t.Errorf("connector = %q, want mysql", cfg.Connector)
	}
}

// Configured as Debezium's MariaDB connector, the source writes what that
// connector writes: source.connector mariadb and its schema names.
func TestClassNamesTheConnector(t *testing.T) {
	for name, want := range map[string]string{
		"mysql": "mysql", "io.debezium.connector.mysql.MySqlConnector": "mysql",
		"mariadb": "mariadb", "io.debezium.connector.mariadb.MariaDbConnector": "mariadb",
	} {
		if c, ok := connectors.Lookup(name); !ok || c.Spec != mysql.Spec || c.Connector != want || c.Output == nil {
			t.Errorf("class %s not registered as the MySQL source writing connector %s", name, want)
		}
		raw := seedConfig(t)
		raw["connector.class"] = name
		c, err := mysql.Spec.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := mysql.ParseConfig(c)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Connector != want {
			t.Errorf("%s: connector = %q, want %q", name, cfg.Connector, want)
		}
	}
	raw := seedConfig(t)
	raw["connector.class"] = "postgres"
	c, err := mysql.Spec.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mysql.ParseConfig(c); err == nil || !strings.Contains(err.Error(), `connector.class: "postgres" is not a class of the MySQL and MariaDB source`) {
		t.Errorf("ParseConfig of a postgres class: %v", err)
	}
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	for _, key := range []string{"connector.class", "database.hostname", "database.user", "database.server.id", "topic.prefix"} {
		raw := seedConfig(t)
		delete(raw, key)
		_, err := mysql.Spec.Parse(raw)
		if want := key + ": missing required configuration"; err == nil || err.Error() != want {
			t.Errorf("without %s: err = %v, want %q", key, err, want)
		}
	}
	cases := map[string]struct{ key, value, want string }{
		"unknown":       {"database.hostnme", "x", "database.hostnme: unknown configuration key"},
		"tasks":         {"tasks.max", "2", "tasks.max: "},
		"locking":       {"snapshot.locking.mode", "all", `snapshot.locking.mode: invalid value "all"`},
		"bigint":        {"bigint.unsigned.handling.mode", "huge", `bigint.unsigned.handling.mode: invalid value "huge"`},
		"server id":     {"database.server.id", "0", "database.server.id: "},
		"snapshot mode": {"snapshot.mode", "sometimes", `snapshot.mode: invalid value "sometimes"`},
	}
	for name, tc := range cases {
		raw := seedConfig(t)
		raw[tc.key] = tc.value
		_, err := mysql.Spec.Parse(raw)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want prefix %q", name, err, tc.want)
		}
	}
}
