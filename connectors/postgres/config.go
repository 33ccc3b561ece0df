package postgres

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/sluice-cdc/sluice/connectors/cdc"
	"github.com/sluice-cdc/sluice/connectors/conf"
)

// Spec declares every configuration key of the Postgres source: its own,
// then the Debezium keys every source shares (connectors/cdc) with schema
// as the container level, then the producer keys.
var Spec = cdc.NewSpec("schema", append(ownKeys, debeziumKeys...)...)

// ownKeys are the keys this source reads.
var ownKeys = []conf.Key{
	conf.Key{Name: "connector.class", Type: conf.Class, Required: true, Doc: "postgres, or io.debezium.connector.postgresql.PostgresConnector"},
	conf.Key{Name: "tasks.max", Type: conf.Int, Default: "1", Min: 1, Max: 1, Doc: "A Postgres source always runs one task: one slot is read by one connection."},
	conf.Key{Name: "database.hostname", Type: conf.String, Required: true, Group: "Connection", Doc: "Host name or address of the Postgres server."},
	conf.Key{Name: "database.port", Type: conf.Int, Default: "5432", Min: 1, Max: 65535, Group: "Connection", Doc: "Port of the Postgres server."},
	conf.Key{Name: "database.user", Type: conf.String, Required: true, Group: "Connection", Doc: "Role to connect as; needs LOGIN, REPLICATION and SELECT on the captured tables."},
	conf.Key{Name: "database.password", Type: conf.Password, Group: "Connection", Doc: "Password of the role."},
	conf.Key{Name: "database.dbname", Type: conf.String, Required: true, Group: "Connection", Doc: "Database to capture."},
	conf.Key{Name: "database.sslmode", Type: conf.String, Default: "prefer", Allowed: []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}, Group: "Connection", Doc: "TLS mode, as libpq's sslmode."},
	conf.Key{Name: "database.sslrootcert", Type: conf.String, Group: "Connection", Doc: "File of the CA certificates that verify the server."},
	conf.Key{Name: "database.sslcert", Type: conf.String, Group: "Connection", Doc: "File of the client certificate."},
	conf.Key{Name: "database.sslkey", Type: conf.String, Group: "Connection", Doc: "File of the client certificate's key."},
	conf.Key{Name: "database.sslpassword", Type: conf.Password, Group: "Connection", Doc: "Password of the client key file."},
	conf.Key{Name: "database.server.name", Type: conf.String, Ignored: "obsolete since Debezium 2.0: topic.prefix names the topics", Doc: "Obsolete; accepted for existing configurations."},
	conf.Key{Name: "plugin.name", Type: conf.String, Default: "pgoutput", Check: checkPlugin, Group: "Replication", Doc: "Logical decoding plugin; only pgoutput, which every Postgres since 10 has built in."},
	conf.Key{Name: "slot.name", Type: conf.String, Default: "debezium", Check: checkSlotName, Group: "Replication", Doc: "Name of the logical replication slot."},
	conf.Key{Name: "slot.drop.on.stop", Type: conf.Boolean, Default: "false", Group: "Replication", Doc: "Drop the slot when the connector stops for good. Only for tests: changes made while it is dropped are lost."},
	conf.Key{Name: "publication.name", Type: conf.String, Default: "dbz_publication", Group: "Replication", Doc: "Name of the publication pgoutput reads."},
	conf.Key{Name: "publication.autocreate.mode", Type: conf.String, Default: "all_tables", Allowed: []string{"all_tables", "filtered", "disabled"}, Group: "Replication", Doc: "How a missing publication is created: FOR ALL TABLES (needs a superuser), for the captured tables only (needs CREATE on the database and ownership of the tables; kept in step with the filters while the role owns the publication), or not at all (then it must exist). An existing publication that publishes every captured table is used as it is."},
	conf.Key{Name: "heartbeat.action.query", Type: conf.String, Group: "Replication", Doc: "Statement run at each heartbeat instead of pg_logical_emit_message, for example an update of a heartbeat table that is captured."},
	conf.Key{Name: "unavailable.value.placeholder", Type: conf.String, Default: "__debezium_unavailable_value", Group: "Events", Doc: "Value written for unchanged TOASTed columns that the WAL does not carry."},
	conf.Key{Name: "time.precision.mode", Type: conf.String, Default: "adaptive", Allowed: []string{"adaptive", "adaptive_time_microseconds", "connect"}, Group: "Events", Doc: "Which semantic types time values use."},
	conf.Key{Name: "interval.handling.mode", Type: conf.String, Default: "numeric", Allowed: []string{"numeric", "string"}, Group: "Events", Doc: "How INTERVAL is written: microseconds, or ISO-8601 text."},
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

// Config is the Postgres source's parsed configuration.
type Config struct {
	cdc.Config

	Host, User, Password, DBName string
	Port                         int
	SSLMode, SSLRootCert         string
	SSLCert, SSLKey, SSLPassword string

	Slot              string
	SlotDropOnStop    bool
	Publication       string
	PublicationCreate string

	HeartbeatQuery string
	Placeholder    string

	TimePrecisionMode, IntervalMode string
}

// ParseConfig builds a Config from a parsed configuration.
func ParseConfig(c *conf.Config) (*Config, error) {
	shared, err := cdc.ParseConfig(c, "schema", systemSchema)
	if err != nil {
		return nil, err
	}
	return &Config{
		Config: shared,
		Host:   c.String("database.hostname"), Port: int(c.Int("database.port")),
		User: c.String("database.user"), Password: c.String("database.password"),
		DBName: c.String("database.dbname"), SSLMode: c.Enum("database.sslmode"),
		SSLRootCert: c.String("database.sslrootcert"), SSLCert: c.String("database.sslcert"),
		SSLKey: c.String("database.sslkey"), SSLPassword: c.String("database.sslpassword"),
		Slot:           c.String("slot.name"),
		SlotDropOnStop: c.Bool("slot.drop.on.stop"), Publication: c.String("publication.name"),
		PublicationCreate: c.Enum("publication.autocreate.mode"),
		HeartbeatQuery:    c.String("heartbeat.action.query"),
		Placeholder:       c.String("unavailable.value.placeholder"),
		TimePrecisionMode: c.Enum("time.precision.mode"), IntervalMode: c.Enum("interval.handling.mode"),
	}, nil
}

// systemSchema reports the schemas that are never captured.
func systemSchema(schema string) bool {
	return schema == "pg_catalog" || schema == "information_schema" || strings.HasPrefix(schema, "pg_toast")
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
