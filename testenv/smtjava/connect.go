package smtjava

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

// connectJSON is the runner's JsonConverter: decimals in base64, nulls
// kept null (replace.null.with.default=false).
var connectJSON = schema.ConnectJSON{KeepNulls: true}

// wireRecord is a record as the runner reads and writes it.
type wireRecord struct {
	Topic     string          `json:"topic"`
	Key       json.RawMessage `json:"key"`
	Value     json.RawMessage `json:"value"`
	Headers   []wireHeader    `json:"headers"`
	Timestamp int64           `json:"timestamp,omitempty"`
}

type wireHeader struct {
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
}

// wireData is a key, a value or a header value with its schema, as
// JsonConverter writes it with schemas.enable=true.
type wireData struct {
	Schema  json.RawMessage `json:"schema"`
	Payload json.RawMessage `json:"payload"`
}

// Encode returns r as the runner reads and writes records: a JSON object
// of topic, key, value, headers (a list of key and value) and timestamp
// (absent when r's is 0), where the key, the value and each header value
// are in Kafka Connect's JsonConverter form with schemas,
// {"schema": …, "payload": …} as schema.ConnectJSON writes them, or null
// for a null without a schema. Equal records encode to equal bytes.
//
// Values must have the Go types event.Row documents for their schema:
// Encode fails where schema.ConnectJSON does, on an int64 under an int32
// schema, a decimal whose scale is not its schema's, a null in a required
// field, and the like.
func Encode(r *record.Record) ([]byte, error) {
	out := wireRecord{Topic: r.Topic, Headers: []wireHeader{}, Timestamp: r.Timestamp}
	var err error
	if out.Key, err = encodeData(r.KeySchema, r.Key); err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	if out.Value, err = encodeData(r.ValueSchema, r.Value); err != nil {
		return nil, fmt.Errorf("value: %w", err)
	}
	for _, h := range r.Headers {
		v, err := encodeData(h.Schema, h.Value)
		if err != nil {
			return nil, fmt.Errorf("header %s: %w", h.Key, err)
		}
		out.Headers = append(out.Headers, wireHeader{Key: h.Key, Value: v})
	}
	return json.Marshal(out)
}

// encodeData writes v of schema s; a value without a schema, which only
// Java's transforms make (Decode keeps it as it reads it), is its JSON.
func encodeData(s *event.Schema, v any) (json.RawMessage, error) {
	if s == nil {
		if v == nil {
			return json.RawMessage("null"), nil
		}
		p, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		return json.Marshal(wireData{Schema: json.RawMessage("null"), Payload: p})
	}
	js, err := connectJSON.AppendSchema(nil, s)
	if err != nil {
		return nil, err
	}
	p, err := connectJSON.AppendValue(nil, s, v)
	if err != nil {
		return nil, err
	}
	return json.Marshal(wireData{Schema: js, Payload: p})
}

// Decode reads a record in Encode's form, giving each value the Go type
// event.Row documents for its schema (schema.ParseConnectSchema and
// schema.ConnectJSON.DecodeValue). A value without a schema is kept as
// encoding/json decodes it, numbers as json.Number.
func Decode(b []byte) (*record.Record, error) {
	var in wireRecord
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, err
	}
	r := &record.Record{Topic: in.Topic, Timestamp: in.Timestamp}
	var err error
	if r.KeySchema, r.Key, err = decodeData(in.Key); err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	if r.ValueSchema, r.Value, err = decodeData(in.Value); err != nil {
		return nil, fmt.Errorf("value: %w", err)
	}
	for _, h := range in.Headers {
		s, v, err := decodeData(h.Value)
		if err != nil {
			return nil, fmt.Errorf("header %s: %w", h.Key, err)
		}
		r.Headers = append(r.Headers, record.Header{Key: h.Key, Schema: s, Value: v})
	}
	return r, nil
}

// decodeData reads {"schema": …, "payload": …}, or null (or nothing).
func decodeData(b json.RawMessage) (*event.Schema, any, error) {
	var d *wireData
	if len(b) > 0 {
		if err := json.Unmarshal(b, &d); err != nil {
			return nil, nil, err
		}
	}
	if d == nil {
		return nil, nil, nil
	}
	if len(d.Schema) == 0 || string(d.Schema) == "null" {
		var v any
		dec := json.NewDecoder(bytes.NewReader(d.Payload))
		dec.UseNumber()
		err := dec.Decode(&v)
		return nil, v, err
	}
	s, err := schema.ParseConnectSchema(d.Schema)
	if err != nil {
		return nil, nil, err
	}
	v, err := connectJSON.DecodeValue(s, d.Payload)
	return s, v, err
}
