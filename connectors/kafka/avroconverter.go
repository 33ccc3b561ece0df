package kafka

import (
	"context"
	"fmt"

	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/schema/event"
)

// AvroConverter writes Confluent's wire format: magic byte 0, the 4-byte id
// of the schema in the registry, the Avro body. Schemas are registered (or
// looked up, as the registry client is configured) once per schema, topic
// and role; codecs are compiled once per schema.
type AvroConverter struct {
	registry SchemaRegistrar
	codecs   map[*event.Schema]*schema.Codec
}

var _ Converter = (*AvroConverter)(nil)

// NewAvroConverter returns an AvroConverter registering schemas with r.
func NewAvroConverter(r SchemaRegistrar) *AvroConverter {
	return &AvroConverter{registry: r, codecs: map[*event.Schema]*schema.Codec{}}
}

// Encoder compiles the codec of s (once per schema) and registers it for
// topic.
func (c *AvroConverter) Encoder(ctx context.Context, topic string, isKey bool, s *event.Schema) (Encoder, error) {
	codec := c.codecs[s]
	if codec == nil {
		var err error
		if codec, err = schema.NewCodec(s); err != nil {
			return nil, err
		}
		c.codecs[s] = codec
	}
	return c.codecEncoder(ctx, topic, isKey, codec)
}

// codecEncoder registers an already compiled codec's schema for topic.
func (c *AvroConverter) codecEncoder(ctx context.Context, topic string, isKey bool, codec *schema.Codec) (*avroEncoder, error) {
	id, err := c.register(ctx, topic, isKey, codec.Schema(), codec.AvroJSON())
	if err != nil {
		return nil, err
	}
	return &avroEncoder{id: id, codec: codec}, nil
}

func (c *AvroConverter) register(ctx context.Context, topic string, isKey bool, s *event.Schema, avroJSON string) (uint32, error) {
	role := "value"
	if isKey {
		role = "key"
	}
	reg, err := c.registry.Register(ctx, topic, isKey, avroJSON)
	if err != nil {
		return 0, registrationError(fmt.Errorf("register %s schema %s for topic %q: %w", role, s.Name, topic, err))
	}
	return uint32(reg.ID), nil
}

// avroEncoder frames values of one registered schema.
type avroEncoder struct {
	id    uint32
	codec *schema.Codec
}

func (e *avroEncoder) Append(dst []byte, v any) ([]byte, error) {
	return e.codec.Append(schema.AppendFrame(dst, e.id, nil), v)
}

// avroEnvelopeEncoder frames Debezium envelopes written straight from
// events, without building the envelope value first: the Writer's path for
// change events with the default converter.
type avroEnvelopeEncoder struct {
	id    uint32
	codec *schema.EnvelopeCodec
}

func (e *avroEnvelopeEncoder) appendEvent(dst []byte, ev *event.Event) ([]byte, error) {
	return e.codec.Append(schema.AppendFrame(dst, e.id, nil), ev)
}
