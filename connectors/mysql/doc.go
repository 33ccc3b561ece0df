// Package mysql is the MySQL and MariaDB source connector: it snapshots the
// captured tables consistently with a binlog position, then streams their
// committed changes from the row-based binary log, from exactly that
// position, as a replica does. It builds on the source core in
// connectors/cdc (offsets, snapshot.mode, snapshot driver, batching and
// acknowledgement).
//
// Requirements, checked before anything is read (errors name the setting):
// log_bin on, binlog_format=ROW, binlog_row_image=FULL, REPLICATION SLAVE,
// REPLICATION CLIENT (MariaDB: BINLOG MONITOR) and SELECT for
// database.user, and a database.server.id that no other replica connected
// to the server uses (SHOW SLAVE HOSTS). An id equal to the server's own
// server_id is accepted with a warning: MariaDB streams to it.
// binlog_row_metadata other than FULL (MySQL 8's default MINIMAL,
// MariaDB's NO_LOG) is accepted with a warning: see Schema history.
//
// Schema history: each row is decoded with the table schema in force when
// it was written. With binlog_row_metadata=FULL the table map before each
// row event names the columns and they are used. Otherwise the names (and
// signedness, character sets, enum and set members, key) come from the
// schema history (history.go): every captured table's definition read
// from information_schema at the start position, then each DDL statement
// applied in binlog order, parsed with the TiDB parser (ddl.go: CREATE
// TABLE, CREATE TABLE … LIKE, ALTER TABLE ADD/DROP/MODIFY/CHANGE/RENAME
// COLUMN with FIRST and AFTER, ADD/DROP PRIMARY KEY, table charset and
// CONVERT TO, RENAME TABLE, DROP TABLE, DROP DATABASE; TRUNCATE changes
// nothing). The history is kept in the offset store under
// history=<topic.prefix> (not in a Kafka topic, so the
// schema.history.internal.* keys are accepted and unused); a restart
// uses the definitions as of the stored position, later entries being
// discarded and re-applied as their DDL is read again; saving keeps only
// the latest definition of each table at or before the saved position,
// plus later entries. A table map whose column count or types disagree
// with the history's definition stops the stream naming the table and
// position. A DDL statement on a captured table that the parser cannot
// read (MariaDB types such as INET6 and UUID, INVISIBLE and COMPRESSED
// columns, system versioning …) is handled by reading the captured tables again
// from information_schema when the stream is at the server's current
// position; otherwise the stream stops naming the statement and position.
// So does a restart from a stored position with no history at or before
// it. With FULL metadata the history is kept all the same, for the
// schema-change records, and these failures are warnings. DDL changing a
// database's default character set is followed by CREATE and ALTER
// DATABASE; a database the history does not know gets its current one.
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
// and again after any DDL (with binlog_row_metadata=FULL; otherwise from
// the schema history); replaying binlog from before a DDL that changed the
// primary key with FULL metadata keys those rows by the current key. Schema
// changes are carried by new value schemas and, with
// include.schema.changes (default true), by a record per DDL statement
// of a captured database on the topic named by topic.prefix, with
// Debezium's SchemaChangeKey and SchemaChangeValue schemas (source,
// ts_ms, databaseName, ddl, and a CREATE, ALTER or DROP table change per
// captured table changed, its columns described from the schema history);
// the statement's end position is confirmed once its record is
// acknowledged. A snapshot writes first, as Debezium's does, the records
// of the captured tables' structure (SET character_set_server, DROP
// TABLE, DROP and CREATE DATABASE, USE, and SHOW CREATE TABLE with the
// table's definition from the schema history), in one chunk before its
// rows that carries its first progress: a snapshot resumed from saved
// progress does not write them again, one started over does. TRUNCATE,
// which changes no schema, writes no record: it gives each captured table
// it empties a truncate event (op t) instead, written unless
// skipped.operations holds t (its default), as Debezium does. In table
// changes, jdbcType and typeName follow Debezium's mapping approximately,
// length and scale are what its DDL parser reads of the column's type,
// nativeType is always null. Memory is bounded: a
// transaction's events are handed on every 1,024 events, before its
// commit is seen.
//
// Positions: an event's event.Position.Commit is
// (binlog file sequence << 32 | position of the end of its transaction's
// first event) << 3; see event.BinlogCommit.
//
// Failures: a lost connection or a restarted server ends Run with a
// transient error, and the restart resumes from the stored position; access
// denied (1045, 1044) is permanent; a stored binlog file the server no
// longer has is cdc.ErrPositionLost, or a new snapshot with
// snapshot.mode=when_needed. A row holding a value that does not convert
// follows event.processing.failure.handling.mode (cdc.Failures): by
// default the connector stops for good naming the table, column, type and
// binlog position. docs/type-mapping.md lists the values at the edges of
// the type mapping (zero dates, TIME beyond a day, MariaDB's UUID and INET
// types, unknown types) and what they become.
//
// Tested against a live MariaDB 10.11 (testenv) through a real Kafka:
// snapshot then stream under concurrent inserts, updates, deletes and key
// changes; every column type, snapshotted and streamed, against exact
// values; stop and restart without duplicates or gaps; DDL (add, drop and
// move columns) replayed from an older position; the same, plus a renamed
// column, ENUM members and UNSIGNED, with table maps stripped of their
// names and metadata as NO_LOG logs them (a test hook: the server runs
// FULL) and the schema history stored at that older position, and the
// errors without that history and at an unparsable ALTER TABLE (ADD
// COLUMN … INET6); the schema-change records of CREATE, ALTER and DROP
// TABLE decoded with the registry, those of a snapshot (again when it
// starts over, not when it resumes), and none with
// include.schema.changes=false; a purged
// position; the preflight checks of a server id in use, a user without
// replication privileges and a wrong password. Parsing of the DDL forms
// above is unit-tested. Handled in code but not tested live: a server
// really running MINIMAL or NO_LOG (its warning included), the re-read of
// tables after an unparsable statement at the current position, CREATE
// and ALTER DATABASE character sets, DROP DATABASE, RENAME TABLE and the
// history's compaction,
// MySQL 8 (its uuid:interval GTID sets, caching_sha2_password
// authentication, which go-mysql implements, FLUSH TABLES WITH READ LOCK
// snapshots, its binary JSON type), gtid.source.includes/excludes and
// heartbeat.interval.ms.
package mysql
