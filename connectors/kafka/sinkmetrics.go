package kafka

import (
	"strconv"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors/metrics"
)

// SinkMetrics are the Kafka Connect sink task figures every sink reports:
// records read from Kafka (sink-record-read-total), records written to the
// target (sink-record-send-total) and the consumer lag of each partition
// it reads (records-lag). A sink's consume loop calls Fetched from one
// goroutine; Written may be called from any.
type SinkMetrics struct {
	reg       *metrics.Registry
	connector string
	polled    *metrics.Counter
	written   *metrics.Counter
	lag       map[topicPartition]*metrics.Gauge
}

// NewSinkMetrics registers the series of the sink connector in reg (a
// private registry when nil).
func NewSinkMetrics(reg *metrics.Registry, connector string) *SinkMetrics {
	if reg == nil {
		reg = metrics.NewRegistry()
	}
	l := []string{"connector"}
	return &SinkMetrics{reg: reg, connector: connector, lag: map[topicPartition]*metrics.Gauge{},
		polled:  reg.Counter("sluice_connector_records_polled_total", "Records a connector took in: change events a source read from its database, records a sink read from Kafka.", l, connector),
		written: reg.Counter("sluice_connector_records_written_total", "Records a connector handed on durably: change events a source had acknowledged by Kafka, records a sink wrote to its target.", l, connector),
	}
}

// Fetched counts the records of fs and sets the lag of each partition that
// returned some: the records after the last one read, up to the high
// watermark.
func (m *SinkMetrics) Fetched(fs kgo.Fetches) {
	fs.EachPartition(func(p kgo.FetchTopicPartition) {
		n := len(p.Records)
		if n == 0 {
			return
		}
		m.polled.Add(uint64(n))
		tp := topicPartition{p.Topic, p.Partition}
		g, ok := m.lag[tp]
		if !ok {
			g = m.reg.Gauge("sluice_sink_consumer_lag_records", "Records in a partition after the last one the sink read (the partition's high watermark minus the next offset to read).",
				[]string{"connector", "topic", "partition"}, m.connector, p.Topic, strconv.Itoa(int(p.Partition)))
			m.lag[tp] = g
		}
		g.Set(float64(p.HighWatermark - p.Records[n-1].Offset - 1))
	})
}

type topicPartition struct {
	topic     string
	partition int32
}

// Written counts n records the sink wrote to its target.
func (m *SinkMetrics) Written(n int) { m.written.Add(uint64(n)) }
