package kafka

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/jsontext"
	"github.com/sluice-cdc/sluice/schema/record"
)

// staging is what a Writer with a Stage keeps: the stage, and the encoders
// of the schemas records come out with. A transform that changes a
// record's shape derives its output schema once per input schema, so
// schemas are few and keyed by identity; each gets its encoder (for Avro:
// compiled once, registered once per topic) at its first use on a topic.
type staging struct {
	stage    connectors.Stage
	encoders map[schemaUse]Encoder
	// The records an event makes, reused from event to event: a stage
	// does not keep the records it is given.
	change, tombstone record.Record
	in                [2]*record.Record
}

// schemaUse is a schema registered as a topic's key or value schema.
type schemaUse struct {
	topic  string
	isKey  bool
	schema *event.Schema
}

func newStaging(s connectors.Stage) *staging {
	return &staging{stage: s, encoders: map[schemaUse]Encoder{}}
}

// stagedRecords builds the event's records as Kafka Connect would hand them
// to its transforms — the change with Debezium's envelope as its value, and
// the tombstone after a delete when enabled — passes each through the stage
// and encodes what comes out.
func (w *Writer) stagedRecords(ctx context.Context, tw *tableWriter, topic string, e *event.Event) ([]*kgo.Record, error) {
	var keySchema *event.Schema
	var key any
	if tw.schemas.Key != nil && e.Op != event.OpTruncate {
		keySchema, key = tw.schemas.Key.Schema(), e.Key()
	}
	value, err := tw.envelopeValues().Value(e)
	if err != nil {
		return nil, fmt.Errorf("%s event of %s at %s: %w", e.Op, e.Table.ID, e.Position, err)
	}
	// The record's time is when sluice processed the change (the
	// envelope's ts_ms), what a producer would stamp it with anyway.
	st := w.staged
	st.change = record.Record{Topic: topic, KeySchema: keySchema, Key: key, ValueSchema: tw.schemas.Envelope.Schema(), Value: value, Timestamp: e.TsMs}
	in := append(st.in[:0], &st.change)
	if e.Op == event.OpDelete && w.tombstones && key != nil {
		st.tombstone = record.Record{Topic: topic, KeySchema: keySchema, Key: key, Timestamp: e.TsMs}
		in = append(in, &st.tombstone)
	}
	var out []*kgo.Record
	for _, orig := range in {
		r, err := st.stage.Apply(orig)
		if err != nil {
			err = fmt.Errorf("transform the %s event of %s at %s: %w", e.Op, e.Table.ID, e.Position, err)
			if !w.recordErrors.tolerate {
				return nil, connectors.Permanent(err)
			}
			if w.recordErrors.log {
				attrs := []any{"error", err}
				if w.recordErrors.withMessage {
					attrs = append(attrs, "topic", orig.Topic, "key", fmt.Sprint(orig.Key), "value", fmt.Sprint(orig.Value))
				}
				w.logger.Warn("skipping a record a transform failed on (errors.tolerance=all)", attrs...)
			}
			continue
		}
		if r == nil {
			continue
		}
		kr, err := w.encodeRecord(ctx, r)
		if err != nil {
			return nil, fmt.Errorf("encode the %s event of %s at %s: %w", e.Op, e.Table.ID, e.Position, err)
		}
		out = append(out, kr)
	}
	return out, nil
}

// encodeRecord encodes a transformed record: key and value through the
// Writer's converters, headers as text (strings as they are, other values
// as JSON).
func (w *Writer) encodeRecord(ctx context.Context, r *record.Record) (*kgo.Record, error) {
	kr := &kgo.Record{Topic: r.Topic}
	if r.Timestamp > 0 {
		kr.Timestamp = time.UnixMilli(r.Timestamp)
	}
	var err error
	if r.Key != nil {
		if kr.Key, err = w.encodeValue(ctx, r.Topic, true, r.KeySchema, r.Key); err != nil {
			return nil, fmt.Errorf("key: %w", err)
		}
	}
	if r.Value != nil {
		if kr.Value, err = w.encodeValue(ctx, r.Topic, false, r.ValueSchema, r.Value); err != nil {
			return nil, fmt.Errorf("value: %w", err)
		}
	}
	for _, h := range r.Headers {
		kh := kgo.RecordHeader{Key: h.Key}
		switch v := h.Value.(type) {
		case nil:
		case string:
			kh.Value = []byte(v)
		default:
			if kh.Value, err = (jsontext.Style{}).AppendValue(nil, h.Schema, v); err != nil {
				return nil, fmt.Errorf("header %s: %w", h.Key, err)
			}
		}
		kr.Headers = append(kr.Headers, kh)
	}
	return kr, nil
}

// encodeValue writes v with the key or value converter's encoder of s on
// topic, made (and, for Avro, registered) the first time.
func (w *Writer) encodeValue(ctx context.Context, topic string, isKey bool, s *event.Schema, v any) ([]byte, error) {
	if s == nil {
		return nil, fmt.Errorf("a value without a schema cannot be converted")
	}
	use := schemaUse{topic, isKey, s}
	enc := w.staged.encoders[use]
	if enc == nil {
		if err := w.topics.EnsureTopic(ctx, topic); err != nil {
			return nil, err
		}
		conv := w.values
		if isKey {
			conv = w.keys
		}
		var err error
		if enc, err = conv.Encoder(ctx, topic, isKey, s); err != nil {
			return nil, err
		}
		w.staged.encoders[use] = enc
	}
	return enc.Append(make([]byte, 0, 256), v)
}
