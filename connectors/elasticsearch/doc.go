// Package elasticsearch is the Elasticsearch sink: it consumes Debezium
// change topics (Avro in Confluent's wire format) in a consumer group and
// keeps one index per topic equal to the source table, with the keys and
// defaults of Confluent's Elasticsearch sink connector.
//
// Transforms. A connector's transforms.* and predicates.* keys (Kafka
// Connect's single message transforms) apply to each record after it is
// decoded, as in Kafka Connect: the sink sees the record they put out, so
// RegexRouter chooses the index, ExtractNewRecordState turns envelopes into
// flattened rows, and a record a transform drops is skipped (and counts as
// written). A record a transform fails on follows errors.tolerance, with
// the stage TRANSFORMATION in its dead-letter headers.
//
// Documents and ids. The index is the topic name lower-cased. The document
// id is the record key: a single-field key as it is, a composite key as the
// JSON array of its values, a key without a Confluent frame as its text;
// ids over 512 bytes follow behavior.on.malformed.documents. Envelopes apply "after" (op c, u, r) or
// delete (op d); flattened records (after ExtractNewRecordState) are the row
// itself, deleted when "__deleted" is true. Documents are the row's fields
// in JSON: decimals as exact JSON numbers, bytes as base64, temporal values
// as the numbers (or zoned strings) Debezium writes, NaN and infinities as
// null.
//
// Ordering. Every index and delete carries an external version
// (version_type external_gte) derived from the source position, with
// transaction.total_order, packed by event.Position.Version. For Postgres
// events the position is the commit LSN of the event's transaction, the
// decimal number after the last ':' of transaction.id ("<xid>:<commit
// LSN>"), or source.lsn when the event has no transaction block or its id
// is not of that form (snapshot reads, whose source.lsn is the slot's
// consistent point, or for incremental snapshot reads the LSN of their
// chunk's high watermark, and for blocking ones where the stream was held;
// events written without transaction metadata).
// Debezium's own events carry the change's LSN after the ':' and are
// versioned by it. The commit LSN, not source.lsn (the LSN of the change
// itself): a transaction that began before a slot's consistent point and
// committed after it has changes before the consistent point, newer than
// the snapshot's reads, while its commit is after it. For MySQL and
// MariaDB events the position is source.file and source.pos
// (event.BinlogCommit; for incremental snapshot reads those of the chunk's
// high watermark row, for blocking ones where the stream was held). A replayed or late older event is refused by
// Elasticsearch (counted as a version conflict), never applied.
// Flattened records are versioned by an int64 "__source_lsn" or "__lsn"
// field when they have one; when they also have a string
// "__transaction_id" or "__id" field of the form "<xid>:<commit LSN>"
// (add.fields=source.lsn,transaction.id), by that commit LSN instead.
// Without it, a change made before a snapshot's consistent point in a
// transaction committed after it is refused as older than the snapshot
// read of its row. Records without a source position (other connectors,
// flattened rows without an LSN, tombstones) are written without a version
// and rely on Kafka's order within a partition. Deletes are remembered by
// Elasticsearch for index.gc_deletes (60 s by default): an older event
// replayed later than that can bring a deleted document back until the
// replay reaches the delete again.
//
// Partial writes. Elasticsearch's update API cannot carry external
// versions, so every write is a whole-document index: fields holding the
// unavailable-value placeholder (unchanged TOASTed columns), and with
// write.method=upsert the fields the record does not carry, are taken from
// the newest of the stored document and the earlier writes of the lane's
// batch (a document's writes all take one lane, in order, so the stored
// document already holds every earlier batch's).
//
// Tombstones. With behavior.on.null.values=delete a tombstone deletes its
// key, except right after a versioned delete of the same key (Debezium's
// delete-then-tombstone pair), where the delete already did it. So that a
// restarted consumer never reads such a tombstone without its delete, the
// offset of a versioned delete is committed only with the record after it.
//
// TRUNCATE. A truncate event deletes every document of the index with the
// event's version: documents written later survive, and the index keeps its
// mappings.
//
// Delivery. The consumer reads and converts records while
// max.in.flight.requests lanes send bulk requests back to back; at most
// max.buffered.records records are between being read and being written,
// and reading pauses while that many are. Offsets are committed every
// second, per partition only up to the last record whose writes, and every
// earlier record's, Elasticsearch acknowledged or the dead-letter topic
// holds. A rebalance waits for the records in flight to be written and
// commits before the partitions go; so does a stop, for up to 5 s. 429, 5xx and timeouts are retried with
// exponential backoff and jitter; after max.retries the sink fails
// permanently with the reason, with nothing unwritten committed. A topic
// deleted and recreated is consumed again by a new Kafka client, from the
// group's committed offsets, or from its beginning when there are none.
//
// Membership. With a state directory (always, in the daemon) the sink is a
// static member of its group (group.instance.id kept in that directory): a
// daemon restarted after a crash takes its partitions back at once rather
// than after the dead member's session timeout. When the sink stops for
// any other reason it leaves the group.
package elasticsearch
