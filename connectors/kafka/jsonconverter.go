package kafka

import (
	"context"
	"fmt"

	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/schema/event"
)

// JSONConverter writes Kafka Connect's JsonConverter format: with schemas
// enabled each key or value is {"schema":…,"payload":…}, without them the
// payload alone (see schema.ConnectJSON for both parts).
type JSONConverter struct {
	schemas bool
	style   schema.ConnectJSON
}

var _ Converter = (*JSONConverter)(nil)

// NewJSONConverter returns a JSONConverter; schemas is schemas.enable.
func NewJSONConverter(schemas bool, style schema.ConnectJSON) *JSONConverter {
	return &JSONConverter{schemas: schemas, style: style}
}

// Encoder renders the schema part of s once; each value then costs only its
// payload.
func (c *JSONConverter) Encoder(_ context.Context, _ string, _ bool, s *event.Schema) (Encoder, error) {
	e := &jsonEncoder{style: c.style, schema: s}
	if c.schemas {
		var err error
		if e.prefix, err = c.style.AppendSchema([]byte(`{"schema":`), s); err != nil {
			return nil, fmt.Errorf("Connect schema of %s: %w", s.Name, err)
		}
		e.prefix = append(e.prefix, `,"payload":`...)
	}
	return e, nil
}

type jsonEncoder struct {
	style  schema.ConnectJSON
	schema *event.Schema
	prefix []byte // `{"schema":…,"payload":`; nil without schemas
}

func (e *jsonEncoder) Append(dst []byte, v any) ([]byte, error) {
	dst = append(dst, e.prefix...)
	dst, err := e.style.AppendValue(dst, e.schema, v)
	if err != nil {
		return dst, err
	}
	if e.prefix != nil {
		dst = append(dst, '}')
	}
	return dst, nil
}

// StringConverter writes keys as the text Kafka Connect's StringConverter
// gives them (schema.AppendConnectText): "Struct{id=42}" for a key struct.
type StringConverter struct{}

var _ Converter = StringConverter{}

// Encoder returns the text encoder of s.
func (StringConverter) Encoder(_ context.Context, _ string, _ bool, s *event.Schema) (Encoder, error) {
	return stringEncoder{s}, nil
}

type stringEncoder struct{ schema *event.Schema }

func (e stringEncoder) Append(dst []byte, v any) ([]byte, error) {
	return schema.AppendConnectText(dst, e.schema, v)
}
