// Package config reads the daemon's configuration and connector
// definitions, strictly: an unknown key, a value of the wrong type or a
// missing required key is a Problem naming the key, and every problem is
// reported at once, never only the first.
//
// # The daemon config file
//
// A JSON object; groups are nested objects whose own keys may be dotted:
//
//	{
//	  "state.dir": "/var/lib/sluice",
//	  "rest": {"listen": ":8083", "tls": {"cert.file": "...", "key.file": "..."},
//	           "auth": {"user": "admin", "password": "...", "tokens": ["..."]}},
//	  "sse": {"listen": ":8080"},
//	  "registry": {"listen": ":8081"},
//	  "kafka": {"bootstrap.servers": "kafka-1:9092,kafka-2:9092",
//	            "sasl": {"mechanism": "SCRAM-SHA-512", "username": "...", "password": "..."},
//	            "tls": {"enabled": true, "ca.file": "..."}},
//	  "schema.registry": {"url": "http://schema-registry:8081", "user": "...", "password": "..."},
//	  "value.converter": {"class": "org.apache.kafka.connect.json.JsonConverter", "schemas.enable": false},
//	  "log": {"level": "info", "format": "json"},
//	  "shutdown.timeout.ms": 30000,
//	  "connectors.dir": "/etc/sluice/connectors",
//	  "config.providers": {"file": {"allowed.paths": ["/run/secrets"]}}
//	}
//
// With no kafka.bootstrap.servers, sluice embeds a single-node broker
// (kafka.embedded.listen, default 127.0.0.1:9092) and a schema registry;
// "kafka": {"embedded": {...}} asks for the embedded broker explicitly.
// "registry" is present only when the embedded registry should serve.
//
// # Listeners
//
// Without credentials, the REST API and the embedded registry listen on
// loopback only (127.0.0.1:8083 and 127.0.0.1:8081); with rest.auth, on
// every interface. The SSE listener defaults to 127.0.0.1:8080. A listener
// set beyond loopback without authentication is refused unless its
// allow.unauthenticated is true, which is then logged as a warning.
// "key.converter" and "value.converter" are Kafka Connect's worker
// converters: how sources write keys and values and sinks read them, unless
// their connector config says otherwise, key by key (an AvroConverter uses
// schema.registry).
//
// # Environment
//
// Every setting can also come from an environment variable, which overrides
// the file: SLUICE_ followed by the setting's dotted path in upper case with
// '.' turned into '_'. For example state.dir is SLUICE_STATE_DIR, rest.listen
// SLUICE_REST_LISTEN, kafka.bootstrap.servers SLUICE_KAFKA_BOOTSTRAP_SERVERS,
// kafka.sasl.password SLUICE_KAFKA_SASL_PASSWORD, schema.registry.url
// SLUICE_SCHEMA_REGISTRY_URL, log.level SLUICE_LOG_LEVEL. Lists (rest.auth.tokens,
// config.providers.file.allowed.paths) are comma-separated. Setting a
// variable inside an optional group (SLUICE_REGISTRY_LISTEN) makes the group
// present. Settings lists every variable.
//
// # Connector files
//
// Each *.json file of the connectors directory holds one connector as Kafka
// Connect's POST /connectors takes it: {"name", "config", "initial_state"?}.
// Config values are strings; numbers and booleans are accepted and turned
// into their text. ${env:NAME} and ${file:/path:key} references in values are
// resolved when a connector starts and are never stored or shown resolved;
// see Resolver.
package config

import (
	"errors"
	"net"
	"strconv"
	"time"

	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/connectors/kafka"
)

// Daemon is the daemon's configuration. Field tags give each setting's key
// (json), its default (default) and, through its path, its environment
// variable.
type Daemon struct {
	// StateDir holds connector configs, offsets and connector scratch files.
	StateDir string `json:"state.dir" default:"sluice-state"`
	// ConnectorsDir is the directory of connector files; empty for none.
	ConnectorsDir string `json:"connectors.dir"`
	// ShutdownTimeoutMS bounds a graceful shutdown, in milliseconds.
	ShutdownTimeoutMS int `json:"shutdown.timeout.ms" default:"30000"`

	// GroupID turns cluster mode on, as Kafka Connect's distributed mode:
	// instances with the same group.id share their connectors through the
	// Kafka cluster (configs, status and offsets in the three storage
	// topics, ownership through this consumer group). Empty: standalone,
	// everything kept under state.dir. It needs kafka.bootstrap.servers.
	GroupID string `json:"group.id"`
	// The storage topics of cluster mode, created compacted when missing.
	// A replication factor of -1 takes the broker's default.
	ConfigStorageTopic             string `json:"config.storage.topic" default:"connect-configs"`
	ConfigStorageReplicationFactor int    `json:"config.storage.replication.factor" default:"3"`
	OffsetStorageTopic             string `json:"offset.storage.topic" default:"connect-offsets"`
	OffsetStoragePartitions        int    `json:"offset.storage.partitions" default:"25"`
	OffsetStorageReplicationFactor int    `json:"offset.storage.replication.factor" default:"3"`
	StatusStorageTopic             string `json:"status.storage.topic" default:"connect-status"`
	StatusStoragePartitions        int    `json:"status.storage.partitions" default:"5"`
	StatusStorageReplicationFactor int    `json:"status.storage.replication.factor" default:"3"`
	// SessionTimeoutMS is how long the group waits for a silent instance
	// before moving its connectors; an instance that cannot reach the group
	// for that long stops its connectors itself.
	SessionTimeoutMS    int `json:"session.timeout.ms" default:"10000"`
	HeartbeatIntervalMS int `json:"heartbeat.interval.ms" default:"3000"`
	RebalanceTimeoutMS  int `json:"rebalance.timeout.ms" default:"60000"`

	REST            REST            `json:"rest"`
	SSE             SSE             `json:"sse"`
	Registry        *Registry       `json:"registry"`
	Kafka           Kafka           `json:"kafka"`
	SchemaRegistry  SchemaRegistry  `json:"schema.registry"`
	KeyConverter    Converter       `json:"key.converter"`
	ValueConverter  Converter       `json:"value.converter"`
	Log             Log             `json:"log"`
	ConfigProviders ConfigProviders `json:"config.providers"`

	// Warnings are notes about the configuration that do not stop it, such
	// as SLUICE_* variables that name no setting.
	Warnings []string `json:"-"`
}

