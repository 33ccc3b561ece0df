package kafka

import (
	"github.com/sluice-cdc/sluice/connectors/conf"
)

// SourceErrorKeys are Kafka Connect's error-handling keys as it applies them
// to a source: to records its transforms fail on, and to records larger
// than the producer may send (KIP-779). (A database value that does not
// convert follows event.processing.failure.handling.mode.)
var SourceErrorKeys = []conf.Key{
	{Name: "errors.tolerance", Type: conf.String, Default: "none", Allowed: []string{"none", "all"}, Group: "Errors", Doc: "none: a record a transform fails on, or one larger than producer.override.max.request.size, stops the connector (FAILED, naming the record and the cause; retrying cannot help); all: the record is skipped, logged at WARN, and the change's position still moves on."},
	{Name: "errors.log.enable", Type: conf.Boolean, Default: "false", Group: "Errors", Doc: "With errors.tolerance=all, log each skipped record at WARN with the transform's error."},
	{Name: "errors.log.include.messages", Type: conf.Boolean, Default: "false", Group: "Errors", Doc: "Add the skipped record's topic, key and value to that log line."},
	{Name: "errors.retry.timeout", Type: conf.Long, Default: "0", Ignored: "a transform fails the same way on every try, so sluice does not retry it", Group: "Errors"},
	{Name: "errors.retry.delay.max.ms", Type: conf.Long, Default: "60000", Ignored: "a transform fails the same way on every try, so sluice does not retry it", Group: "Errors"},
}

// recordErrors is how a Writer handles a record its stage fails on.
type recordErrors struct {
	tolerate, log, withMessage bool
}

func recordErrorsFrom(cfg *conf.Config) recordErrors {
	return recordErrors{tolerate: cfg.Enum("errors.tolerance") == "all", log: cfg.Bool("errors.log.enable"), withMessage: cfg.Bool("errors.log.include.messages")}
}
