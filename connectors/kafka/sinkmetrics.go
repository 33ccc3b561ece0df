package kafka

import (
	"strconv"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors/metrics"
)

// SinkMetrics are the Kafka Connect sink task figures every sink reports:
// records read from Kafka (sink-record-read-total), records written to the
// target (sink-record-send-total) and the consumer lag of each partition
// it reads (records-lag). Its methods may be called from any goroutine.
type SinkMetrics struct {
	reg       *metrics.Registry
	connector string
	polled    *metrics.Counter
	written   *metrics.Counter

	mu  sync.Mutex
	lag map[topicPartition]*metrics.Gauge
}

// lagSeries is the name of the per-partition lag gauge.
const lagSeries = "sluice_sink_consumer_lag_records"

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
	m.mu.Lock()
	defer m.mu.Unlock()
	fs.EachPartition(func(p kgo.FetchTopicPartition) {
		n := len(p.Records)
		if n == 0 {
			return
		}
		m.polled.Add(uint64(n))
		tp := topicPartition{p.Topic, p.Partition}
		g, ok := m.lag[tp]
		if !ok {
			g = m.reg.Gauge(lagSeries, "Records in a partition after the last one the sink read (the partition's high watermark minus the next offset to read).",
				[]string{"connector", "topic", "partition"}, m.connector, p.Topic, strconv.Itoa(int(p.Partition)))
			m.lag[tp] = g
		}
		g.Set(float64(p.HighWatermark - p.Records[n-1].Offset - 1))
	})
}

// Forget removes the lag series of partitions the sink no longer reads
// (revoked or lost in a rebalance): a series never outlives its
// partition's assignment.
func (m *SinkMetrics) Forget(parts map[string][]int32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for topic, ps := range parts {
		for _, p := range ps {
			tp := topicPartition{topic, p}
			if _, ok := m.lag[tp]; ok {
				delete(m.lag, tp)
				m.reg.DeleteGauge(lagSeries, m.connector, topic, strconv.Itoa(int(p)))
			}
		}
	}
}

type topicPartition struct {
	topic     string
	partition int32
}

// Written counts n records the sink wrote to its target.
func (m *SinkMetrics) Written(n int) { m.written.Add(uint64(n)) }
