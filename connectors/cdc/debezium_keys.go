package cdc

import (
	"regexp"

	"github.com/sluice-cdc/sluice/connectors/conf"
)

// debeziumKeys declares the keys Debezium's Postgres and MySQL connectors
// share that sluice does not act on, so a pasted configuration loads or is
// refused with a message that says what to do: Ignored keys tune what
// sluice does its own way, Unsupported keys ask for a behaviour sluice does
// not have (accepted at Debezium's default, which is sluice's behaviour).
func debeziumKeys() []conf.Key {
	const (
		useTransforms = "shape values with transforms (MaskField, Cast, ReplaceField) or drop the column with column.exclude.list"
		ownBatching   = "sluice batches events itself and bounds its queues by memory; Kafka's batching is tuned with producer.override.*"
		ownRestarts   = "the daemon restarts a failed connector after a backoff of 1 s doubling to 10 s"
		ownMetrics    = "sluice's metrics are Prometheus series at /metrics, labelled by connector"
		noLineage     = "sluice does not emit OpenLineage events"
	)
	return []conf.Key{
		family("column.mask.hash.<hash>.with.salt.<salt>", `^column\.mask\.hash\.[^.]+\.with\.salt\..+$`, useTransforms),
		family("column.mask.with.<n>.chars", `^column\.mask\.with\.[0-9]+\.chars$`, useTransforms),
		family("column.truncate.to.<n>.chars", `^column\.truncate\.to\.[0-9]+\.chars$`, useTransforms),
		Unsupported("column.propagate.source.type", "", "the Avro schema already names each column's Debezium logical type; the database's own type names are not added"),
		Unsupported("datatype.propagate.source.type", "", "the Avro schema already names each column's Debezium logical type; the database's own type names are not added"),
		Ignored("connection.validation.timeout.ms", "sluice checks the connection when the connector starts, with the connect timeout of the database URL"),
		Unsupported("converters", "", "custom converters are Java classes; change values with transforms (Cast, TimestampConverter) or the *.handling.mode keys"),
		Ignored("custom.metric.tags", ownMetrics),
		Ignored("custom.sanitize.pattern", "sluice never shows PASSWORD keys or resolved secret references in responses or logs"),
		Unsupported("database.initial.statements", "", "set session defaults on the connector's database user instead (for example ALTER ROLE … SET)"),
		Ignored("database.query.timeout.ms", "sluice's snapshot queries read in chunks and are cancelled when the connector stops"),
		Ignored("errors.max.retries", ownRestarts),
		Ignored("executor.shutdown.timeout.ms", "a stopping connector drains for a bounded time set by the daemon"),
		Ignored("extended.headers.enabled", "sluice adds no __debezium.context.* headers; the source block of every event names the connector"),
		Unsupported("guardrail.collections.max", "0", "limit the captured tables with table.include.list"),
		Ignored("guardrail.collections.limit.action", "applies only with guardrail.collections.max, which sluice does not have"),
		Unsupported("include.schema.comments", "false", "table and column comments are not added to the schemas"),
		Unsupported("incremental.snapshot.watermarking.strategy", "insert_insert", "sluice writes its watermarks its own way (a logical decoding message on Postgres) and keeps no watermark rows"),
		Ignored("signal.poll.interval.ms", "signals are read from the database's log as they commit, and from the REST API within a second"),
		Ignored("internal.advanced.metrics.enable", ownMetrics),
		Ignored("internal.legacy.snapshot.max.threads", "sluice snapshots one table at a time"),
		Ignored("legacy.snapshot.max.threads", "sluice snapshots one table at a time"),
		Ignored("internal.log.position.check.enable", "sluice always checks that the stored position is still in the database's log, and snapshot.mode says what to do when it is not"),
		Ignored("internal.snapshot.scan.all.columns.force", "sluice reads the columns of captured tables only"),
		Ignored("max.batch.size", ownBatching),
		Ignored("max.queue.size", ownBatching),
		Ignored("max.queue.size.in.bytes", ownBatching),
		Ignored("memory.management.schemas.class", "sluice keeps table schemas in memory"),
		Ignored("memory.management.tables.class", "sluice keeps table schemas in memory"),
		Unsupported("notification.enabled.channels", "", "follow a connector's state with GET /connectors/{name}/status and the metrics"),
		Ignored("notification.sink.topic.name", "applies only with notification.enabled.channels, which sluice does not have"),
		Unsupported("openlineage.integration.enabled", "false", noLineage),
		Ignored("openlineage.integration.config.file.path", noLineage),
		Ignored("openlineage.integration.dataset.kafka.bootstrap.servers", noLineage),
		Ignored("openlineage.integration.job.description", noLineage),
		Ignored("openlineage.integration.job.namespace", noLineage),
		Ignored("openlineage.integration.job.owners", noLineage),
		Ignored("openlineage.integration.job.tags", noLineage),
		Ignored("poll.interval.ms", "sluice hands events on as they arrive"),
		Unsupported("post.processors", "", "shape events with transforms"),
		Ignored("query.fetch.size", "snapshot.fetch.size sets how many rows a snapshot reads at a time"),
		Ignored("retriable.restart.connector.wait.ms", ownRestarts),
		Unsupported("schema.name.adjustment.mode", "none", "schema names are written as Debezium writes them with the default mode"),
		Unsupported("snapshot.delay.ms", "0", "start the connector when the snapshot should begin"),
		Unsupported("streaming.delay.ms", "0", "streaming begins as soon as the snapshot ends"),
		Unsupported("snapshot.include.collection.list", "", "choose the captured tables, which are all snapshotted, with table.include.list"),
		Ignored("snapshot.lock.timeout.ms", "sluice's snapshots take no table locks"),
		Ignored("snapshot.max.threads", "sluice snapshots one table at a time"),
		Ignored("snapshot.max.threads.multiplier", "sluice snapshots one table at a time"),
		Ignored("snapshot.mode.configuration.based.snapshot.data", "applies only to snapshot.mode=configuration_based, which sluice does not have"),
		Ignored("snapshot.mode.configuration.based.snapshot.on.data.error", "applies only to snapshot.mode=configuration_based, which sluice does not have"),
		Ignored("snapshot.mode.configuration.based.snapshot.on.schema.error", "applies only to snapshot.mode=configuration_based, which sluice does not have"),
		Ignored("snapshot.mode.configuration.based.snapshot.schema", "applies only to snapshot.mode=configuration_based, which sluice does not have"),
		Ignored("snapshot.mode.configuration.based.start.stream", "applies only to snapshot.mode=configuration_based, which sluice does not have"),
		Ignored("snapshot.mode.custom.name", "applies only to snapshot.mode=custom, which sluice does not have"),
		Unsupported("snapshot.query.mode", "select_all", "snapshots read every captured column of every row; filter rows with a transform"),
		Ignored("snapshot.query.mode.custom.name", "applies only to snapshot.query.mode=custom, which sluice does not have"),
		Unsupported("snapshot.select.statement.overrides", "", "snapshots read every row; drop rows with the io.sluice.transforms.Filter transform"),
		Unsupported("snapshot.tables.order.by.row.count", "disabled", "tables are snapshotted in the order of table.include.list matches, by name"),
		Ignored("sourceinfo.struct.maker", "sluice writes Debezium's standard source block"),
		Ignored("statistics.metrics.enabled", ownMetrics),
		Ignored("table.ignore.builtin", "sluice never captures the database's own system tables"),
		Unsupported("topic.naming.strategy", "io.debezium.schema.SchemaTopicNamingStrategy", "topics are named <topic.prefix>.<schema or database>.<table>; rename them with the RegexRouter transform"),
		Unsupported("topic.delimiter", ".", "topics are named <topic.prefix>.<schema or database>.<table>; rename them with the RegexRouter transform"),
		Ignored("topic.cache.size", "sluice names topics once per table"),
		Ignored("transaction.metadata.factory", "sluice writes Debezium's standard transaction metadata"),
	}
}

// Ignored declares a Debezium key that has no effect in sluice, with why.
func Ignored(name, reason string) conf.Key {
	return conf.Key{Name: name, Type: conf.String, Ignored: reason, Group: "Debezium keys without effect"}
}

// Unsupported declares a Debezium key whose behaviour sluice does not
// have: accepted at def, Debezium's default, and otherwise refused with
// what to do instead.
func Unsupported(name, def, instead string) conf.Key {
	return conf.Key{Name: name, Type: conf.String, Default: def, Unsupported: instead, Group: "Debezium keys not supported"}
}

// family is an unsupported key family: every key pattern matches is refused.
func family(name, pattern, instead string) conf.Key {
	k := Unsupported(name, "", instead)
	k.Pattern = regexp.MustCompile(pattern)
	return k
}