// REST configures the management API listener. Listen defaults to
// loopback (127.0.0.1:8083), or to every interface (:8083) when Auth is set;
// an address beyond loopback without Auth needs AllowUnauthenticated.
type REST struct {
	Listen string     `json:"listen" default:"127.0.0.1:8083"`
	TLS    *ServerTLS `json:"tls"`
	Auth   *Auth      `json:"auth"`
	// AllowUnauthenticated serves the API beyond loopback without
	// authentication, to anyone who can reach it; logged as a warning.
	AllowUnauthenticated bool `json:"allow.unauthenticated"`
}

// ServerTLS makes a listener serve HTTPS. The files are read again when
// they change, so a rotated certificate serves new connections without a
// restart.
type ServerTLS struct {
	CertFile string `json:"cert.file"`
	KeyFile  string `json:"key.file"`
}

// Auth protects the REST API: a request passes with HTTP basic credentials
// equal to User and Password, or with "Authorization: Bearer T" for any T in
// Tokens. Comparisons take constant time.
type Auth struct {
	User     string   `json:"user"`
	Password string   `json:"password"`
	Tokens   []string `json:"tokens"`
}

// SSE configures the Server-Sent-Events listener of SSE sinks. Each sink
// authenticates its own subscribers (its auth.type); on an address beyond
// loopback, a sink with auth.type none fails unless AllowUnauthenticated.
type SSE struct {
	Listen string     `json:"listen" default:"127.0.0.1:8080"`
	TLS    *ServerTLS `json:"tls"`
	// AllowUnauthenticated serves streams with auth.type none beyond
	// loopback, to anyone who can reach them; logged as a warning.
	AllowUnauthenticated bool `json:"allow.unauthenticated"`
}

// Registry, when present, makes the embedded schema registry serve. It
// takes the REST API's credentials (rest.auth); Listen defaults as the REST
// API's does (127.0.0.1:8081, or :8081 with rest.auth).
type Registry struct {
	Listen string `json:"listen" default:"127.0.0.1:8081"`
	// AllowUnauthenticated serves the registry beyond loopback without
	// authentication; logged as a warning.
	AllowUnauthenticated bool `json:"allow.unauthenticated"`
}

// Kafka says which Kafka cluster sources write to and sinks read from.
type Kafka struct {
	// BootstrapServers is a comma-separated host:port list; empty selects
	// the embedded broker.
	BootstrapServers string     `json:"bootstrap.servers"`
	SASL             *SASL      `json:"sasl"`
	TLS              *ClientTLS `json:"tls"`
	Embedded         *Embedded  `json:"embedded"`
}

// SASL authenticates to Kafka.
type SASL struct {
	// Mechanism is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
	Mechanism string `json:"mechanism"`
	Username  string `json:"username"`
	Password  string `json:"password"`
}

// ClientTLS configures TLS towards a server.
type ClientTLS struct {
	// Enabled turns TLS on; the other fields take effect only with it.
	Enabled bool `json:"enabled"`
	// CAFile verifies the server; the system pool when empty.
	CAFile string `json:"ca.file"`
	// CertFile and KeyFile are a client certificate, for mutual TLS.
	CertFile           string `json:"cert.file"`
	KeyFile            string `json:"key.file"`
	ServerName         string `json:"server.name"`
	InsecureSkipVerify bool   `json:"insecure.skip.verify"`
}

// Embedded configures the embedded single-node broker.
type Embedded struct {
	Listen string `json:"listen" default:"127.0.0.1:9092"`
}

// SchemaRegistry is the external Confluent-compatible registry.
type SchemaRegistry struct {
	URL      string     `json:"url"`
	User     string     `json:"user"`
	Password string     `json:"password"`
	TLS      *ClientTLS `json:"tls"`
}

