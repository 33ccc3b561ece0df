// Package schema turns the shared change-event model (schema/event) into Avro
// the way Debezium with Confluent's AvroConverter does, and encodes and
// decodes rows and whole events in that form.
//
//   - ForTable derives a table version's Key, Value and Envelope schemas with
//     Debezium's record names, source block and envelope layout.
//   - AvroJSON renders an event.Schema as the Avro schema JSON a Confluent
//     converter would register; FromAvro parses any Avro schema JSON (for
//     example one written by Debezium and fetched from a registry) back into
//     an event.Schema.
//   - Codec and EnvelopeCodec encode and decode values with a plan compiled
//     once per schema; AppendFrame and SplitFrame handle the Confluent wire
//     format (magic byte 0, 4-byte big-endian schema id, Avro body).
package schema
