package kafka

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/jsontext"
	"github.com/sluice-cdc/sluice/schema/record"
)

// staging is what a Writer with a Stage keeps: the stage, and the codecs
// and registry ids of the schemas records come out with. A transform that
// changes a record's shape derives its output schema once per input schema,
// so schemas are few and keyed by identity; each is compiled once and
// registered once per topic.
type staging struct {
	stage  connectors.Stage
	codecs map[*event.Schema]*schema.Codec
	ids    map[schemaUse]uint32
}

// schemaUse is a schema registered as a topic's key or value schema.
type schemaUse struct {
	topic  string
	isKey  bool
	schema *event.Schema
}

func newStaging(s connectors.Stage) *staging {
	return &staging{stage: s, codecs: map[*event.Schema]*schema.Codec{}, ids: map[schemaUse]uint32{}}
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
	if tw.values == nil {
		tw.values = tw.schemas.Envelope.Values()
	}
	value, err := tw.values.Value(e)
	if err != nil {
		return nil, fmt.Errorf("%s event of %s at %s: %w", e.Op, e.Table.ID, e.Position, err)
	}
	// The record's time is when sluice processed the change (the
	// envelope's ts_ms), what a producer would stamp it with anyway.
	in := []*record.Record{{Topic: topic, KeySchema: keySchema, Key: key, ValueSchema: tw.schemas.Envelope.Schema(), Value: value, Timestamp: e.TsMs}}
	if e.Op == event.OpDelete && w.tombstones && key != nil {
		in = append(in, &record.Record{Topic: topic, KeySchema: keySchema, Key: key, Timestamp: e.TsMs})
	}
	var out []*kgo.Record
	for _, r := range in {
		r, err := w.staged.stage.Apply(r)
		if err != nil {
			return nil, fmt.Errorf("transform the %s event of %s at %s: %w", e.Op, e.Table.ID, e.Position, err)
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

// encodeRecord encodes a transformed record: key and value in the
// Confluent wire format with their schemas registered for its topic,
// headers as text (strings as they are, other values as JSON).
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

// encodeValue writes v with the codec of s, registered as the topic's key
// or value schema the first time.
func (w *Writer) encodeValue(ctx context.Context, topic string, isKey bool, s *event.Schema, v any) ([]byte, error) {
	if s == nil {
		return nil, fmt.Errorf("a value without a schema cannot be written as Avro")
	}
	st := w.staged
	codec := st.codecs[s]
	if codec == nil {
		var err error
		if codec, err = schema.NewCodec(s); err != nil {
			return nil, err
		}
		st.codecs[s] = codec
	}
	use := schemaUse{topic, isKey, s}
	id, ok := st.ids[use]
	if !ok {
		if err := w.topics.EnsureTopic(ctx, topic); err != nil {
			return nil, err
		}
		reg, err := w.registry.Register(ctx, topic, isKey, codec.AvroJSON())
		if err != nil {
			return nil, registrationError(fmt.Errorf("register schema %s for topic %q: %w", s.Name, topic, err))
		}
		id = uint32(reg.ID)
		st.ids[use] = id
	}
	return codec.Append(schema.AppendFrame(make([]byte, 0, 256), id, nil), v)
}