// Converter is a worker converter: its class and its JsonConverter
// settings, each applying to the sources that do not set it themselves.
type Converter struct {
	// Class is io.confluent.connect.avro.AvroConverter (Kafka Connect's
	// default for sluice), org.apache.kafka.connect.json.JsonConverter, or
	// for keys org.apache.kafka.connect.storage.StringConverter; the short
	// names avro, json and string work too. Empty leaves the default.
	Class string `json:"class"`
	// SchemasEnable is JsonConverter's schemas.enable; unset is true.
	SchemasEnable *bool `json:"schemas.enable"`
	// DecimalFormat is JsonConverter's decimal.format: BASE64 (unset) or NUMERIC.
	DecimalFormat string `json:"decimal.format"`
	// ReplaceNullWithDefault is JsonConverter's replace.null.with.default; unset is true.
	ReplaceNullWithDefault *bool `json:"replace.null.with.default"`
}

// ConverterSettings returns the worker converters as the connector keys
// they stand for ("value.converter", "value.converter.schemas.enable", …),
// only those set: what kafka.ConverterKeys declare, for every connector's
// conf.Spec.Inherit.
func (d *Daemon) ConverterSettings() map[string]string {
	out := map[string]string{}
	for role, c := range map[string]Converter{"key.converter": d.KeyConverter, "value.converter": d.ValueConverter} {
		if c.Class != "" {
			out[role] = c.Class
		}
		if c.SchemasEnable != nil {
			out[role+".schemas.enable"] = strconv.FormatBool(*c.SchemasEnable)
		}
		if c.DecimalFormat != "" {
			out[role+".decimal.format"] = c.DecimalFormat
		}
		if c.ReplaceNullWithDefault != nil {
			out[role+".replace.null.with.default"] = strconv.FormatBool(*c.ReplaceNullWithDefault)
		}
	}
	return out
}

// Converters parses ConverterSettings against kafka.ConverterKeys; the
// problems name the daemon settings ("value.converter.class").
func (d *Daemon) Converters() (*conf.Config, Problems) {
	cfg, err := (&conf.Spec{Keys: kafka.ConverterKeys}).Parse(d.ConverterSettings())
	if err == nil {
		return cfg, nil
	}
	var ps Problems
	var cps conf.Problems
	if !errors.As(err, &cps) {
		return nil, Problems{{Key: "value.converter", Message: err.Error()}}
	}
	for _, p := range cps {
		key := p.Key
		if key == "key.converter" || key == "value.converter" {
			key += ".class"
		}
		ps = append(ps, Problem{Key: key, Message: p.Message})
	}
	return nil, ps
}

// Log configures the daemon's log.
type Log struct {
	// Level is debug, info, warn or error.
	Level string `json:"level" default:"info"`
	// Format is json (one object a line) or text.
	Format string `json:"format" default:"json"`
}

// ConfigProviders configures the ${...} references of connector configs.
type ConfigProviders struct {
	File FileProvider `json:"file"`
}

// FileProvider restricts ${file:/path:key} references to files under the
// listed directories (or the listed files); with none, file references are
// refused.
type FileProvider struct {
	AllowedPaths []string `json:"allowed.paths"`
}

// ShutdownTimeout is how long a graceful shutdown may take.
func (d *Daemon) ShutdownTimeout() time.Duration {
	return time.Duration(d.ShutdownTimeoutMS) * time.Millisecond
}

// EmbeddedKafka returns the listen address of the embedded broker, or ""
// when an external cluster is configured.
func (d *Daemon) EmbeddedKafka() string {
	if d.Kafka.Embedded != nil {
		return d.Kafka.Embedded.Listen
	}
	if d.Kafka.BootstrapServers == "" {
		return defaultOf(Embedded{}, "Listen")
	}
	return ""
}

// EmbeddedRegistry returns the listen address of the embedded schema
// registry, or "" when it does not serve: it serves when "registry" is
// present, or when neither schema.registry.url nor an external Kafka is
// configured.
func (d *Daemon) EmbeddedRegistry() string {
	if d.Registry != nil {
		return d.Registry.Listen
	}
	if d.SchemaRegistry.URL == "" && d.Kafka.BootstrapServers == "" {
		return d.defaultListen(Registry{})
	}
	return ""
}

// defaultListen is the default address of a listener whose settings are v
// (REST or Registry, which both take rest.auth): the default loopback
// address, or its port on every interface when rest.auth is set.
func (d *Daemon) defaultListen(v any) string {
	addr := defaultOf(v, "Listen")
	if d.REST.Auth == nil {
		return addr
	}
	_, port, _ := net.SplitHostPort(addr)
	return ":" + port
}

// Loopback reports whether the listen address addr serves this host only:
// a loopback IP or localhost. An empty host, 0.0.0.0, :: and host names
// serve beyond it.
func Loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkListen validates a host:port listen address.
func checkListen(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "invalid listen address " + strconv.Quote(addr) + ": want host:port or :port"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "invalid port in " + strconv.Quote(addr)
	}
	return ""
}
