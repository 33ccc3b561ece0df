package sourcebench

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/bench/internal/pipeline"
)

// ProducerCeiling are the drain's "Kafka alone" figures: the records
// sluice wrote to the run's topic, read back into memory and produced
// again, in the same order, to a fresh topic of the same configuration,
// with the producer settings of sluice's Kafka writer. They bound any
// source: how fast the local broker accepts these records from that
// producer, with nothing to read or encode.
type ProducerCeiling struct {
	ProducerWallSeconds   float64 `json:"producer_wall_s,omitempty"`       // first produce call to the last acknowledgement
	ProducerRowsPerSecond float64 `json:"producer_rows_per_s,omitempty"`   // records / producer wall
	ProducerCPU           float64 `json:"producer_cpu_s,omitempty"`        // CPU of the producing process over that span
	ProducerCPUPerMillion float64 `json:"producer_cpu_s_per_1m,omitempty"` // CPU seconds per 1M records
	ProducerMB            float64 `json:"producer_mb,omitempty"`           // keys, values and headers produced, MiB
	PercentOfProducer     float64 `json:"pct_of_producer,omitempty"`       // sluice rows/s as % of the producer's
}

// Compare fills the figures computed from others and from sluice's f
// (one record a row): the producer's rate, its CPU per 1M records, and
// sluice's rate as a percentage of it. Call it after f.Derive. Without a
// wall time (the ceiling not run) it leaves them zero.
func (p *ProducerCeiling) Compare(f *Figures) {
	if p.ProducerWallSeconds <= 0 {
		return
	}
	p.ProducerRowsPerSecond, p.PercentOfProducer = f.Against(p.ProducerWallSeconds)
	if f.Rows > 0 {
		p.ProducerCPUPerMillion = p.ProducerCPU / f.Rows * 1e6
	}
}

// Producer measures the drain's producer ceiling into p, unless
// -producer-ceiling is off: once sluice has drained, the run's topic
// holds f.Records records, one a row. It reads them all into memory, then
// produces them to the topic <run's topic>.replay (created as the run's
// topic, deleted afterwards) through a client built from the run's
// connector configuration exactly as the pipeline child builds its own
// (pipeline.LoadConfig, Producer.ClientOpts), and times it. The CPU is
// this process's (getrusage), which does nothing else meanwhile. It fails
// unless it reads back exactly f.Rows records.
func (e *Env) Producer(ctx context.Context, run int, f *Figures, p *ProducerCeiling) error {
	want := int64(f.Rows)
	if !e.o.ProducerCeiling || want == 0 {
		return nil
	}
	recs, bytes, err := readTopic(ctx, e.Kafka.Brokers, e.Topic, 5*time.Minute)
	if err != nil {
		return err
	}
	if int64(len(recs)) != want {
		return fmt.Errorf("producer ceiling: read %d records back from %s, want one a row: %d", len(recs), e.Topic, want)
	}
	_, _, cfg, err := pipeline.LoadConfig(e.ConfigFile)
	if err != nil {
		return err
	}
	topic := e.Topic + ".replay"
	if err := e.Kafka.CreateTopic(ctx, topic); err != nil {
		return err
	}
	defer func() { e.Warn("delete topic "+topic, e.Kafka.DeleteTopics(context.Background(), topic)) }()
	e.o.Logf("run %d: franz-go produces the %d records (%.0f MiB) again to %s", run, len(recs), float64(bytes)/(1<<20), topic)
	opts := append(e.o.Producer.ClientOpts(cfg), kgo.SeedBrokers(strings.Split(e.o.Brokers, ",")...))
	wall, cpu, err := produce(ctx, opts, topic, recs)
	if err != nil {
		return err
	}
	n, err := e.Kafka.TopicRecords(ctx, topic)
	if err != nil {
		return err
	}
	if n != want {
		return fmt.Errorf("producer ceiling: topic %s holds %d records after producing %d", topic, n, want)
	}
	p.ProducerWallSeconds, p.ProducerCPU = wall.Seconds(), cpu.Seconds()
	p.ProducerMB = float64(bytes) / (1 << 20)
	return nil
}

