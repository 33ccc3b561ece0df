// Package registry registers and looks up Avro schemas in a Confluent-compatible Schema
// Registry for the Confluent wire format, the way Confluent's Avro serializers do: subject
// naming strategies, auto.register.schemas, use.latest.version, and a cache so that the
// encode and decode hot paths never call the registry once warm.
//
// The embedded registry sluice can serve itself is in the subpackage embedded.
package registry
