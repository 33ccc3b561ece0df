package kafka

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

// SinkRecord is a consumed record as a sink delivers it: decoded and, when
// the connector has transforms, transformed.
type SinkRecord struct {
	// Topic is the record's topic, or the one its transforms gave it.
	Topic string
	Decoded
}

// TransformError is a record the stage failed on (Kafka Connect's stage
// TRANSFORMATION). Like a *BadRecordError, retrying does not help: a sink
// skips the record, sends it to its dead-letter topic or fails.
type TransformError struct {
	Err error
}

func (e *TransformError) Error() string { return e.Err.Error() }

func (e *TransformError) Unwrap() error { return e.Err }

// SinkDecoder is how a sink reads consumed records: it decodes them with a
// Decoder and, when the connector has transforms, passes each through the
// stage the daemon plugged in, as Kafka Connect passes a sink record
// through its transforms after the converters and before the sink. It is
// safe for concurrent use; the stage is called from one goroutine at a
// time.
type SinkDecoder struct {
	dec   *Decoder
	stage connectors.Stage // nil: records are only decoded

	mu sync.Mutex // serialises stage calls; guards envelopes
	// envelopes holds, per value schema a transform put out, its envelope
	// codec, or nil when the schema is not a Debezium envelope.
	envelopes map[*event.Schema]*schema.EnvelopeCodec
}

// NewSinkDecoder returns a SinkDecoder that resolves schema ids with reg,
// reads as opts say (WithSinkConverters) and passes records through stage;
// a nil stage only decodes them, without building a record.Record.
func NewSinkDecoder(reg SchemaSource, stage connectors.Stage, opts ...DecoderOption) *SinkDecoder {
	return &SinkDecoder{dec: NewDecoder(reg, opts...), stage: stage, envelopes: map[*event.Schema]*schema.EnvelopeCodec{}}
}

// textKeySchema is the schema of a key without a Confluent frame: the
// text as Kafka Connect's StringConverter reads it.
var textKeySchema = &event.Schema{Type: event.String, Optional: true}

// Decode fills out from r: the topic, the value (and Event for a Debezium
// envelope, see Decoded) and, when key is set or there is a stage, the
// key. A key without a Confluent frame is read as text (a string under an
// optional string schema) when it is UTF-8. With a stage, the decoded
// record (with r's headers, as strings when UTF-8 and as bytes otherwise,
// and its timestamp) is then transformed, and out is what came out: its
// topic, key and value, with Event set when the value is still an
// envelope; false means the stage dropped the record, which the sink then
// skips as delivered.
//
// Errors: a *BadRecordError for a key or value that cannot be decoded, a
// *TransformError for a record the stage failed on; any other error is
// worth retrying (the registry is unavailable, ctx ended). It blocks while
// the registry is asked for a schema id seen for the first time.
func (s *SinkDecoder) Decode(ctx context.Context, r *kgo.Record, key bool, out *SinkRecord) (bool, error) {
	out.Topic = r.Topic
	out.KeySchema, out.Key = nil, nil
	if key || s.stage != nil {
		if err := s.decodeKey(ctx, r, &out.Decoded); err != nil {
			return false, err
		}
	}
	if err := s.dec.DecodeValue(ctx, r, &out.Decoded); err != nil {
		return false, err
	}
	if s.stage == nil {
		return true, nil
	}
	return s.transform(r, out)
}

// decodeKey decodes r's key, reading one without a Confluent frame as text.
func (s *SinkDecoder) decodeKey(ctx context.Context, r *kgo.Record, out *Decoded) error {
	err := s.dec.DecodeKey(ctx, r, out)
	if !errors.Is(err, schema.ErrShortFrame) && !errors.Is(err, schema.ErrMagicByte) {
		return err
	}
	if !utf8.Valid(r.Key) {
		return &BadRecordError{Key: true, Err: errors.New("key is neither a Confluent frame nor UTF-8 text")}
	}
	out.KeySchema, out.Key = textKeySchema, string(r.Key)
	return nil
}

