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
// holds f.Records records, one a row. It reads them into memory, then
// produces them to the topic <run's topic>.replay (created as the run's
// topic, deleted afterwards) through a client built from the run's
// connector configuration exactly as the pipeline child builds its own
// (pipeline.LoadConfig, Producer.ClientOpts), and times it. A topic of
// more than -producer-chunk-mb is read and produced in chunks of that
// size, in order, each timed from its first produce call to its last
// acknowledgement, and the times summed. The CPU is this process's
// (getrusage), which does nothing else meanwhile. It fails unless it
// reads back and produces exactly f.Rows records.
func (e *Env) Producer(ctx context.Context, run int, f *Figures, p *ProducerCeiling) error {
	want := int64(f.Rows)
	if !e.o.ProducerCeiling || want == 0 {
		return nil
	}
	if e.o.ProducerChunkMB <= 0 {
		return fmt.Errorf("-producer-chunk-mb %d: want a positive size", e.o.ProducerChunkMB)
	}
	_, _, cfg, err := pipeline.LoadConfig(e.ConfigFile)
	if err != nil {
		return err
	}
	r, err := newTopicReader(ctx, e.Kafka.Brokers, e.Topic)
	if err != nil {
		return err
	}
	defer r.cl.Close()
	if r.end != want {
		return fmt.Errorf("producer ceiling: %s holds %d records, want one a row: %d", e.Topic, r.end, want)
	}
	topic := e.Topic + ".replay"
	if err := e.Kafka.CreateTopic(ctx, topic); err != nil {
		return err
	}
	defer func() { e.Warn("delete topic "+topic, e.Kafka.DeleteTopics(context.Background(), topic)) }()
	cl, err := kgo.NewClient(append(e.o.Producer.ClientOpts(cfg), kgo.SeedBrokers(strings.Split(e.o.Brokers, ",")...))...)
	if err != nil {
		return fmt.Errorf("create the Kafka producer: %w", err)
	}
	defer cl.Close()

	var produced, bytes int64
	var wall, cpu time.Duration
	for r.next < r.end {
		recs, n, err := r.read(ctx, int64(e.o.ProducerChunkMB)<<20)
		if err != nil {
			return err
		}
		e.o.Logf("run %d: franz-go produces records %d to %d (%.0f MiB) again to %s", run, produced, produced+int64(len(recs)), float64(n)/(1<<20), topic)
		w, c, err := produce(ctx, cl, topic, recs)
		if err != nil {
			return err
		}
		produced, bytes, wall, cpu = produced+int64(len(recs)), bytes+n, wall+w, cpu+c
	}
	if produced != want {
		return fmt.Errorf("producer ceiling: read %d records back from %s, want one a row: %d", produced, e.Topic, want)
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

// topicReader reads partition 0 of a topic from its start to its end
// offset when the reader was made.
type topicReader struct {
	cl        *kgo.Client
	topic     string
	end, next int64         // the end offset; the offset of the next record read will hand out
	pending   []*kgo.Record // fetched, not yet handed out
}

func newTopicReader(ctx context.Context, brokers []string, topic string) (*topicReader, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
	if err != nil {
		return nil, fmt.Errorf("create Kafka consumer: %w", err)
	}
	end, err := endOffset(ctx, cl, topic)
	if err != nil {
		cl.Close()
		return nil, err
	}
	return &topicReader{cl: cl, topic: topic, end: end}, nil
}

// read returns the next records, in order, as new records holding only
// their keys, values and headers, until those hold limit bytes or more
// (at least one record) or the end is reached, with their bytes. It fails
// when no record arrives for a minute.
func (r *topicReader) read(ctx context.Context, limit int64) ([]*kgo.Record, int64, error) {
	var recs []*kgo.Record
	var bytes int64
	for bytes < limit && r.next < r.end {
		if len(r.pending) == 0 {
			if err := r.fetch(ctx); err != nil {
				return nil, 0, err
			}
			continue
		}
		rec := r.pending[0]
		r.pending = r.pending[1:]
		r.next++
		recs = append(recs, rec)
		bytes += int64(len(rec.Key) + len(rec.Value))
		for _, h := range rec.Headers {
			bytes += int64(len(h.Key) + len(h.Value))
		}
	}
	return recs, bytes, nil
}

// fetch polls the next records below the end into r.pending.
func (r *topicReader) fetch(ctx context.Context) error {
	pctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	fs := r.cl.PollFetches(pctx)
	if err := pctx.Err(); err != nil {
		return fmt.Errorf("read %s back: at offset %d of %d: %w", r.topic, r.next, r.end, err)
	}
	var ferr error
	fs.EachError(func(_ string, _ int32, err error) { ferr = errors.Join(ferr, err) })
	if ferr != nil {
		return fmt.Errorf("read %s back: %w", r.topic, ferr)
	}
	for it := fs.RecordIter(); !it.Done(); {
		rec := it.Next()
		if rec.Offset >= r.end {
			break
		}
		if want := r.next + int64(len(r.pending)); rec.Offset != want {
			return fmt.Errorf("read %s back: offset %d where %d was next", r.topic, rec.Offset, want)
		}
		r.pending = append(r.pending, &kgo.Record{Key: rec.Key, Value: rec.Value, Headers: rec.Headers})
	}
	return nil
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

// produce produces recs to topic, in order, through cl, and waits until
// every one is acknowledged. It returns the time from the first produce
// call to the last acknowledgement and the CPU time this process used
// from the first call until all were acknowledged. It fails with the
// first record not acknowledged. It sets the records' topic; the client
// fills in their other fields, so recs are produced once.
func produce(ctx context.Context, cl *kgo.Client, topic string, recs []*kgo.Record) (wall, cpu time.Duration, err error) {
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
