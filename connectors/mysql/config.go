package mysql

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/cdc"
	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/schema/logical"
)

// Spec declares every configuration key of the MySQL and MariaDB source,
// with Debezium's names and defaults, then the keys every source shares
// (cdc.NewSpec, at the "database" level) and the producer keys.
var Spec = cdc.NewSpec("database", append(ownKeys, debeziumKeys...)...)

// ownKeys are the keys this source reads.
var ownKeys = []conf.Key{
	conf.Key{Name: "connector.class", Type: conf.Class, Required: true, Doc: "mysql or io.debezium.connector.mysql.MySqlConnector: events as Debezium's MySQL connector writes them (source.connector mysql, io.debezium.connector.mysql.* schema names); mariadb or io.debezium.connector.mariadb.MariaDbConnector: as Debezium's MariaDB connector writes them (source.connector mariadb, io.debezium.connector.mariadb.* schema names). Either reads MySQL and MariaDB servers."},
	conf.Key{Name: "tasks.max", Type: conf.Int, Default: "1", Check: checkTasks, Doc: "A MySQL source always runs one task: the binlog is read by one connection."},
	conf.Key{Name: "database.hostname", Type: conf.String, Required: true, Group: "Connection", Doc: "Host name or address of the MySQL or MariaDB server."},
	conf.Key{Name: "database.port", Type: conf.Int, Default: "3306", Min: 1, Max: 65535, Group: "Connection", Doc: "Port of the server."},
	conf.Key{Name: "database.user", Type: conf.String, Required: true, Group: "Connection", Doc: "User to connect as; needs SELECT on the captured tables, REPLICATION SLAVE and REPLICATION CLIENT (MariaDB 10.5+: BINLOG MONITOR)."},
	conf.Key{Name: "database.password", Type: conf.Password, Group: "Connection", Doc: "Password of the user."},
	conf.Key{Name: "database.server.id", Type: conf.Long, Required: true, Min: 1, Max: 1<<32 - 1, Group: "Replication", Doc: "Server id the connector reads the binlog as, like a replica; it must differ from the id of every other replica of the server."},
	conf.Key{Name: "database.server.name", Type: conf.String, Ignored: "obsolete since Debezium 2.0: topic.prefix names the topics", Doc: "Obsolete; accepted for existing configurations."},
	conf.Key{Name: "snapshot.locking.mode", Type: conf.String, Default: "minimal", Allowed: []string{"minimal", "extended", "none"}, Group: "Snapshot", Doc: "MariaDB needs no lock: its consistent snapshot reports its own binlog position. On MySQL, minimal and extended hold FLUSH TABLES WITH READ LOCK only while the snapshot transaction starts and its binlog position is read; none takes no lock, so the position may be slightly off when tables are written at that moment."},
	conf.Key{Name: "include.schema.changes", Type: conf.Boolean, Default: "true", Group: "Events", Doc: "Write each DDL statement read from the binlog whose database is captured to the topic named by topic.prefix, as Debezium does: key io.debezium.connector.mysql.SchemaChangeKey {databaseName}, value io.debezium.connector.mysql.SchemaChangeValue (io.debezium.connector.mariadb.* for the mariadb class) {source, ts_ms, databaseName, schemaName, ddl, tableChanges} with the CREATE, ALTER or DROP of each captured table the statement changed (its columns as the schema history has them). A statement's position is confirmed only once its record is acknowledged. A snapshot first writes, as Debezium's does, the structure of the captured tables it reads: SET character_set_server and collation_server, DROP TABLE IF EXISTS of each table, then for each database DROP DATABASE IF EXISTS, CREATE DATABASE, USE and each table's SHOW CREATE TABLE with its CREATE table change, all with the snapshot's position; a snapshot resumed from saved progress (saved once these records are acknowledged) does not write them again, one that starts over does."},
	conf.Key{Name: "time.precision.mode", Type: conf.String, Default: "adaptive_time_microseconds", Allowed: []string{"adaptive_time_microseconds", "adaptive", "connect"}, Group: "Events", Doc: "Which semantic types time values use."},
	conf.Key{Name: BigIntUnsignedModeKey, Type: conf.String, Default: "long", Allowed: []string{"precise", "long"}, Group: "Events", Doc: "BIGINT UNSIGNED as int64 (long, as Debezium) or Decimal(20,0) (precise), which holds every value. In long mode a value above 2^63-1, which Debezium wraps to a negative number, is a conversion failure: event.processing.failure.handling.mode decides what becomes of its change."},
	conf.Key{Name: "gtid.source.includes", Type: conf.List, Check: conf.RegexList, Group: "Filters", Doc: "Regular expressions of the GTID sources whose transactions are captured (MySQL: server UUIDs; MariaDB: domain-server_id, e.g. 0-1). All when empty."},
	conf.Key{Name: "gtid.source.excludes", Type: conf.List, Check: conf.RegexList, Group: "Filters", Doc: "Regular expressions of GTID sources whose transactions are not captured."},
	conf.Key{Name: "schema.history.internal.kafka.bootstrap.servers", Type: conf.String, Group: "Schema history", Doc: "Accepted and unused: the schema history (each captured table's definition as of each DDL statement, used to decode rows when binlog_row_metadata is not FULL) is kept in the connector's offset store under the key history=<topic.prefix>, not in a Kafka topic."},
	conf.Key{Name: "schema.history.internal.kafka.topic", Type: conf.String, Group: "Schema history", Doc: "Accepted and unused, as schema.history.internal.kafka.bootstrap.servers: the schema history is kept in the offset store under history=<topic.prefix>."},
}

