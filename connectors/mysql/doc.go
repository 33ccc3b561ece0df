// Package mysql is the MySQL and MariaDB source connector: it snapshots the
// captured tables consistently with a binlog position, then streams their
// committed changes from the row-based binary log, from exactly that
// position, as a replica does. It builds on the source core in
// connectors/cdc (offsets, snapshot.mode, snapshot driver, batching and
// acknowledgement).
//
// Requirements, checked before anything is read (errors name the setting):
// log_bin on, binlog_format=ROW, binlog_row_image=FULL,
// binlog_row_metadata=FULL (row events then name their columns, so no
// schema history topic is kept: the schema.history.internal.* keys are
// accepted and unused), REPLICATION SLAVE, REPLICATION CLIENT (MariaDB:
// BINLOG MONITOR) and SELECT for database.user, and a database.server.id
// that no other replica connected to the server uses (SHOW SLAVE HOSTS).
// An id equal to the server's own server_id is accepted with a warning:
// MariaDB streams to it.
//
// Snapshot: MariaDB's START TRANSACTION WITH CONSISTENT SNAPSHOT reports the
// binlog position it is consistent with (Binlog_snapshot_file and
// Binlog_snapshot_position), so no lock is taken. MySQL has no such status:
// there FLUSH TABLES WITH READ LOCK is held while the transaction starts and
// SHOW MASTER STATUS is read, unless snapshot.locking.mode=none. Tables are
// read in primary-key order in chunks of snapshot.fetch.size rows, all in
// that one transaction; snapshot values are converted into the values the
// binlog decoding yields, so a row snapshotted and the same row streamed
// are equal. An interrupted snapshot resumes after the last durable key,
// from a newer consistent read; streaming from the original position then
// brings every row to its latest state.
//
// Streaming: each committed transaction's row events become change events
// (an update that changes the key becomes a delete and a create); a
// transaction's end position (binlog file, position after its XID or
// COMMIT, GTID set including it) is stored only once Kafka acknowledged
// every event before it, so a restart resumes between transactions. A
// table gets a new event schema only when its captured columns change. The
// primary key is read from information_schema when a table is first seen
// and again after any DDL; replaying binlog from before a DDL that changed
// the primary key keys those rows by the current key. Schema changes are
// carried by new value schemas; include.schema.changes is accepted, but no
// schema-change topic is written. Memory is bounded: a transaction's events
// are handed on every 1,024 events, before its commit is seen.
//
// Positions: an event's event.Position.Commit is
// (binlog file sequence << 32 | position of the end of its transaction's
// first event) << 3; see event.BinlogCommit.
//
// Failures: a lost connection or a restarted server ends Run with a
// transient error, and the restart resumes from the stored position; access
// denied (1045, 1044) is permanent; a stored binlog file the server no
// longer has is cdc.ErrPositionLost, or a new snapshot with
// snapshot.mode=when_needed.
//
// Tested against a live MariaDB 10.11 (testenv) through a real Kafka:
// snapshot then stream under concurrent inserts, updates, deletes and key
// changes; every column type, snapshotted and streamed, against exact
// values; stop and restart without duplicates or gaps; DDL (add, drop and
// move columns) replayed from an older position; a purged position; the
// preflight checks of a server id in use, a user without replication
// privileges and a wrong password. Handled in code but not tested live:
// MySQL 8 (its uuid:interval GTID sets, caching_sha2_password
// authentication, which go-mysql implements, FLUSH TABLES WITH READ LOCK
// snapshots, its binary JSON type), gtid.source.includes/excludes and
// heartbeat.interval.ms.
package mysql
