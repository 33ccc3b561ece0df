package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/registry"
)

// latencySet is the commit → append latencies of a run's change records.
type latencySet struct {
	records int64      // every record read, tombstones included
	ms      []int64    // sorted
	samples [][2]int64 // commit time (Unix ms) and latency, in topic order
}

// quantile returns the q-quantile (nearest rank) in milliseconds.
func (l latencySet) quantile(q float64) float64 {
	if len(l.ms) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(q*float64(len(l.ms)))) - 1
	return float64(l.ms[max(i, 0)])
}

// latencies reads the run's topic from the start and returns, for each
// change committed at or after from, the broker's append time minus the
// commit time the event carries (source.ts_ms). Both are milliseconds.
func (e *runEnv) latencies(ctx context.Context, from time.Time) (latencySet, error) {
	var out latencySet
	end, err := e.records(ctx)
	if err != nil {
		return out, err
	}
	reg, err := registry.New(e.registryURL)
	if err != nil {
		return out, err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{e.topic: {0: kgo.NewOffset().AtStart()}}))
	if err != nil {
		return out, fmt.Errorf("create Kafka consumer: %w", err)
	}
	defer cl.Close()
	codecs := map[uint32]*schema.EnvelopeCodec{}
	fromMs := from.UnixMilli()
	var ev event.Event
	rctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	for out.records < end {
		fs := cl.PollFetches(rctx)
		if err := rctx.Err(); err != nil {
			return out, fmt.Errorf("read %s: %d of %d records: %w", e.topic, out.records, end, err)
		}
		var ferr error
		fs.EachError(func(_ string, _ int32, err error) { ferr = errors.Join(ferr, err) })
		if ferr != nil {
			return out, fmt.Errorf("read %s: %w", e.topic, ferr)
		}
		for it := fs.RecordIter(); !it.Done(); {
			r := it.Next()
			out.records++
			if r.Value == nil {
				continue
			}
			if r.Attrs.TimestampType() != 1 {
				return out, fmt.Errorf("record %s@%d has no append time (timestamp type %d)", e.topic, r.Offset, r.Attrs.TimestampType())
			}
			id, body, err := schema.SplitFrame(r.Value)
			if err != nil {
				return out, fmt.Errorf("record %s@%d: %w", e.topic, r.Offset, err)
			}
			codec := codecs[id]
			if codec == nil {
				if codec, err = envelopeCodec(ctx, reg, id); err != nil {
					return out, err
				}
				codecs[id] = codec
			}
			if err := codec.Decode(body, &ev); err != nil {
				return out, fmt.Errorf("decode record %s@%d: %w", e.topic, r.Offset, err)
			}
			if ev.Source.TsMs >= fromMs {
				lat := r.Timestamp.UnixMilli() - ev.Source.TsMs
				out.ms = append(out.ms, lat)
				out.samples = append(out.samples, [2]int64{ev.Source.TsMs, lat})
			}
		}
	}
	slices.Sort(out.ms)
	return out, nil
}

// envelopeCodec returns the decoder of the value schema with registry id.
func envelopeCodec(ctx context.Context, reg *registry.Client, id uint32) (*schema.EnvelopeCodec, error) {
	s, err := reg.Schema(ctx, int(id))
	if err != nil {
		return nil, fmt.Errorf("fetch schema %d: %w", id, err)
	}
	es, err := schema.FromAvro(s.Text)
	if err != nil {
		return nil, fmt.Errorf("read schema %d: %w", id, err)
	}
	c, err := schema.NewCodec(es)
	if err != nil {
		return nil, fmt.Errorf("compile schema %d: %w", id, err)
	}
	return schema.NewEnvelopeCodec(c.Schema(), nil)
}

// writeCSV writes every sample as "commit_ms,latency_ms" lines to path.
func (l latencySet) writeCSV(path string) error {
	var b strings.Builder
	b.WriteString("commit_ms,latency_ms\n")
	for _, s := range l.samples {
		fmt.Fprintf(&b, "%d,%d\n", s[0], s[1])
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write latencies: %w", err)
	}
	return nil
}