// readTopic reads partition 0 of topic from its start to its end offset at
// the time of the call, and returns its records, in order, as new records
// holding only their keys, values and headers, with the bytes of those.
// It fails when they are not all read within timeout.
func readTopic(ctx context.Context, brokers []string, topic string, timeout time.Duration) ([]*kgo.Record, int64, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
	if err != nil {
		return nil, 0, fmt.Errorf("create Kafka consumer: %w", err)
	}
	defer cl.Close()
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	end, err := endOffset(rctx, cl, topic)
	if err != nil {
		return nil, 0, err
	}
	recs := make([]*kgo.Record, 0, end)
	var bytes int64
	for next := int64(0); next < end; {
		fs := cl.PollFetches(rctx)
		if err := rctx.Err(); err != nil {
			return nil, 0, fmt.Errorf("read %s back: at offset %d of %d: %w", topic, next, end, err)
		}
		var ferr error
		fs.EachError(func(_ string, _ int32, err error) { ferr = errors.Join(ferr, err) })
		if ferr != nil {
			return nil, 0, fmt.Errorf("read %s back: %w", topic, ferr)
		}
		for it := fs.RecordIter(); !it.Done(); {
			r := it.Next()
			if r.Offset >= end {
				break
			}
			next = r.Offset + 1
			recs = append(recs, &kgo.Record{Key: r.Key, Value: r.Value, Headers: r.Headers})
			bytes += int64(len(r.Key) + len(r.Value))
			for _, h := range r.Headers {
				bytes += int64(len(h.Key) + len(h.Value))
			}
		}
	}
	return recs, bytes, nil
}

// endOffset returns the end offset of partition 0 of topic.
func endOffset(ctx context.Context, cl *kgo.Client, topic string) (int64, error) {
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("list the end offset of %s: %w", topic, err)
	}
	o, ok := ends.Lookup(topic, 0)
	if !ok {
		return 0, fmt.Errorf("list the end offset of %s: no partition 0", topic)
	}
	if o.Err != nil {
		return 0, fmt.Errorf("list the end offset of %s: %w", topic, o.Err)
	}
	return o.Offset, nil
}

// produce produces recs to topic, in order, through a new client built
// with opts (seed brokers included), and waits until every one is
// acknowledged. It returns the time from the first produce call to the
// last acknowledgement and the CPU time this process used from the first
// call until all were acknowledged. It fails with the first record not
// acknowledged. It sets the records' topic; the client fills in their
// other fields, so recs are produced once.
func produce(ctx context.Context, opts []kgo.Opt, topic string, recs []*kgo.Record) (wall, cpu time.Duration, err error) {
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return 0, 0, fmt.Errorf("create the Kafka producer: %w", err)
	}
	defer cl.Close()
	for _, r := range recs {
		r.Topic = topic
	}
	var (
		acked   atomic.Int64
		lastAck atomic.Int64 // Unix ns of the last acknowledgement
		errOnce sync.Once
		first   error
	)
	n := int64(len(recs))
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			errOnce.Do(func() { first = fmt.Errorf("produce to %s: %w", topic, err) })
		}
		if acked.Add(1) == n {
			lastAck.Store(time.Now().UnixNano())
		}
	}
	cpu0 := pipeline.SelfCPU()
	start := time.Now()
	for _, r := range recs {
		cl.Produce(ctx, r, promise)
	}
	if err := cl.Flush(ctx); err != nil {
		return 0, 0, fmt.Errorf("produce to %s: %w", topic, err)
	}
	cpu = pipeline.SelfCPU() - cpu0
	if first != nil {
		return 0, 0, first
	}
	return time.Unix(0, lastAck.Load()).Sub(start), cpu, nil
}
