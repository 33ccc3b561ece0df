package postgres

import (
	"github.com/sluice-cdc/sluice/connectors/cdc"
	"github.com/sluice-cdc/sluice/connectors/conf"
)

// debeziumKeys are the keys of Debezium's Postgres connector that sluice
// does not act on (see cdc.Ignored and cdc.Unsupported).
var debeziumKeys = []conf.Key{
	cdc.Unsupported("database.sslfactory", "", "verify the server with database.sslmode=verify-full and database.sslrootcert"),
	cdc.Ignored("database.tcpKeepAlive", "sluice's connections always use TCP keep-alive"),
	cdc.Unsupported("flush.lsn.source", "true", "sluice always confirms to the slot what Kafka has acknowledged"),
	cdc.Unsupported("lsn.flush.mode", "connector", "sluice always confirms to the slot what Kafka has acknowledged"),
	cdc.Ignored("lsn.flush.timeout.action", "sluice confirms positions asynchronously, without a timeout"),
	cdc.Ignored("lsn.flush.timeout.ms", "sluice confirms positions asynchronously, without a timeout"),
	cdc.Ignored("hstore.handling.mode", "hstore is written as types without a mapping are (see the type mapping)"),
	cdc.Ignored("include.unknown.datatypes", "columns of types without a mapping are written as text (see the type mapping)"),
	cdc.Ignored("message.prefix.include.list", "sluice does not capture logical decoding messages (pg_logical_emit_message)"),
	cdc.Ignored("message.prefix.exclude.list", "sluice does not capture logical decoding messages (pg_logical_emit_message)"),
	cdc.Unsupported("publish.via.partition.root", "false", "changes of partitions are captured as the partitions' own tables; capture the partitions with table.include.list"),
	cdc.Unsupported("replica.identity.autoset.values", "", "set each table's replica identity with ALTER TABLE … REPLICA IDENTITY"),
	cdc.Ignored("schema.refresh.mode", "sluice refreshes a table's schema from the relation message Postgres sends before its changes"),
	cdc.Unsupported("slot.failover", "false", "create the slot yourself with failover enabled (Postgres 17+) before the connector starts"),
	cdc.Ignored("slot.max.retries", "the daemon restarts a failed connector with exponential backoff"),
	cdc.Ignored("slot.retry.delay.ms", "the daemon restarts a failed connector with exponential backoff"),
	cdc.Unsupported("slot.stream.params", "", "sluice sets pgoutput's parameters itself (proto_version, publication_names)"),
	cdc.Ignored("snapshot.isolation.mode", "the snapshot reads the slot's exported snapshot, consistent with where streaming starts"),
	cdc.Unsupported("snapshot.locking.mode", "none", "the snapshot reads the slot's exported snapshot and needs no table locks"),
	cdc.Ignored("snapshot.locking.mode.custom.name", "applies only to snapshot.locking.mode=custom, which sluice does not have"),
	cdc.Ignored("status.update.interval.ms", "sluice reports its position to the server every 10 s and whenever Kafka acknowledges"),
	cdc.Ignored("xmin.fetch.interval.ms", "source.xmin is not tracked"),
}
