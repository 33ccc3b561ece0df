package postgres

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/connectors/kafka"
)

// Spec declares every configuration key of the Postgres source, with
// Debezium's names and defaults, and the producer keys every source takes.
var Spec = &conf.Spec{
	Prefixes: []string{"transforms", "predicates"},
	Keys: append([]conf.Key{
		{Name: "connector.class", Type: conf.Class, Required: true, Doc: "postgres, or io.debezium.connector.postgresql.PostgresConnector"},
		{Name: "tasks.max", Type: conf.Int, Default: "1", Min: 1, Max: 1, Doc: "A Postgres source always runs one task: one slot is read by one connection."},
		{Name: "database.hostname", Type: conf.String, Required: true, Group: "Connection", Doc: "Host name or address of the Postgres server."},
		{Name: "database.port", Type: conf.Int, Default: "5432", Min: 1, Max: 65535, Group: "Connection", Doc: "Port of the Postgres server."},
		{Name: "database.user", Type: conf.String, Required: true, Group: "Connection", Doc: "Role to connect as; needs LOGIN, REPLICATION and SELECT on the captured tables."},
		{Name: "database.password", Type: conf.Password, Group: "Connection", Doc: "Password of the role."},
		{Name: "database.dbname", Type: conf.String, Required: true, Group: "Connection", Doc: "Database to capture."},
		{Name: "database.sslmode", Type: conf.String, Default: "prefer", Allowed: []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}, Group: "Connection", Doc: "TLS mode, as libpq's sslmode."},
		{Name: "database.sslrootcert", Type: conf.String, Group: "Connection", Doc: "File of the CA certificates that verify the server."},
		{Name: "database.sslcert", Type: conf.String, Group: "Connection", Doc: "File of the client certificate."},
		{Name: "database.sslkey", Type: conf.String, Group: "Connection", Doc: "File of the client certificate's key."},
		{Name: "database.sslpassword", Type: conf.Password, Group: "Connection", Doc: "Password of the client key file."},
		{Name: "database.server.name", Type: conf.String, Deprecated: "obsolete since Debezium 2.0 and ignored: topic.prefix names the topics", Doc: "Obsolete; accepted for existing configurations."},
		{Name: "topic.prefix", Type: conf.String, Required: true, Check: checkTopicPrefix, Group: "Topics", Doc: "Prefix of every topic name (<prefix>.<schema>.<table>) and of the Avro schema names."},
		{Name: "plugin.name", Type: conf.String, Default: "pgoutput", Check: checkPlugin, Group: "Replication", Doc: "Logical decoding plugin; only pgoutput, which every Postgres since 10 has built in."},
		{Name: "slot.name", Type: conf.String, Default: "debezium", Check: checkSlotName, Group: "Replication", Doc: "Name of the logical replication slot."},
		{Name: "slot.drop.on.stop", Type: conf.Boolean, Default: "false", Group: "Replication", Doc: "Drop the slot when the connector stops for good. Only for tests: changes made while it is dropped are lost."},
		{Name: "publication.name", Type: conf.String, Default: "dbz_publication", Group: "Replication", Doc: "Name of the publication pgoutput reads."},
		{Name: "publication.autocreate.mode", Type: conf.String, Default: "all_tables", Allowed: []string{"all_tables", "filtered", "disabled"}, Group: "Replication", Doc: "How a missing publication is created: FOR ALL TABLES, for the captured tables only (kept in step with the filters), or not at all (then it must exist)."},
		{Name: "schema.include.list", Type: conf.List, Check: conf.RegexList, Group: "Filters", Doc: "Regular expressions of the schemas to capture; all when empty."},
		{Name: "schema.exclude.list", Type: conf.List, Check: conf.RegexList, Group: "Filters", Doc: "Regular expressions of schemas not to capture."},
		{Name: "table.include.list", Type: conf.List, Check: conf.RegexList, Group: "Filters", Doc: "Regular expressions matched against schema.table of the tables to capture."},
		{Name: "table.exclude.list", Type: conf.List, Check: conf.RegexList, Group: "Filters", Doc: "Regular expressions of schema.table not to capture."},
		{Name: "column.include.list", Type: conf.List, Check: conf.RegexList, Group: "Filters", Doc: "Regular expressions matched against schema.table.column of the columns to keep."},
		{Name: "column.exclude.list", Type: conf.List, Check: conf.RegexList, Group: "Filters", Doc: "Regular expressions of schema.table.column to drop from events."},
		{Name: "message.key.columns", Type: conf.String, Check: checkKeyColumns, Group: "Events", Doc: "Key columns for tables without a suitable primary key: schema.table:col1,col2;schema.table2:col (table part is a regular expression)."},
		{Name: "snapshot.mode", Type: conf.String, Default: "initial", Allowed: []string{"initial", "initial_only", "no_data", "never", "when_needed", "always"}, Group: "Snapshot", Doc: "initial: snapshot once, then stream; initial_only: snapshot, then stop; no_data (never): stream only; when_needed: snapshot when no usable position exists; always: snapshot at every start."},
		{Name: "snapshot.fetch.size", Type: conf.Int, Default: "10240", Min: 1, Max: 1 << 20, Group: "Snapshot", Doc: "Rows read per chunk while snapshotting."},
		{Name: "heartbeat.interval.ms", Type: conf.Int, Default: "0", Min: 0, Max: 1 << 30, Group: "Replication", Doc: "How often, when no captured change flows, to move the slot forward so WAL does not pile up; 0 disables."},
		{Name: "heartbeat.action.query", Type: conf.String, Group: "Replication", Doc: "Statement run at each heartbeat instead of pg_logical_emit_message, for example an update of a heartbeat table that is captured."},
		{Name: "tombstones.on.delete", Type: conf.Boolean, Default: "true", Group: "Events", Doc: "Follow each delete event with a tombstone (the key with a null value) so log compaction can drop the key."},
		{Name: "unavailable.value.placeholder", Type: conf.String, Default: "__debezium_unavailable_value", Group: "Events", Doc: "Value written for unchanged TOASTed columns that the WAL does not carry."},
		{Name: "decimal.handling.mode", Type: conf.String, Default: "precise", Allowed: []string{"precise", "double", "string"}, Group: "Events", Doc: "How NUMERIC and MONEY are written: exact Decimal bytes, double, or string."},
		{Name: "time.precision.mode", Type: conf.String, Default: "adaptive", Allowed: []string{"adaptive", "adaptive_time_microseconds", "connect"}, Group: "Events", Doc: "Which semantic types time values use."},
		{Name: "binary.handling.mode", Type: conf.String, Default: "bytes", Allowed: []string{"bytes", "base64", "base64-url-safe", "hex"}, Group: "Events", Doc: "How BYTEA is written."},
		{Name: "interval.handling.mode", Type: conf.String, Default: "numeric", Allowed: []string{"numeric", "string"}, Group: "Events", Doc: "How INTERVAL is written: microseconds, or ISO-8601 text."},
	}, kafka.ProducerKeys...),
}

