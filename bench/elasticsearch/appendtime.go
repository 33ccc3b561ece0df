package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/registry"
)

// createAppendTimeTopic creates topic with one partition (the source's
// default) and the broker's append time as record timestamps, so that the
// time a change reached Kafka can be read back.
func createAppendTimeTopic(ctx context.Context, adm *kadm.Client, topic string) error {
	appendTime := "LogAppendTime"
	resp, err := adm.CreateTopic(ctx, 1, -1, map[string]*string{"message.timestamp.type": &appendTime}, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	return nil
}

// appendTimes reads topic from its start to its end and returns, by seq
// (the row's seq column in the event's after image), the broker's append
// time in Unix milliseconds; 0 for a seq without a record.
func appendTimes(ctx context.Context, brokers []string, adm *kadm.Client, reg *registry.Client, topic string, maxSeq int64) ([]int64, error) {
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("end offsets of %s: %w", topic, err)
	}
	end, ok := ends.Lookup(topic, 0)
	if !ok || end.Err != nil {
		return nil, fmt.Errorf("end offset of %s: %v", topic, end.Err)
	}
	out := make([]int64, maxSeq+1)
	if end.Offset == 0 {
		return out, nil
	}
	rd, err := kgo.NewClient(kgo.SeedBrokers(brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
	if err != nil {
		return nil, fmt.Errorf("create Kafka consumer: %w", err)
	}
	defer rd.Close()
	codecs := map[uint32]*seqCodec{}
	rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var ev event.Event
	for next := int64(0); next < end.Offset; {
		fs := rd.PollFetches(rctx)
		if err := rctx.Err(); err != nil {
			return nil, fmt.Errorf("read %s: at offset %d of %d: %w", topic, next, end.Offset, err)
		}
		var ferr error
		fs.EachError(func(_ string, _ int32, err error) { ferr = errors.Join(ferr, err) })
		if ferr != nil {
			return nil, fmt.Errorf("read %s: %w", topic, ferr)
		}
		for it := fs.RecordIter(); !it.Done(); {
			r := it.Next()
			next = r.Offset + 1
			if r.Value == nil {
				continue
			}
			if r.Attrs.TimestampType() != 1 {
				return nil, fmt.Errorf("record %s@%d has no append time (timestamp type %d)", topic, r.Offset, r.Attrs.TimestampType())
			}
			id, body, err := schema.SplitFrame(r.Value)
			if err != nil {
				return nil, fmt.Errorf("record %s@%d: %w", topic, r.Offset, err)
			}
			codec := codecs[id]
			if codec == nil {
				if codec, err = newSeqCodec(ctx, reg, id); err != nil {
					return nil, err
				}
				codecs[id] = codec
			}
			if err := codec.Decode(body, &ev); err != nil {
				return nil, fmt.Errorf("decode record %s@%d: %w", topic, r.Offset, err)
			}
			if codec.seq >= len(ev.After) {
				continue
			}
			if seq, ok := ev.After[codec.seq].(int64); ok && seq > 0 && seq <= maxSeq && out[seq] == 0 {
				out[seq] = r.Timestamp.UnixMilli()
			}
		}
	}
	return out, nil
}

// seqCodec decodes the envelopes of one value schema; seq is the index of
// the seq column in their after image.
type seqCodec struct {
	*schema.EnvelopeCodec
	seq int
}

// newSeqCodec returns the decoder of the value schema with registry id.
func newSeqCodec(ctx context.Context, reg *registry.Client, id uint32) (*seqCodec, error) {
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
	env := c.Schema()
	seq := -1
	if i := env.FieldIndex("after"); i >= 0 && env.Fields[i].Schema != nil {
		seq = env.Fields[i].Schema.FieldIndex("seq")
	}
	if seq < 0 {
		return nil, fmt.Errorf("schema %d has no after.seq field", id)
	}
	ec, err := schema.NewEnvelopeCodec(env, nil)
	if err != nil {
		return nil, fmt.Errorf("compile envelope of schema %d: %w", id, err)
	}
	return &seqCodec{EnvelopeCodec: ec, seq: seq}, nil
}
