package kafka

import (
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/schema"
)

// SourceClientOpts are the options of the client a source of this
// configuration produces through (see ProducerConfig.ClientOpts); the
// caller adds the seed brokers and security options.
func SourceClientOpts(cfg *conf.Config) []kgo.Opt { return ProducerConfigFrom(cfg).ClientOpts() }

// NewSourceWriter builds the Writer a source of class, configured by cfg,
// emits to: topics created as its producer keys say, Avro names under its
// topic prefix, tombstones as tombstones.on.delete says. client must have
// been built with SourceClientOpts(cfg). The daemon, tests and benchmarks
// all build a source's way into Kafka here.
func NewSourceWriter(client *kgo.Client, reg SchemaRegistrar, class *connectors.Class, cfg *conf.Config, opts ...Option) *Writer {
	out := class.Output(cfg)
	return NewWriter(client, reg, ProducerConfigFrom(cfg).Topics(client),
		schema.Options{Prefix: out.TopicPrefix, Connector: class.Connector},
		append([]Option{WithTombstones(out.Tombstones)}, opts...)...)
}
