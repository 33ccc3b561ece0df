package elasticsearch

import (
	"github.com/sluice-cdc/sluice/connectors/kafka"
	"github.com/sluice-cdc/sluice/connectors/metrics"
)

// sinkMetrics are one task's view of the sink's series, labelled with the
// connector's name: its counters add to the connector's, and its gauges
// are its share of the connector's (metrics.Gauge.Share).
type sinkMetrics struct {
	docs        *metrics.Counter   // documents written or deleted (rate: docs/s)
	bulkLatency *metrics.Histogram // one bulk request, send to answer
	retries     *metrics.Counter   // requests or items retried
	conflicts   *metrics.Counter   // writes refused because a newer version is stored
	dlq         *metrics.Counter   // records sent to the dead-letter topic
	skipped     *metrics.Counter   // records skipped (malformed or undecodable)
	lag         *metrics.Gauge     // records in the consumed partitions not yet read
	inFlight    *metrics.Gauge     // records read and not yet written
	kafka       *kafka.SinkMetrics // records read and written, lag per partition
}

func newSinkMetrics(r *metrics.Registry, name string) *sinkMetrics {
	if r == nil {
		r = metrics.NewRegistry()
	}
	l := []string{"connector"}
	return &sinkMetrics{
		kafka:       kafka.NewSinkMetrics(r, name),
		docs:        r.Counter("sluice_es_documents_total", "Documents indexed or deleted in Elasticsearch.", l, name),
		bulkLatency: r.Histogram("sluice_es_bulk_seconds", "Time from sending a bulk request to its answer.", metrics.LatencyBuckets, l, name),
		retries:     r.Counter("sluice_es_retries_total", "Elasticsearch requests or bulk items retried after 429, 5xx, a timeout or a connection error.", l, name),
		conflicts:   r.Counter("sluice_es_version_conflicts_total", "Writes Elasticsearch refused because it holds a newer version: replayed or late events.", l, name),
		dlq:         r.Counter("sluice_es_dead_letter_records_total", "Records sent to the dead-letter topic.", l, name),
		skipped:     r.Counter("sluice_es_skipped_records_total", "Records not written: malformed documents and undecodable records that were tolerated.", l, name),
		inFlight:    r.Gauge("sluice_es_records_in_flight", "Records read from Kafka and not yet written to Elasticsearch (at most max.buffered.records per task).", l, name).Share(),
		lag:         r.Gauge("sluice_es_consumer_lag_records", "Records in the assigned partitions after the last one read.", l, name).Share(),
	}
}