// transform passes the decoded record through the stage and sets out to
// what comes out.
func (s *SinkDecoder) transform(r *kgo.Record, out *SinkRecord) (bool, error) {
	in := &record.Record{
		Topic: out.Topic, KeySchema: out.KeySchema, Key: recordValue(out.KeySchema, out.Key),
		ValueSchema: out.ValueSchema, Value: recordValue(out.ValueSchema, out.Value), Headers: headers(r.Headers),
	}
	if !r.Timestamp.IsZero() {
		in.Timestamp = r.Timestamp.UnixMilli()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.stage.Apply(in)
	if err != nil {
		return false, &TransformError{Err: err}
	}
	switch {
	case t == nil:
		return false, nil
	case t.Key != nil && t.KeySchema == nil:
		return false, &TransformError{Err: errors.New("the transformed key has no schema")}
	case t.Value != nil && t.ValueSchema == nil:
		return false, &TransformError{Err: errors.New("the transformed value has no schema")}
	}
	out.Topic, out.KeySchema, out.Key, out.ValueSchema, out.Value, out.Event = t.Topic, t.KeySchema, t.Key, t.ValueSchema, t.Value, nil
	if t.Value == nil {
		return true, nil
	}
	env, err := s.envelope(t.ValueSchema)
	switch {
	case err != nil:
		return false, err
	case env == nil:
		return true, nil
	}
	row, _ := t.Value.(event.Row)
	ev := &event.Event{}
	if err := env.FromValue(row, ev); err != nil {
		return false, &TransformError{Err: fmt.Errorf("the transformed value is not a valid change event: %w", err)}
	}
	out.Event = ev
	return true, nil
}

// envelope returns the envelope codec of a transformed value's schema, or
// nil when it is not a Debezium envelope; it compiles each schema once.
// The caller holds s.mu.
func (s *SinkDecoder) envelope(vs *event.Schema) (*schema.EnvelopeCodec, error) {
	if c, ok := s.envelopes[vs]; ok {
		return c, nil
	}
	var c *schema.EnvelopeCodec
	if isEnvelope(vs) {
		var err error
		if c, err = schema.NewEnvelopeCodec(vs, nil); err != nil {
			return nil, &TransformError{Err: fmt.Errorf("the transformed value schema %s: %w", vs.Name, err)}
		}
	}
	s.envelopes[vs] = c
	return c, nil
}

// recordValue gives a decoded value the form record.Record values have:
// the Decoder returns nested structs as []any, transforms take every
// struct as an event.Row. Values are converted in place (a decoded value
// is the record's own), without copying.
func recordValue(s *event.Schema, v any) any {
	if s == nil || v == nil {
		return v
	}
	switch s.Type {
	case event.Struct:
		if s.Name == event.VariableDecimalName {
			return v
		}
		row, ok := v.(event.Row)
		if !ok {
			items, isList := v.([]any)
			if !isList {
				return v
			}
			row = items
		}
		for i, f := range s.Fields {
			if i < len(row) {
				row[i] = recordValue(f.Schema, row[i])
			}
		}
		return row
	case event.Array:
		if items, ok := v.([]any); ok {
			for i := range items {
				items[i] = recordValue(s.Elem, items[i])
			}
		}
	}
	return v
}

// The schemas of header values: Kafka headers are bytes, read as text
// when they are UTF-8.
var (
	textHeaderSchema  = &event.Schema{Type: event.String, Optional: true}
	bytesHeaderSchema = &event.Schema{Type: event.Bytes, Optional: true}
)

// headers turns Kafka headers into record headers: UTF-8 values as
// strings (what the source side writes for strings, and the JSON text of
// other values), others as bytes, null values as null.
func headers(hs []kgo.RecordHeader) []record.Header {
	if len(hs) == 0 {
		return nil
	}
	out := make([]record.Header, len(hs))
	for i, h := range hs {
		out[i].Key = h.Key
		switch {
		case h.Value == nil:
		case utf8.Valid(h.Value):
			out[i].Schema, out[i].Value = textHeaderSchema, string(h.Value)
		default:
			out[i].Schema, out[i].Value = bytesHeaderSchema, h.Value
		}
	}
	return out
}
