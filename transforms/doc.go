// Package transforms is Kafka Connect's single message transforms for
// sluice: a chain built once, at configuration time, from a connector's
// transforms.* and predicates.* keys, that rewrites records on their way
// into Kafka (after a source built its change events, before they are
// encoded) or out of it (after a sink decoded them). It imports only
// schema; connectors never call it: the daemon plugs a Chain into the
// connectors.Stage seam of a source's Kafka writer or of a sink.
//
// The syntax is Kafka Connect's:
//
//	"transforms": "route,unwrap",
//	"transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
//	"transforms.route.regex": "(.*)",
//	"transforms.route.replacement": "$1-copy",
//	"transforms.route.predicate": "isOrders",
//	"transforms.route.negate": "false",
//	"predicates": "isOrders",
//	"predicates.isOrders.type": "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
//	"predicates.isOrders.pattern": ".*orders"
//
// Every transform and predicate registers its short name and the Java class
// names existing configurations use (Register, RegisterPredicate), with a
// conf.Spec of its keys, so bad settings are errors naming the full key
// ("transforms.route.regex: …") when the configuration is checked.
//
// A transform that changes the shape of a value derives its output schema
// once per input schema (schemas are immutable and compared by identity)
// and never per record, so each output schema is registered once.
package transforms
