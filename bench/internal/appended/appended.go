// Package appended reads a change topic back with the time the broker
// appended each record, for the benchmarks' commit → Kafka latencies:
// Avro changes decoded (Each), or the values as written (EachValue). The
// topic must have message.timestamp.type=LogAppendTime.
package appended

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/registry"
)

// Each reads partition 0 of topic from its start up to the offset end,
// decodes every change (tombstones are skipped) with its writer schema
// from reg, and calls fn with the change, its envelope schema and the time
// the broker appended it. fn must not keep ev, which is reused. Each
// returns how many records it read, tombstones included. It fails as
// EachValue does, and on a record it cannot decode.
func Each(ctx context.Context, brokers []string, reg *registry.Client, topic string, end int64, timeout time.Duration,
	fn func(ev *event.Event, envelope *event.Schema, appended time.Time) error) (records int64, err error) {
	codecs := map[uint32]*schema.EnvelopeCodec{}
	var ev event.Event
	return EachValue(ctx, brokers, topic, end, timeout, func(value []byte, at time.Time) error {
		id, body, err := schema.SplitFrame(value)
		if err != nil {
			return err
		}
		codec := codecs[id]
		if codec == nil {
			if codec, err = envelopeCodec(ctx, reg, id); err != nil {
				return err
			}
			codecs[id] = codec
		}
		if err := codec.Decode(body, &ev); err != nil {
			return fmt.Errorf("decode: %w", err)
		}
		return fn(&ev, codec.Schema(), at)
	})
}

// EachValue reads partition 0 of topic from its start up to the offset
// end and calls fn with the value of every record but tombstones, in any
// format, and the time the broker appended it; fn must not keep value.
// It returns how many records it read, tombstones included. It fails on
// a record without an append time, on fn's error (naming the record), and
// when the records are not all read within timeout.
func EachValue(ctx context.Context, brokers []string, topic string, end int64, timeout time.Duration,
	fn func(value []byte, appended time.Time) error) (records int64, err error) {
	if end == 0 {
		return 0, nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
	if err != nil {
		return 0, fmt.Errorf("create Kafka consumer: %w", err)
	}
	defer cl.Close()
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for next := int64(0); next < end; {
		fs := cl.PollFetches(rctx)
		if err := rctx.Err(); err != nil {
			return records, fmt.Errorf("read %s: at offset %d of %d: %w", topic, next, end, err)
		}
		var ferr error
		fs.EachError(func(_ string, _ int32, err error) { ferr = errors.Join(ferr, err) })
		if ferr != nil {
			return records, fmt.Errorf("read %s: %w", topic, ferr)
		}
		for it := fs.RecordIter(); !it.Done(); {
			r := it.Next()
			next = r.Offset + 1
			records++
			if r.Value == nil {
				continue
			}
			if r.Attrs.TimestampType() != 1 {
				return records, fmt.Errorf("record %s@%d has no append time (timestamp type %d)", topic, r.Offset, r.Attrs.TimestampType())
			}
			if err := fn(r.Value, r.Timestamp); err != nil {
				return records, fmt.Errorf("record %s@%d: %w", topic, r.Offset, err)
			}
		}
	}
	return records, nil
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
