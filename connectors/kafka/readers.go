package kafka

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/registry"
)

// SinkConverterKeys are the key.converter and value.converter keys sinks
// accept: how the records they consume were written, as a Kafka Connect
// sink's converters say. A record its converter cannot read is a
// *BadRecordError naming the converter and the record's offset.
var SinkConverterKeys = append(sinkConverterKeys(KeyConverterKey), sinkConverterKeys(ValueConverterKey)...)

func sinkConverterKeys(role string) []conf.Key {
	var out []conf.Key
	for _, k := range converterKeys(role) {
		switch k.Name {
		case role:
			k.Doc = "How record " + k.Name[:len(k.Name)-len(".converter")] + "s were written: " + AvroConverterClass + " (avro; Confluent's wire format, the schema from the registry), " + JSONConverterClass + " (json; with schemas.enable=true, as a sink needs each value's schema)"
			if role == KeyConverterKey {
				k.Doc += " or " + StringConverterClass + " (string; the key's text)"
			}
			k.Doc += "."
		case role + ".schemas.enable":
			k.Doc = "JsonConverter: whether records carry {\"schema\":…,\"payload\":…}. A value without a schema cannot be read by sluice's sinks; a key without one is read when it is a JSON string, number or boolean."
		case role + ".decimal.format":
			k.Doc = "JsonConverter: accepted for Kafka Connect compatibility; both BASE64 and NUMERIC decimals are read."
		case role + ".schema.registry.url", role + ".basic.auth.credentials.source", role + ".basic.auth.user.info", role + ".schema.registry.basic.auth.user.info", role + ".schemas.cache.size":
		default:
			continue // what only writing records needs
		}
		out = append(out, k)
	}
	return out
}

// DecoderOption configures a Decoder.
type DecoderOption func(*Decoder)

// SinkConverters are how a sink reads the keys and values it consumes.
// The zero ConverterConfig is Avro with the daemon's registry.
type SinkConverters struct {
	Key, Value ConverterConfig
}

// SinkConvertersFrom reads a sink's converter keys (SinkConverterKeys).
func SinkConvertersFrom(cfg *conf.Config) SinkConverters {
	read := func(role string) ConverterConfig {
		cc := ConverterConfigFrom(cfg, role)
		cc.JSON = schema.ConnectJSON{} // reading takes both decimal formats
		if cc.Class == AvroConverterClass && cc.RegistryURL == "" && cc.RegistryOptions == nil {
			return ConverterConfig{}
		}
		return cc
	}
	return SinkConverters{Key: read(KeyConverterKey), Value: read(ValueConverterKey)}
}

// WithSinkConverters makes a Decoder read keys and values as c says: Avro
// from the daemon's registry unless c names one of its own, Kafka
// Connect's JSON, or a key's text.
func WithSinkConverters(c SinkConverters) DecoderOption {
	return func(d *Decoder) {
		// The value converter's registry, else the key converter's: a
		// Decoder asks one registry.
		for _, role := range []string{KeyConverterKey, ValueConverterKey} {
			cc := c.Value
			if role == KeyConverterKey {
				cc = c.Key
			}
			var rd reader
			switch cc.Class {
			case JSONConverterClass:
				rd = &jsonReader{schemas: cc.SchemasEnable, value: role == ValueConverterKey, parsed: map[string]*readSchema{}}
			case StringConverterClass:
				rd = textReader{}
			default:
				if cc.RegistryURL != "" {
					c, err := registry.New(cc.RegistryURL, cc.RegistryOptions...)
					if err != nil {
						d.reg = brokenSource{fmt.Errorf("schema registry of the Avro %s: %w", role, err)}
					} else {
						d.reg = c
					}
				}
			}
			if role == KeyConverterKey {
				d.keys = rd
			} else {
				d.values = rd
			}
		}
	}
}

// brokenSource is a registry that could not be set up.
type brokenSource struct{ err error }

func (b brokenSource) Schema(context.Context, int) (*registry.Schema, error) { return nil, b.err }

// reader reads keys or values that another converter than Avro wrote.
type reader interface {
	// read returns the key or value b with its schema, and the codec of
	// its Debezium envelope when it is one. What it cannot read is a
	// *BadRecordError.
	read(r *kgo.Record, isKey bool, b []byte) (*event.Schema, any, *schema.EnvelopeCodec, error)
}

