package sse

import (
	"github.com/sluice-cdc/sluice/connectors/kafka"
	"github.com/sluice-cdc/sluice/connectors/metrics"
)

// Reasons a subscriber is disconnected, the label of the disconnect counter.
const (
	reasonClient   = "client"   // the client went away
	reasonOverflow = "overflow" // its buffer overflowed
	reasonExpired  = "expired"  // its token expired
	reasonShutdown = "shutdown" // the sink stopped
	reasonReplay   = "replay"   // its replay failed
	reasonWrite    = "write"    // writing to it failed
)

// sinkMetrics are the series of one SSE sink.
type sinkMetrics struct {
	subscribers *metrics.Gauge
	waiting     *metrics.Gauge // held before the stream's topics exist
	sent        *metrics.Counter
	records     *metrics.Counter
	badRecords  *metrics.Counter
	replayReads *metrics.Counter
	resets      *metrics.Counter
	kafka       *kafka.SinkMetrics // records read and written, lag per partition
	reg         *metrics.Registry
	name        string
}

func newSinkMetrics(reg *metrics.Registry, name string) *sinkMetrics {
	if reg == nil {
		reg = metrics.NewRegistry()
	}
	l := []string{"connector"}
	return &sinkMetrics{
		reg: reg, name: name, kafka: kafka.NewSinkMetrics(reg, name),
		subscribers: reg.Gauge("sluice_sse_subscribers", "Subscribers connected to the stream.", l, name),
		waiting:     reg.Gauge("sluice_sse_subscribers_waiting", "Subscribers connected before the stream's topics existed, held with heartbeats until they do.", l, name),
		sent:        reg.Counter("sluice_sse_events_sent_total", "Events written to subscribers, replays included.", l, name),
		records:     reg.Counter("sluice_sse_records_read_total", "Records the live reader read from Kafka.", l, name),
		badRecords:  reg.Counter("sluice_sse_records_skipped_total", "Records that could not be decoded or transformed and were skipped.", l, name),
		replayReads: reg.Counter("sluice_sse_replay_records_total", "Records read back from Kafka to resume subscribers.", l, name),
		resets:      reg.Counter("sluice_sse_resets_total", "Resuming subscribers told to reset: their id was unknown, malformed or too old.", l, name),
	}
}

// disconnected counts one subscriber leaving for reason.
func (m *sinkMetrics) disconnected(reason string) {
	m.reg.Counter("sluice_sse_disconnects_total", "Subscribers disconnected, by reason.", []string{"connector", "reason"}, m.name, reason).Add(1)
}
