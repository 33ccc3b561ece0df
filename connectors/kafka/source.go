package kafka

import (
	"context"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/schema/event"
)

// SourceClientOpts are the options of the client a source of this
// configuration produces through (see ProducerConfig.ClientOpts); the
// caller adds the seed brokers and security options.
func SourceClientOpts(cfg *conf.Config) []kgo.Opt { return ProducerConfigFrom(cfg).ClientOpts() }

// NewSourceWriter builds the Writer a source of class, configured by cfg,
// emits to: topics created as its producer keys say, schema names under its
// topic prefix, tombstones as tombstones.on.delete says, keys and values
// written by the converters its key.converter and value.converter keys
// choose (Avro with reg unless they say otherwise).
// client must have been built with SourceClientOpts(cfg). The daemon, tests
// and benchmarks all build a source's way into Kafka here.
func NewSourceWriter(client *kgo.Client, reg SchemaRegistrar, class *connectors.Class, cfg *conf.Config, opts ...Option) *Writer {
	out := class.Output(cfg)
	w := NewWriter(client, reg, ProducerConfigFrom(cfg).Topics(client),
		schema.Options{Prefix: out.TopicPrefix, Connector: class.Connector},
		append([]Option{WithOutput(out)}, opts...)...)
	w.recordErrors = recordErrorsFrom(cfg)
	w.maxRecord = ProducerConfigFrom(cfg).MaxRequestSize
	w.keys = sourceConverter(cfg, KeyConverterKey, reg, w.logger)
	w.values = sourceConverter(cfg, ValueConverterKey, reg, w.logger)
	return w
}

// sourceConverter builds a source's converter of role; a converter that
// cannot be built fails the first record it is asked to write.
func sourceConverter(cfg *conf.Config, role string, reg SchemaRegistrar, logger *slog.Logger) Converter {
	c, err := NewConverter(ConverterConfigFrom(cfg, role), reg, logger)
	if err != nil {
		return brokenConverter{connectors.Permanent(err)}
	}
	return c
}

// brokenConverter is a converter that could not be built.
type brokenConverter struct{ err error }

func (c brokenConverter) Encoder(context.Context, string, bool, *event.Schema) (Encoder, error) {
	return nil, c.err
}
