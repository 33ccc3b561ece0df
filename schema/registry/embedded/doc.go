// Package embedded is a Confluent-compatible Schema Registry that sluice serves itself, so a
// sidecar needs no separate registry process.
//
// A Registry is an http.Handler speaking Confluent's REST API (subjects, versions, schemas by
// id, config, compatibility checks, mode) for Avro schemas, with Confluent's status codes and
// error codes. Its state lives in a Kafka topic (default "_schemas"); see store.go for how
// several processes sharing that topic agree on every schema id and version.
package embedded
