package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/registry"
)

// AvroConverter writes Confluent's wire format: magic byte 0, the 4-byte id
// of the schema in the registry, the Avro body. Schemas are registered (or
// looked up, as the registry client is configured) once per schema, topic
// and role; codecs are compiled once per schema. While the registry is
// unavailable, registering waits for it (see register).
type AvroConverter struct {
	registry SchemaRegistrar
	codecs   map[*event.Schema]*schema.Codec
	logger   *slog.Logger
}

var _ Converter = (*AvroConverter)(nil)

// NewAvroConverter returns an AvroConverter registering schemas with r,
// logging its waits for an unavailable registry to logger.
func NewAvroConverter(r SchemaRegistrar, logger *slog.Logger) *AvroConverter {
	return &AvroConverter{registry: r, codecs: map[*event.Schema]*schema.Codec{}, logger: logger}
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

// The waits between tries to register a schema while the registry is
// unavailable, and how often a wait still going on is logged.
const (
	registryRetryMin  = 100 * time.Millisecond
	registryRetryMax  = 2 * time.Second
	registryWaitNotes = 30 * time.Second
)

// register registers a schema for topic and returns its id. While the
// registry is unavailable (unreachable, or answering 5xx, 408 or 429) it
// tries again, every 0.1 s at first and every 2 s at most, until the
// registry answers or ctx ends: the source holds its position meanwhile
// (nothing after the change is written or acknowledged) and goes on as
// soon as the registry is back, instead of failing and replaying from its
// last acknowledged batch after a restart backoff. A refusal (incompatible,
// invalid, not registered) is permanent at once.
func (c *AvroConverter) register(ctx context.Context, topic string, isKey bool, s *event.Schema, avroJSON string) (uint32, error) {
	role := "value"
	if isKey {
		role = "key"
	}
	var began, noted time.Time
	for wait := registryRetryMin; ; wait = min(2*wait, registryRetryMax) {
		reg, err := c.registry.Register(ctx, topic, isKey, avroJSON)
		if err == nil {
			if !began.IsZero() {
				c.logger.Info("schema registry answers again; going on", "topic", topic, "schema", s.Name, "waited", time.Since(began).Round(time.Millisecond).String())
			}
			return uint32(reg.ID), nil
		}
		err = fmt.Errorf("register %s schema %s for topic %q: %w", role, s.Name, topic, err)
		if !errors.Is(err, registry.ErrUnavailable) || ctx.Err() != nil {
			return 0, registrationError(err)
		}
		if now := time.Now(); began.IsZero() || now.Sub(noted) >= registryWaitNotes {
			if began.IsZero() {
				began = now
			}
			noted = now
			c.logger.Warn("schema registry unavailable; waiting for it, nothing after this change is written or acknowledged meanwhile",
				"error", err, "waited", now.Sub(began).Round(time.Second).String())
		}
		select {
		case <-ctx.Done():
			return 0, err
		case <-time.After(wait):
		}
	}
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
