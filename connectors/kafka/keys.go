package kafka

import (
	"time"

	"github.com/sluice-cdc/sluice/connectors/conf"
)

// ProducerKeys are the producer and topic-creation keys every source
// connector accepts, with Kafka Connect's names. Only these producer
// overrides are allowed: arbitrary client settings in connector configs have
// been a way into Kafka Connect workers.
var ProducerKeys = []conf.Key{
	{Name: "topic.creation.default.partitions", Type: conf.Int, Default: "1", Min: 1, Max: 100000, Group: "Topics", Doc: "Partitions of topics sluice creates."},
	{Name: "topic.creation.default.replication.factor", Type: conf.Int, Default: "-1", Min: -1, Max: 32767, Group: "Topics", Doc: "Replication factor of topics sluice creates; -1 takes the broker's default."},
	{Name: "producer.override.compression.type", Type: conf.String, Default: "zstd", Allowed: []string{"none", "gzip", "snappy", "lz4", "zstd"}, Group: "Producer", Doc: "Compression of produced batches."},
	{Name: "producer.override.compression.zstd.level", Type: conf.Int, Default: "1", Min: -7, Max: 22, Group: "Producer", Doc: "zstd level (Kafka's compression.zstd.level). Kafka's default is 3; sluice takes 1, which in measurements compressed change events nearly as well for a third less CPU."},
	{Name: "producer.override.linger.ms", Type: conf.Int, Default: "5", Min: 0, Max: 60000, Group: "Producer", Doc: "How long a produce batch may wait to fill."},
	{Name: "producer.override.max.request.size", Type: conf.Int, Default: "16777216", Min: 1024, Max: 1 << 30, Group: "Producer", Doc: "Largest record batch, and so largest record, in bytes; topics sluice creates get max.message.bytes to match. Larger than Kafka's 1 MiB default so that one wide row does not stop the connector."},
}

// ProducerConfigFrom reads the ProducerKeys of a parsed configuration.
func ProducerConfigFrom(c *conf.Config) ProducerConfig {
	return ProducerConfig{
		Compression:       c.Enum("producer.override.compression.type"),
		ZstdLevel:         int(c.Int("producer.override.compression.zstd.level")),
		Linger:            time.Duration(c.Int("producer.override.linger.ms")) * time.Millisecond,
		MaxRequestSize:    int32(c.Int("producer.override.max.request.size")),
		Partitions:        int32(c.Int("topic.creation.default.partitions")),
		ReplicationFactor: int16(c.Int("topic.creation.default.replication.factor")),
	}
}