var slotNameRE = regexp.MustCompile(`^[a-z0-9_]{1,63}$`)

func checkSlotName(v string) error {
	if !slotNameRE.MatchString(v) {
		return fmt.Errorf("invalid slot name %q: Postgres allows 1 to 63 lower-case letters, digits and underscores", v)
	}
	return nil
}

func checkPlugin(v string) error {
	if strings.TrimSpace(v) != "pgoutput" {
		return fmt.Errorf("unsupported plugin %q: sluice reads only pgoutput, which is built into Postgres 10 and later and needs no server extension", v)
	}
	return nil
}

var topicRE = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)

func checkTopicPrefix(v string) error {
	if !topicRE.MatchString(v) || len(v) > 200 {
		return fmt.Errorf("invalid topic prefix %q: use letters, digits, '.', '_' and '-' (at most 200)", v)
	}
	return nil
}

func checkKeyColumns(v string) error {
	_, err := parseKeyColumns(v)
	return err
}

// keyColumns maps table patterns to the columns that form their key.
type keyColumns []struct {
	table   *regexp.Regexp
	columns []string
}

func parseKeyColumns(v string) (keyColumns, error) {
	var out keyColumns
	for _, part := range strings.Split(v, ";") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		tbl, cols, ok := strings.Cut(part, ":")
		if !ok || strings.TrimSpace(tbl) == "" || len(conf.SplitList(cols)) == 0 {
			return nil, fmt.Errorf("invalid entry %q: want schema.table:column[,column]", part)
		}
		re, err := regexp.Compile("^(?:" + strings.TrimSpace(tbl) + ")$")
		if err != nil {
			return nil, fmt.Errorf("invalid table pattern %q: %v", tbl, err)
		}
		out = append(out, struct {
			table   *regexp.Regexp
			columns []string
		}{re, conf.SplitList(cols)})
	}
	return out, nil
}