// badRead is the *BadRecordError of a key or value converter could not
// read.
func badRead(r *kgo.Record, isKey bool, converter string, err error) error {
	part := "value"
	if isKey {
		part = "key"
	}
	return &BadRecordError{Key: isKey, Err: fmt.Errorf("%s of record %s/%d@%d cannot be read by %s: %w", part, r.Topic, r.Partition, r.Offset, converter, err)}
}

// readSchema is a Connect schema read from JSON, with its envelope codec.
type readSchema struct {
	schema   *event.Schema
	envelope *schema.EnvelopeCodec
}

// jsonReader reads Kafka Connect's JsonConverter format. Schemas are
// parsed once per distinct schema text.
type jsonReader struct {
	schemas bool // schemas.enable
	value   bool // reads values (which need a schema)

	mu     sync.RWMutex
	parsed map[string]*readSchema
}

func (j *jsonReader) read(r *kgo.Record, isKey bool, b []byte) (*event.Schema, any, *schema.EnvelopeCodec, error) {
	if !j.schemas {
		if j.value {
			return nil, nil, nil, badRead(r, isKey, JSONConverterClass, errors.New("with schemas.enable=false a value carries no schema, which sluice's sinks need: write the topic with schemas.enable=true"))
		}
		return readSchemalessKey(r, b)
	}
	var env struct {
		Schema  json.RawMessage `json:"schema"`
		Payload json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, nil, nil, badRead(r, isKey, JSONConverterClass, err)
	}
	if len(env.Schema) == 0 || string(env.Schema) == "null" {
		return nil, nil, nil, badRead(r, isKey, JSONConverterClass, errors.New(`no "schema": it was not written with schemas.enable=true`))
	}
	rs, err := j.schema(env.Schema)
	if err != nil {
		return nil, nil, nil, badRead(r, isKey, JSONConverterClass, err)
	}
	v, err := schema.ConnectJSON{}.DecodeValue(rs.schema, env.Payload)
	if err != nil {
		return nil, nil, nil, badRead(r, isKey, JSONConverterClass, err)
	}
	if v == nil {
		return nil, nil, nil, nil
	}
	return rs.schema, v, rs.envelope, nil
}

// schema returns the parsed schema of a schema text, parsing it the first time.
func (j *jsonReader) schema(text json.RawMessage) (*readSchema, error) {
	j.mu.RLock()
	rs, ok := j.parsed[string(text)]
	j.mu.RUnlock()
	if ok {
		return rs, nil
	}
	s, err := schema.ParseConnectSchema(text)
	if err != nil {
		return nil, err
	}
	rs = &readSchema{schema: s}
	if isEnvelope(s) {
		if rs.envelope, err = schema.NewEnvelopeCodec(s, nil); err != nil {
			return nil, err
		}
	}
	j.mu.Lock()
	j.parsed[string(text)] = rs
	j.mu.Unlock()
	return rs, nil
}

// The schemas of keys JsonConverter wrote without a schema.
var (
	boolKeySchema   = &event.Schema{Type: event.Boolean, Optional: true}
	longKeySchema   = &event.Schema{Type: event.Int64, Optional: true}
	doubleKeySchema = &event.Schema{Type: event.Float64, Optional: true}
)

// readSchemalessKey reads a key JsonConverter wrote without a schema: a
// JSON string, number or boolean.
func readSchemalessKey(r *kgo.Record, b []byte) (*event.Schema, any, *schema.EnvelopeCodec, error) {
	var v any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return nil, nil, nil, badRead(r, true, JSONConverterClass, err)
	}
	switch x := v.(type) {
	case string:
		return textKeySchema, x, nil, nil
	case bool:
		return boolKeySchema, x, nil, nil
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return longKeySchema, i, nil, nil
		}
		f, err := x.Float64()
		if err != nil {
			return nil, nil, nil, badRead(r, true, JSONConverterClass, err)
		}
		return doubleKeySchema, f, nil, nil
	case nil:
		return nil, nil, nil, nil
	}
	return nil, nil, nil, badRead(r, true, JSONConverterClass, fmt.Errorf("a key without a schema must be a JSON string, number or boolean, not %T", v))
}

// textReader reads keys StringConverter wrote: their UTF-8 text.
type textReader struct{}

func (textReader) read(r *kgo.Record, isKey bool, b []byte) (*event.Schema, any, *schema.EnvelopeCodec, error) {
	if !utf8.Valid(b) {
		return nil, nil, nil, badRead(r, isKey, StringConverterClass, errors.New("not UTF-8 text"))
	}
	return textKeySchema, string(b), nil, nil
}
