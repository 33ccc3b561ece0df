// Package cdc is the source core: what every change-data-capture source
// shares, whatever its database. A database supplies its log reader, its
// position type, a table reader for snapshots (and a chunk reader with
// watermarks for incremental ones), its type mapping and its preflight;
// this package supplies the rest:
//
//   - the Debezium configuration keys every source takes (Keys, Config),
//     include/exclude filters (Filter) and message.key.columns (KeyColumns);
//   - offset state with snapshot progress (State, Store);
//   - the snapshot.mode decision (Decide) and the snapshot driver that reads
//     tables in key order, in chunks, resuming after the last durable key
//     (Snapshot);
//   - incremental snapshots while streaming, by the watermark algorithm, and
//     blocking ones that hold the stream, started, paused and stopped by
//     signals from the signal table, a Kafka topic or the daemon
//     (Incremental, KafkaSignals);
//   - batching of the readers' chunks with the acknowledgement that confirms
//     positions only once Kafka holds everything before them (Batch, Acker);
//   - event.processing.failure.handling.mode for changes whose values do not
//     convert, with their dead-letter topic (Failures);
//   - draining on stop, and the metrics every source reports.
//
// Positions are a type parameter P: a Postgres LSN, a MySQL binlog file and
// position with its GTID set. P must encode to a JSON object; its fields
// become the fields of the stored offset.
package cdc