// For returns the configured key columns of a table, or nil.
func (k keyColumns) For(table string) []string {
	for _, e := range k {
		if e.table.MatchString(table) {
			return e.columns
		}
	}
	return nil
}

// Config is the Postgres source's parsed configuration.
type Config struct {
	Host, User, Password, DBName string
	Port                         int
	SSLMode, SSLRootCert         string
	SSLCert, SSLKey, SSLPassword string

	TopicPrefix       string
	Slot              string
	SlotDropOnStop    bool
	Publication       string
	PublicationCreate string
	Filter            *Filter
	KeyColumns        keyColumns
	SnapshotMode      string
	SnapshotFetchSize int

	HeartbeatInterval time.Duration
	HeartbeatQuery    string
	Tombstones        bool
	Placeholder       string

	DecimalMode, TimePrecisionMode, BinaryMode, IntervalMode string

	Producer kafka.ProducerConfig
}

// ParseConfig builds a Config from a parsed configuration.
func ParseConfig(c *conf.Config) (*Config, error) {
	if c.Given("transforms") {
		return nil, conf.Problems{{Key: "transforms", Message: "transforms are not yet supported by this build; remove the transforms keys"}}
	}
	filter, err := NewFilter(c.List("schema.include.list"), c.List("schema.exclude.list"),
		c.List("table.include.list"), c.List("table.exclude.list"),
		c.List("column.include.list"), c.List("column.exclude.list"))
	if err != nil {
		return nil, err
	}
	keys, _ := parseKeyColumns(c.String("message.key.columns"))
	mode := c.Enum("snapshot.mode")
	if mode == "never" {
		mode = "no_data"
	}
	return &Config{
		Host: c.String("database.hostname"), Port: int(c.Int("database.port")),
		User: c.String("database.user"), Password: c.String("database.password"),
		DBName: c.String("database.dbname"), SSLMode: c.Enum("database.sslmode"),
		SSLRootCert: c.String("database.sslrootcert"), SSLCert: c.String("database.sslcert"),
		SSLKey: c.String("database.sslkey"), SSLPassword: c.String("database.sslpassword"),
		TopicPrefix: c.String("topic.prefix"), Slot: c.String("slot.name"),
		SlotDropOnStop: c.Bool("slot.drop.on.stop"), Publication: c.String("publication.name"),
		PublicationCreate: c.Enum("publication.autocreate.mode"), Filter: filter, KeyColumns: keys,
		SnapshotMode: mode, SnapshotFetchSize: int(c.Int("snapshot.fetch.size")),
		HeartbeatInterval: time.Duration(c.Int("heartbeat.interval.ms")) * time.Millisecond,
		HeartbeatQuery:    c.String("heartbeat.action.query"),
		Tombstones:        c.Bool("tombstones.on.delete"), Placeholder: c.String("unavailable.value.placeholder"),
		DecimalMode: c.Enum("decimal.handling.mode"), TimePrecisionMode: c.Enum("time.precision.mode"),
		BinaryMode: c.Enum("binary.handling.mode"), IntervalMode: c.Enum("interval.handling.mode"),
		Producer: kafka.ProducerConfigFrom(c),
	}, nil
}

// ConnString returns the libpq URL for a normal (replication=false) or
// replication connection. It contains the password: never log it; log
// Redacted instead.
func (c *Config) ConnString(replication bool) string {
	u := url.URL{Scheme: "postgres", Host: c.Host + ":" + strconv.Itoa(c.Port), Path: "/" + c.DBName}
	u.User = url.UserPassword(c.User, c.Password)
	q := url.Values{}
	q.Set("sslmode", c.SSLMode)
	for k, v := range map[string]string{"sslrootcert": c.SSLRootCert, "sslcert": c.SSLCert, "sslkey": c.SSLKey, "sslpassword": c.SSLPassword} {
		if v != "" {
			q.Set(k, v)
		}
	}
	q.Set("application_name", "sluice")
	// Values are read in text form, from the WAL and in snapshots alike;
	// these settings make that form unambiguous and exact.
	q.Set("DateStyle", "ISO")
	q.Set("IntervalStyle", "postgres")
	q.Set("extra_float_digits", "3")
	q.Set("lc_monetary", "C")
	if replication {
		q.Set("replication", "database")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Redacted names the server without credentials, for logs and errors.
func (c *Config) Redacted() string {
	return fmt.Sprintf("%s@%s:%d/%s", c.User, c.Host, c.Port, c.DBName)
}
