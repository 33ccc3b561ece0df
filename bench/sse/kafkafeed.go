package main

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/kafka"
	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/schema/event"
)

// kafkaFeed produces the events in the driver with sluice's Kafka writer
// (Avro, acks=all, one partition, no compression or linger); an event's
// origin is when its record was made, just before it is produced.
type kafkaFeed struct {
	e  *runEnv
	cl *kgo.Client
	w  *kafka.Writer
}

var _ feed = (*kafkaFeed)(nil)

func newKafkaFeed(e *runEnv) (*kafkaFeed, error) {
	pc := kafka.ProducerConfig{Compression: "none", Partitions: 1, ReplicationFactor: -1}
	cl, err := kgo.NewClient(append(pc.ClientOpts(), kgo.SeedBrokers(e.brokers...))...)
	if err != nil {
		return nil, fmt.Errorf("create Kafka producer: %w", err)
	}
	w := kafka.NewWriter(cl, e.rc, pc.Topics(cl), schema.Options{Prefix: e.prefix, Connector: "postgresql"})
	return &kafkaFeed{e: e, cl: cl, w: w}, nil
}

func (f *kafkaFeed) first(ctx context.Context) error {
	return f.produce(ctx, 0, 1, time.Now(), nil)
}

// load produces the events due so far every 10 ms, each batch flushed.
func (f *kafkaFeed) load(ctx context.Context, t0 time.Time, rate, n int, origins []int64) (int, error) {
	sent := 0
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for sent < n {
		select {
		case <-ctx.Done():
			return sent, ctx.Err()
		case <-tick.C:
		}
		due := min(n, int(float64(rate)*time.Since(t0).Seconds()))
		if due <= sent {
			continue
		}
		if err := f.produce(ctx, int64(sent+1), due-sent, t0, origins); err != nil {
			return sent, err
		}
		sent = due
	}
	return sent, nil
}

// produce writes events from..from+n-1 stamped with the current time,
// records their origins (when origins is not nil) and waits for their
// acknowledgement.
func (f *kafkaFeed) produce(ctx context.Context, from int64, n int, t0 time.Time, origins []int64) error {
	evs := make([]*event.Event, n)
	for i := range evs {
		now := time.Now()
		id := from + int64(i)
		if origins != nil {
			origins[id] = now.Sub(t0).Nanoseconds()
		}
		evs[i] = &event.Event{Op: event.OpCreate, Table: benchTable, TsMs: now.UnixMilli(),
			Source: event.Source{Connector: "postgresql", Name: f.e.prefix, Snapshot: event.SnapshotFalse, DB: "bench", Schema: "public", Table: "ticks", TsUs: now.UnixMicro()},
			After:  event.Row{id, now.UnixNano(), note}}
	}
	if err := f.w.Emit(ctx, connectors.Batch{Events: evs}); err != nil {
		return fmt.Errorf("produce to %s: %w", f.e.topic, err)
	}
	if err := f.w.Flush(ctx); err != nil {
		return fmt.Errorf("produce to %s: %w", f.e.topic, err)
	}
	return nil
}

func (f *kafkaFeed) close() { f.cl.Close() }
