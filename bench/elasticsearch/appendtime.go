package main

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/sluice-cdc/sluice/bench/internal/appended"
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
	_, err = appended.Each(ctx, brokers, reg, topic, end.Offset, 2*time.Minute, func(ev *event.Event, envelope *event.Schema, at time.Time) error {
		seq := seqIndex(envelope)
		if seq < 0 {
			return fmt.Errorf("topic %s: its value schema has no after.seq field", topic)
		}
		if seq >= len(ev.After) {
			return nil
		}
		if v, ok := ev.After[seq].(int64); ok && v > 0 && v <= maxSeq && out[v] == 0 {
			out[v] = at.UnixMilli()
		}
		return nil
	})
	return out, err
}

// seqIndex returns the index of the seq column in the envelope's after
// image, or -1.
func seqIndex(envelope *event.Schema) int {
	if i := envelope.FieldIndex("after"); i >= 0 && envelope.Fields[i].Schema != nil {
		return envelope.Fields[i].Schema.FieldIndex("seq")
	}
	return -1
}
