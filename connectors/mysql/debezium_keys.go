package mysql

import (
	"github.com/sluice-cdc/sluice/connectors/cdc"
	"github.com/sluice-cdc/sluice/connectors/conf"
)

// debeziumKeys are the keys of Debezium's MySQL and MariaDB connectors that
// sluice does not act on (see cdc.Ignored and cdc.Unsupported).
var debeziumKeys = []conf.Key{
	cdc.Ignored("binlog.buffer.size", "sluice reads only committed transactions from the binlog"),
	cdc.Ignored("binlog.net.read.timeout", "the server's own net_read_timeout applies"),
	cdc.Ignored("binlog.net.write.timeout", "the server's own net_write_timeout applies"),
	cdc.Ignored("connect.keep.alive", "the binlog connection asks the server for heartbeats and reconnects when they stop"),
	cdc.Ignored("connect.keep.alive.interval.ms", "the binlog connection asks the server for heartbeats and reconnects when they stop"),
	cdc.Ignored("connect.timeout.ms", "connections time out after 10 s"),
	cdc.Ignored("database.jdbc.driver", "sluice speaks the MySQL protocol itself, without JDBC"),
	cdc.Ignored("database.protocol", "sluice speaks the MySQL protocol itself, without JDBC"),
	cdc.Ignored("database.server.id.offset", "sluice snapshots over one connection"),
	{Name: "database.ssl.mode", Type: conf.String, Default: "disabled", Allowed: []string{"disabled", "preferred"}, Group: "Connection", Doc: "sluice connects without TLS: disabled, or preferred (Debezium's default, which falls back to an unencrypted connection). Reach a server that requires TLS through a TLS tunnel."},
	cdc.Unsupported("database.ssl.keystore", "", "sluice connects to MySQL and MariaDB without TLS; use a TLS tunnel"),
	cdc.Unsupported("database.ssl.keystore.password", "", "sluice connects to MySQL and MariaDB without TLS; use a TLS tunnel"),
	cdc.Unsupported("database.ssl.truststore", "", "sluice connects to MySQL and MariaDB without TLS; use a TLS tunnel"),
	cdc.Unsupported("database.ssl.truststore.password", "", "sluice connects to MySQL and MariaDB without TLS; use a TLS tunnel"),
	cdc.Ignored("ddl.parser.type", "sluice parses DDL with its own MySQL grammar"),
	cdc.Ignored("enable.time.adjuster", "dates are written as the server stores them, as Debezium does with false: a year below 100 stays that year"),
	cdc.Unsupported("event.deserialization.failure.handling.mode", "fail", "a binlog event that cannot be read stops the connector; fix the cause, or skip the event by setting a later binlog position with PATCH /connectors/{name}/offsets"),
	cdc.Ignored("gtid.ignore.on.recovery", "sluice resumes from the binlog file and position"),
	cdc.Unsupported("gtid.source.filter.dml.events", "true", "only transactions of the included GTID sources are captured"),
	cdc.Unsupported("heartbeat.action.query", "", "heartbeats move the stored position without writing to the database"),
	cdc.Unsupported("include.query", "false", "the statement that made a change is not added to its source block"),
	cdc.Unsupported("inconsistent.schema.handling.mode", "fail", "a row of a captured table whose definition is unknown stops the connector; take a new snapshot"),
	cdc.Unsupported("incremental.snapshot.allow.schema.changes", "false", "a table's schema must not change while an incremental snapshot reads it"),
	cdc.Ignored("min.row.count.to.stream.results", "snapshots always read in chunks of snapshot.fetch.size rows"),
	cdc.Ignored("schema.history.internal", "the schema history is kept in the connector's offset store under history=<topic.prefix>"),
	cdc.Unsupported("schema.history.internal.skip.unparseable.ddl", "false", "a DDL statement that cannot be parsed stops the connector, so rows are never decoded with a wrong definition"),
	cdc.Ignored("schema.history.internal.store.only.captured.databases.ddl", "the schema history keeps the definitions of captured tables only"),
	cdc.Ignored("schema.history.internal.store.only.captured.tables.ddl", "the schema history keeps the definitions of captured tables only"),
	cdc.Ignored("use.nongraceful.disconnect", "sluice closes binlog connections itself"),
}