func checkTasks(v string) error {
	if n, err := strconv.Atoi(v); err != nil || n != 1 {
		return fmt.Errorf("invalid value %q: a MySQL source runs exactly 1 task", v)
	}
	return nil
}

// Config is the MySQL source's parsed configuration.
type Config struct {
	cdc.Config
	// Connector is the connector.class's source.connector: "mysql" or
	// "mariadb".
	Connector            string
	Host, User, Password string
	Port                 int
	ServerID             uint32
	LockingMode          string
	SchemaChanges        bool
	TimeMode             logical.TimeMode
	Decimal              logical.DecimalMode
	Binary               logical.BinaryMode
	BigInt               BigIntUnsignedMode
	gtidIn, gtidEx       []*regexp.Regexp
}

// systemDatabases are never captured.
var systemDatabases = map[string]bool{"mysql": true, "information_schema": true, "performance_schema": true, "sys": true}

// ParseConfig builds a Config from a configuration parsed against Spec.
func ParseConfig(c *conf.Config) (*Config, error) {
	base, err := cdc.ParseConfig(c, "database", func(db string) bool { return systemDatabases[db] })
	if err != nil {
		return nil, err
	}
	cfg := &Config{Config: base, Host: c.String("database.hostname"), Port: int(c.Int("database.port")),
		User: c.String("database.user"), Password: c.String("database.password"),
		ServerID: uint32(c.Int("database.server.id")), LockingMode: c.Enum("snapshot.locking.mode"),
		SchemaChanges: c.Bool("include.schema.changes")}
	var problems conf.Problems
	if class, ok := connectors.Lookup(c.String("connector.class")); ok && class.Spec == Spec {
		cfg.Connector = class.Connector
	} else {
		problems = append(problems, conf.Problem{Key: "connector.class", Message: fmt.Sprintf("%q is not a class of the MySQL and MariaDB source", c.String("connector.class"))})
	}
	if cfg.TimeMode, err = logical.ParseTimeMode(c.Enum("time.precision.mode")); err != nil {
		problems = append(problems, conf.Problem{Key: "time.precision.mode", Message: err.Error()})
	}
	if cfg.Decimal, err = logical.ParseDecimalMode(base.DecimalMode); err != nil {
		problems = append(problems, conf.Problem{Key: "decimal.handling.mode", Message: err.Error()})
	}
	if cfg.Binary, err = logical.ParseBinaryMode(base.BinaryMode); err != nil {
		problems = append(problems, conf.Problem{Key: "binary.handling.mode", Message: err.Error()})
	}
	if cfg.BigInt, err = ParseBigIntUnsignedMode(c.String(BigIntUnsignedModeKey)); err != nil {
		problems = append(problems, conf.Problem{Key: BigIntUnsignedModeKey, Message: err.Error()})
	}
	in, ex := c.List("gtid.source.includes"), c.List("gtid.source.excludes")
	if len(in) > 0 && len(ex) > 0 {
		problems = append(problems, conf.Problem{Key: "gtid.source.excludes", Message: "cannot be combined with gtid.source.includes; use one of them"})
	}
	if len(problems) > 0 {
		return nil, problems
	}
	cfg.gtidIn, cfg.gtidEx = anchored(in), anchored(ex)
	return cfg, nil
}

func anchored(patterns []string) []*regexp.Regexp {
	out := make([]*regexp.Regexp, len(patterns))
	for i, p := range patterns {
		out[i] = regexp.MustCompile("^(?:" + p + ")$")
	}
	return out
}

// gtidSourceCaptured reports whether transactions of a GTID source (a
// MySQL server UUID, a MariaDB domain-server_id) are captured.
func (c *Config) gtidSourceCaptured(source string) bool {
	if source == "" {
		return true
	}
	for _, re := range c.gtidEx {
		if re.MatchString(source) {
			return false
		}
	}
	if len(c.gtidIn) == 0 {
		return true
	}
	for _, re := range c.gtidIn {
		if re.MatchString(source) {
			return true
		}
	}
	return false
}

// Addr is host:port of the server.
func (c *Config) Addr() string { return c.Host + ":" + strconv.Itoa(c.Port) }

// Redacted names the server without credentials, for logs and errors.
func (c *Config) Redacted() string { return fmt.Sprintf("%s@%s", c.User, c.Addr()) }
