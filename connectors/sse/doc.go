// Package sse is the Server-Sent Events sink: it follows change topics in
// Kafka and pushes every change to HTTP subscribers (browsers with
// EventSource, services with any SSE client), who can resume after a
// disconnect without losing or repeating an event.
//
// # Reading and fan-out
//
// One reader per connector consumes every partition of the topics directly
// (no consumer group), starting at the live end. Each record is decoded once
// through the schema registry and rendered once into an SSE frame; the frame's
// bytes are queued for every subscriber whose filter matches, at most
// subscriber.buffer.size frames each. A subscriber whose queue overflows is
// disconnected (it resumes with Last-Event-ID); it never slows the reader or
// the other subscribers. The sink commits nothing to Kafka: positions live in
// the event ids the subscribers hold.
//
// # Connections
//
// Once a request is accepted (authenticated, its parameters valid, its start
// position found), its HTTP/1.x connection is taken over from net/http
// (http.Hijacker) and the stream is written on it: the response carries
// Connection: close and no Transfer-Encoding, the connection's close being
// its end, and net/http's goroutines and buffers for the connection are
// gone once the retry field and any replay are written. An idle subscriber
// then holds its socket, its filter and a few hundred bytes, and no
// goroutine. When frames are queued and no writer runs, one goroutine starts
// that writes all of them with one writev, under write.timeout.ms, and ends
// when the queue is empty; a failed or timed-out write disconnects the
// subscriber. One ticker per stream sends heartbeats to the subscribers
// written nothing for heartbeat.interval.ms, and on Linux one goroutine per
// stream waits in epoll for clients closing their connections, which are
// then dropped at once. A request that cannot be taken over (HTTP/2) keeps
// its handler goroutine, which writes the same queue whenever woken.
//
// # Event ids and resume
//
// An event's id is the position to resume from: for every partition of every
// topic, the offset of the next record, after this event. It is encoded as
// base64url (no padding) of a version byte followed, per topic, by a 32-bit
// FNV-1a hash of its name, the partition count and each partition's next
// offset as unsigned varints. A request carrying Last-Event-ID (or the
// lastEventId query parameter) is first served the records between that
// position and the live reader's position, read back by a short-lived
// reader, then handed to the live reader with neither gap nor duplicate.
// On connect a frame holding only an id is sent, so a client that has
// received no event yet still resumes from where it connected.
//
// An id that does not decode, that names a topic or partition count other
// than the current ones, that points past the reader's position, or whose
// records retention has already deleted (or more than replay.max.records
// behind) is answered with an event named "reset" whose data says why; the
// stream then continues from the live end, and the client should reload its
// state. Ids with characters outside base64url, or longer than 4096 bytes,
// are refused with 400.
//
// # JSON rendering
//
// The data of an event is one line of JSON. Values are rendered from the
// writer schema of the record:
//
//   - booleans and integers of every width (including the integer encodings
//     of dates, times and timestamps, such as io.debezium.time.MicroTimestamp
//     in microseconds since the epoch) as JSON numbers, exactly; note that
//     JavaScript's JSON.parse rounds integers beyond ±2^53;
//   - floating point numbers as JSON numbers, NaN and infinities as the
//     strings "NaN", "Infinity" and "-Infinity";
//   - decimals (org.apache.kafka.connect.data.Decimal and
//     io.debezium.data.VariableScaleDecimal) as a JSON string holding the
//     exact decimal, with every digit of its scale ("12.50");
//   - strings as JSON strings; bytes as standard base64 in a JSON string;
//   - structs as objects with their fields in schema order, arrays as arrays,
//     null as null.
//
// With format=envelope the data is Debezium's envelope (before, after,
// source, op, ts_ms, transaction, as the record holds them). With
// format=flat it is the row — after, or before for deletes — with
// "__op", "__table" (schema.table, or database.table for MySQL), "__ts_ms"
// (the envelope's ts_ms) and "__key" (the record key as an object, or null)
// added. Tombstones (records without a value) are not sent.
//
// # Transforms
//
// A connector's transforms.* and predicates.* keys (Kafka Connect's single
// message transforms) apply to each record after it is decoded, so
// subscribers get what they put out: the topic a router gave the record
// (which topic filters match), a value with fields removed or renamed, no
// event for a record a transform dropped. A value that is no longer a
// Debezium envelope (a row ExtractNewRecordState flattened) is sent as it
// is in both formats; its event name is its "__op" field when it has one
// (add.fields=op), none otherwise, and it has no table, so table filters
// never select it. A record a transform fails on is skipped, like one that
// cannot be decoded, and counted in sluice_sse_records_skipped_total.
package sse
