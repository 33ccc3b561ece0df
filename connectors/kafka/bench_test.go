package kafka_test

import (
	"context"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/kafka"
	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/registry"
	"github.com/sluice-cdc/sluice/transforms"
)

// discard is a Producer that acknowledges every record at once, so the
// benchmarks measure the Writer alone.
type discard struct{}

func (discard) Produce(_ context.Context, r *kgo.Record, promise func(*kgo.Record, error)) {
	promise(r, nil)
}
func (discard) BufferedProduceBytes() int64               { return 0 }
func (discard) Flush(context.Context) error               { return nil }
func (discard) EnsureTopic(context.Context, string) error { return nil }

// ids is a SchemaRegistrar handing out one id per distinct schema.
type ids map[string]int

func (r ids) Register(_ context.Context, _ string, _ bool, s string) (registry.Registration, error) {
	if _, ok := r[s]; !ok {
		r[s] = len(r) + 1
	}
	return registry.Registration{ID: r[s]}, nil
}

// benchTable has the shape of bench/postgres's rows (about 200 bytes).
var benchTable = &event.Table{
	ID: event.TableID{Database: "bench", Schema: "public", Table: "rows"},
	Columns: []event.Column{
		{Name: "id", Schema: &event.Schema{Type: event.Int64}},
		{Name: "a", Schema: &event.Schema{Type: event.Int32, Optional: true}},
		{Name: "b", Schema: &event.Schema{Type: event.Int32, Optional: true}},
		{Name: "c", Schema: &event.Schema{Type: event.Int64, Optional: true}},
		{Name: "d", Schema: &event.Schema{Type: event.Int32, Optional: true}},
		{Name: "ts", Schema: &event.Schema{Type: event.String, Name: "io.debezium.time.ZonedTimestamp", Optional: true}},
		{Name: "txt", Schema: &event.Schema{Type: event.String, Optional: true}},
	},
	Key: []int{0},
}

func benchEvents(n int) []*event.Event {
	txt := strings.Repeat("lorem ipsum dolor sit amet ", 6)
	events := make([]*event.Event, n)
	for i := range events {
		order := int64(i + 1)
		events[i] = &event.Event{
			Op: event.OpCreate, Table: benchTable, TsMs: 1_700_000_000_000,
			// One transaction, as Postgres writes it: its commit's LSN in every event.
			Source:      event.Source{Version: "3.6.1.Final", Connector: "postgresql", Name: "bench", TsUs: 1_700_000_000_000_000, Snapshot: event.SnapshotFalse, DB: "bench", Schema: "public", Table: "rows", TxID: 771, LSN: 23_456_789},
			Transaction: &event.Transaction{ID: "771:23456789", TotalOrder: order, DataCollectionOrder: order},
			After:       event.Row{int64(i), int32(i % 1000), int32(0), int64(i * 31), int32(i % 7), "2026-12-03T10:00:00.123456Z", txt},
		}
	}
	return events
}

// benchmarkWriter emits batches of 1,000 events; with chain, through it.
func benchmarkWriter(b *testing.B, chain map[string]string, opts ...kafka.Option) {
	if chain != nil {
		c, problems := transforms.Build(chain)
		if len(problems) > 0 {
			b.Fatal(problems)
		}
		opts = append(opts, kafka.WithStage(c))
	}
	w := kafka.NewWriter(discard{}, ids{}, discard{}, schema.Options{Prefix: "bench", Connector: "postgresql"}, opts...)
	events := benchEvents(1000)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := w.Emit(ctx, connectors.Batch{Events: events}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(events)), "ns/event")
}

func BenchmarkWriterEmit(b *testing.B) { benchmarkWriter(b, nil) }

// The chain bench/postgres -transforms runs.
func BenchmarkWriterEmitThroughThreeTransforms(b *testing.B) {
	benchmarkWriter(b, map[string]string{
		"transforms":                   "route,unwrap,rename",
		"transforms.route.type":        "org.apache.kafka.connect.transforms.RegexRouter",
		"transforms.route.regex":       `([^.]+)\.public\.([^.]+)`,
		"transforms.route.replacement": "$1-$2",
		"transforms.unwrap.type":       "io.debezium.transforms.ExtractNewRecordState",
		"transforms.rename.type":       "org.apache.kafka.connect.transforms.ReplaceField$Value",
		"transforms.rename.renames":    "txt:text",
	})
}

// JsonConverter with schemas, as bench/postgres -debezium writes.
func BenchmarkWriterEmitJSON(b *testing.B) {
	c := kafka.NewJSONConverter(true, schema.ConnectJSON{})
	benchmarkWriter(b, nil, kafka.WithConverters(c, c))
}
