package kafka_test

import (
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors/kafka"
	"github.com/sluice-cdc/sluice/connectors/metrics"
)

// A partition's lag series follows its fetches and goes when the partition
// is revoked or lost.
func TestSinkLagSeriesGoWithTheirPartition(t *testing.T) {
	reg := metrics.NewRegistry()
	m := kafka.NewSinkMetrics(reg, "es")
	fetch := func(partition int32, offset, highWatermark int64) kgo.Fetch {
		return kgo.Fetch{Topics: []kgo.FetchTopic{{Topic: "t", Partitions: []kgo.FetchPartition{{
			Partition: partition, HighWatermark: highWatermark, Records: []*kgo.Record{{Topic: "t", Partition: partition, Offset: offset}}}}}}}
	}
	m.Fetched(kgo.Fetches{fetch(0, 4, 10), fetch(1, 9, 10)})
	series := func() string {
		var b strings.Builder
		reg.WritePrometheus(&b)
		var out []string
		for _, line := range strings.Split(b.String(), "\n") {
			if strings.HasPrefix(line, "sluice_sink_consumer_lag_records{") {
				out = append(out, line)
			}
		}
		return strings.Join(out, "; ")
	}
	if got, want := series(), `sluice_sink_consumer_lag_records{connector="es",partition="0",topic="t"} 5; sluice_sink_consumer_lag_records{connector="es",partition="1",topic="t"} 0`; got != want {
		t.Fatalf("after the fetches: %s\nwant %s", got, want)
	}
	m.Forget(map[string][]int32{"t": {0}, "other": {3}})
	if got, want := series(), `sluice_sink_consumer_lag_records{connector="es",partition="1",topic="t"} 0`; got != want {
		t.Fatalf("after partition 0 was revoked: %s\nwant %s", got, want)
	}
	m.Fetched(kgo.Fetches{fetch(0, 7, 10)})
	if got, want := series(), `sluice_sink_consumer_lag_records{connector="es",partition="0",topic="t"} 2; sluice_sink_consumer_lag_records{connector="es",partition="1",topic="t"} 0`; got != want {
		t.Fatalf("partition 0 assigned again: %s\nwant %s", got, want)
	}
}
