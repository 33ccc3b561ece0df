package schema

import (
	"fmt"
	"strconv"

	"github.com/sluice-cdc/sluice/schema/event"
)

// goTypeName names the Go type a Row holds for a value of schema s.
func goTypeName(s *event.Schema) string {
	switch s.Type {
	case event.Bytes:
		if s.Name == event.DecimalName {
			return "event.Decimal"
		}
		return "[]byte"
	case event.Array:
		return "[]any"
	case event.Struct:
		if s.Name == event.VariableDecimalName {
			return "event.Decimal"
		}
		return "[]any"
	case event.Boolean:
		return "bool"
	}
	return s.Type.String()
}

// decimalScale reads the scale parameter of a Decimal schema.
func decimalScale(s *event.Schema) (int32, error) {
	p, ok := s.Params[event.DecimalScaleParam]
	if !ok {
		return 0, fmt.Errorf("decimal schema without a %q parameter", event.DecimalScaleParam)
	}
	scale, err := strconv.ParseInt(p, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("decimal scale parameter %q: %w", p, err)
	}
	return int32(scale), nil
}

// intValue returns v as an int64 if it has the Go type of Connect type t.
func intValue(t event.Type, v any) (int64, bool) {
	switch t {
	case event.Int8:
		x, ok := v.(int8)
		return int64(x), ok
	case event.Int16:
		x, ok := v.(int16)
		return int64(x), ok
	case event.Int32:
		x, ok := v.(int32)
		return int64(x), ok
	case event.Int64:
		x, ok := v.(int64)
		return x, ok
	}
	return 0, false
}

// floatValue returns v as a float64 if it has the Go type of Connect type t.
func floatValue(t event.Type, v any) (float64, bool) {
	switch t {
	case event.Float32:
		x, ok := v.(float32)
		return float64(x), ok
	case event.Float64:
		x, ok := v.(float64)
		return x, ok
	}
	return 0, false
}

// intOf parses the decimal text of an integer as the Go value of the
// integer type t.
func intOf(t event.Type, text string) (any, error) {
	bitSize := map[event.Type]int{event.Int8: 8, event.Int16: 16, event.Int32: 32, event.Int64: 64}[t]
	i, err := strconv.ParseInt(text, 10, bitSize)
	if err != nil {
		return nil, err
	}
	switch t {
	case event.Int8:
		return int8(i), nil
	case event.Int16:
		return int16(i), nil
	case event.Int32:
		return int32(i), nil
	}
	return i, nil
}
