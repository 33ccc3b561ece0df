package kafka

import (
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ProducerConfig is what a source connector's configuration says about
// producing: Kafka Connect's producer.override.* and topic.creation.default.*
// keys that sluice allows.
type ProducerConfig struct {
	// Compression is none, gzip, snappy, lz4 or zstd; ZstdLevel is zstd's
	// level (Kafka's compression.zstd.level).
	Compression string
	ZstdLevel   int
	Linger      time.Duration
	// MaxRequestSize bounds one record batch, and so one record; topics
	// sluice creates accept messages of this size.
	MaxRequestSize int32
	// Partitions and ReplicationFactor (-1: the broker's default) shape the
	// topics sluice creates.
	Partitions        int32
	ReplicationFactor int16
}

// The producer's buffer is bounded by bytes, which bound memory; the record
// limit is only a backstop for very small records. The Writer waits for
// room below MaxBufferedBytes itself.
const (
	MaxBufferedBytes   = 4 << 20
	maxBufferedRecords = 1 << 20
)

// ClientOpts are the franz-go options for producing with this
// configuration: acks from all in-sync replicas and the idempotent producer
// (franz-go's defaults, stated here so they cannot drift), which keep order
// per key and lose nothing Kafka acknowledged.
func (p ProducerConfig) ClientOpts() []kgo.Opt {
	codec := map[string]kgo.CompressionCodec{
		"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(), "snappy": kgo.SnappyCompression(),
		"lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression().WithLevel(p.ZstdLevel),
	}[p.Compression]
	opts := []kgo.Opt{
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(p.Linger),
		kgo.ProducerBatchCompression(codec),
		kgo.MaxBufferedRecords(maxBufferedRecords),
		kgo.MaxBufferedBytes(MaxBufferedBytes),
	}
	if p.MaxRequestSize > 0 {
		opts = append(opts, kgo.ProducerBatchMaxBytes(p.MaxRequestSize))
	}
	return opts
}

// Topics returns the TopicEnsurer for this configuration, creating topics
// that accept records up to MaxRequestSize.
func (p ProducerConfig) Topics(cl *kgo.Client) *Topics {
	var configs map[string]*string
	if p.MaxRequestSize > 0 {
		size := strconv.Itoa(int(p.MaxRequestSize))
		configs = map[string]*string{"max.message.bytes": &size}
	}
	return NewTopics(kadm.NewClient(cl), p.Partitions, p.ReplicationFactor, configs)
}
