package schema

import (
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/jsontext"
)

// ConnectJSON writes schemas and values the way Kafka Connect's
// JsonConverter does, so that a topic written through it holds, byte for
// byte where Java's formatting allows, what a Debezium deployment with
// value.converter=org.apache.kafka.connect.json.JsonConverter writes:
//
//   - a schema is {"type":…} followed by "items" (arrays) or "fields"
//     (structs, each field's schema with its name in "field" last), then
//     "optional", "name", "version", "doc", "parameters" and "default" when
//     set, in that order;
//   - a value is the JSON of its Connect type: integers and booleans as
//     such, floats as Java prints them (NaN and the infinities as the strings
//     "NaN", "Infinity" and "-Infinity"), bytes in base64, structs as objects
//     in field order, Decimal as base64 of its unscaled two's-complement
//     bytes (or a plain number with decimal.format NUMERIC), Connect's Date,
//     Time and Timestamp as their day and millisecond counts, and a null with
//     a default as the default (replace.null.with.default).
//
// As JsonConverter does, it refuses a value it would write wrong: a Decimal
// whose scale is not its schema's (in base64, where the scale is not
// written) and one of Connect's logical types under another type than its
// own (a Date that is not an int32).
//
// The zero value is JsonConverter's defaults. A ConnectJSON is safe for
// concurrent use.
type ConnectJSON struct {
	// DecimalNumeric is decimal.format=NUMERIC: Decimal values as JSON
	// numbers with exactly their digits rather than base64 bytes.
	DecimalNumeric bool
	// KeepNulls is replace.null.with.default=false: a null stays null even
	// where the schema has a default.
	KeepNulls bool
}

// The Connect JSON schema type names of the event types.
var connectTypeNames = map[event.Type]string{
	event.Boolean: "boolean",
	event.Int8:    "int8",
	event.Int16:   "int16",
	event.Int32:   "int32",
	event.Int64:   "int64",
	event.Float32: "float",
	event.Float64: "double",
	event.String:  "string",
	event.Bytes:   "bytes",
	event.Array:   "array",
	event.Struct:  "struct",
}

// connectLogicalTypes are the types of Kafka Connect's logical types.
var connectLogicalTypes = map[string]event.Type{
	event.DecimalName:          event.Bytes,
	event.ConnectDateName:      event.Int32,
	event.ConnectTimeName:      event.Int32,
	event.ConnectTimestampName: event.Int64,
}

// AppendSchema appends s as the "schema" part of JsonConverter's envelope.
func (c ConnectJSON) AppendSchema(dst []byte, s *event.Schema) ([]byte, error) {
	return c.appendSchema(dst, s, "")
}

// appendSchema writes s; a non-empty field names the struct field s is the
// schema of, written last as Connect does.
func (c ConnectJSON) appendSchema(dst []byte, s *event.Schema, field string) ([]byte, error) {
	if s == nil {
		return dst, errors.New("missing schema")
	}
	name, ok := connectTypeNames[s.Type]
	if !ok {
		return dst, fmt.Errorf("unknown schema type %s", s.Type)
	}
	dst = append(dst, `{"type":"`...)
	dst = append(dst, name...)
	dst = append(dst, '"')
	var err error
	switch s.Type {
	case event.Array:
		dst = append(dst, `,"items":`...)
		if dst, err = c.appendSchema(dst, s.Elem, ""); err != nil {
			return dst, fmt.Errorf("array element: %w", err)
		}
	case event.Struct:
		dst = append(dst, `,"fields":[`...)
		for i, f := range s.Fields {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = c.appendSchema(dst, f.Schema, f.Name); err != nil {
				return dst, fmt.Errorf("field %q of %s: %w", f.Name, schemaLabel(s), err)
			}
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"optional":`...)
	dst = strconv.AppendBool(dst, s.Optional)
	if s.Name != "" {
		dst = append(dst, `,"name":`...)
		dst = jsontext.AppendString(dst, s.Name)
	}
	if s.Version != 0 {
		dst = append(dst, `,"version":`...)
		dst = strconv.AppendInt(dst, int64(s.Version), 10)
	}
	if s.Doc != "" {
		dst = append(dst, `,"doc":`...)
		dst = jsontext.AppendString(dst, s.Doc)
	}
	if len(s.Params) > 0 {
		dst = append(dst, `,"parameters":{`...)
		for i, k := range paramOrder(s.Params) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = jsontext.AppendString(dst, k)
			dst = append(dst, ':')
			dst = jsontext.AppendString(dst, s.Params[k])
		}
		dst = append(dst, '}')
	}
	if s.Default != nil {
		dst = append(dst, `,"default":`...)
		if dst, err = c.AppendValue(dst, s, s.Default); err != nil {
			return dst, fmt.Errorf("default: %w", err)
		}
	}
	if field != "" {
		dst = append(dst, `,"field":`...)
		dst = jsontext.AppendString(dst, field)
	}
	return append(dst, '}'), nil
}

// paramOrder is the order schema parameters are written in: the model
// keeps none, so keys are sorted, with a decimal's scale first as Connect's
// Decimal adds it.
func paramOrder(params map[string]string) []string {
	keys := slices.Sorted(maps.Keys(params))
	if i := slices.Index(keys, event.DecimalScaleParam); i > 0 {
		keys = append(append([]string{event.DecimalScaleParam}, keys[:i]...), keys[i+1:]...)
	}
	return keys
}

// AppendValue appends v, a value of schema s in the Go form a Row holds,
// as the "payload" JsonConverter writes for it.
func (c ConnectJSON) AppendValue(dst []byte, s *event.Schema, v any) ([]byte, error) {
	if s == nil {
		return dst, errors.New("missing schema")
	}
	if v == nil {
		switch {
		case s.Default != nil && !c.KeepNulls:
			return c.AppendValue(dst, s, s.Default)
		case s.Optional:
			return append(dst, "null"...), nil
		}
		return dst, errors.New("null for a required value without a default")
	}
	if s.Name != "" { // most values' schemas have no name: no map lookup for them
		if t, ok := connectLogicalTypes[s.Name]; ok && t != s.Type {
			return dst, fmt.Errorf("%s is a %s schema, not a %s one", s.Name, t, s.Type)
		}
	}
	bad := func() ([]byte, error) { return dst, fmt.Errorf("want %s, got %T", goTypeName(s), v) }
	switch s.Type {
	case event.Boolean:
		b, ok := v.(bool)
		if !ok {
			return bad()
		}
		return strconv.AppendBool(dst, b), nil
	case event.Int8, event.Int16, event.Int32, event.Int64:
		i, ok := intValue(s.Type, v)
		if !ok {
			return bad()
		}
		return strconv.AppendInt(dst, i, 10), nil
	case event.Float32, event.Float64:
		f, ok := floatValue(s.Type, v)
		if !ok {
			return bad()
		}
		bits := 64
		if s.Type == event.Float32 {
			bits = 32
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			dst = append(dst, '"')
			dst = AppendJavaFloat(dst, f, bits)
			return append(dst, '"'), nil
		}
		return AppendJavaFloat(dst, f, bits), nil
	case event.String:
		str, ok := v.(string)
		if !ok {
			return bad()
		}
		return jsontext.AppendString(dst, str), nil
	case event.Bytes:
		if s.Name == event.DecimalName {
			d, ok := v.(event.Decimal)
			if !ok {
				return bad()
			}
			if c.DecimalNumeric {
				return append(dst, d.String()...), nil
			}
			scale, err := decimalScale(s)
			if err != nil {
				return dst, err
			}
			if d.Scale != scale {
				return dst, fmt.Errorf("decimal %s has scale %d, the schema's scale is %d", d.String(), d.Scale, scale)
			}
			return appendBase64(dst, appendUnscaled(nil, d.Unscaled)), nil
		}
		b, ok := v.([]byte)
		if !ok {
			return bad()
		}
		return appendBase64(dst, b), nil
	case event.Array:
		list, ok := v.([]any)
		if !ok {
			return bad()
		}
		dst = append(dst, '[')
		for i, e := range list {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = c.AppendValue(dst, s.Elem, e); err != nil {
				return dst, fmt.Errorf("element %d: %w", i, err)
			}
		}
		return append(dst, ']'), nil
	case event.Struct:
		if d, ok := v.(event.Decimal); ok && s.Name == event.VariableDecimalName {
			dst = append(dst, `{"scale":`...)
			dst = strconv.AppendInt(dst, int64(d.Scale), 10)
			dst = append(dst, `,"value":`...)
			dst = appendBase64(dst, appendUnscaled(nil, d.Unscaled))
			return append(dst, '}'), nil
		}
		vals := structRow(v)
		if vals == nil || s.Name == event.VariableDecimalName {
			return bad()
		}
		if len(vals) != len(s.Fields) {
			return dst, fmt.Errorf("%s: %d values for %d fields", schemaLabel(s), len(vals), len(s.Fields))
		}
		dst = append(dst, '{')
		for i, f := range s.Fields {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = jsontext.AppendString(dst, f.Name)
			dst = append(dst, ':')
			var err error
			if dst, err = c.AppendValue(dst, f.Schema, vals[i]); err != nil {
				return dst, fmt.Errorf("field %q: %w", f.Name, err)
			}
		}
		return append(dst, '}'), nil
	}
	return dst, fmt.Errorf("unknown schema type %s", s.Type)
}

func appendBase64(dst, b []byte) []byte {
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}

// AppendJavaFloat appends f as Java's Double.toString (bits 64) or
// Float.toString (bits 32) writes it, with the shortest digits that read
// back exactly: plain with at least one fractional digit ("100.0",
// "0.001") from 10^-3 up to 10^7, otherwise "d.dddE±n" ("1.0E7",
// "1.5E-4"); "NaN", "Infinity", "-Infinity" unquoted.
func AppendJavaFloat(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	// Shortest digits and exponent: "d.ddde±xx".
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, bits)
	if e[0] == '-' {
		dst = append(dst, '-')
		e = e[1:]
	}
	mant, exp := e, 0
	for i, c := range e {
		if c == 'e' {
			mant = e[:i]
			exp, _ = strconv.Atoi(string(e[i+1:]))
			break
		}
	}
	digits := make([]byte, 0, len(mant))
	for _, c := range mant {
		if c != '.' {
			digits = append(digits, c)
		}
	}
	abs := math.Abs(f)
	if abs >= 1e-3 && abs < 1e7 {
		if exp >= 0 {
			for len(digits) < exp+2 {
				digits = append(digits, '0')
			}
			dst = append(dst, digits[:exp+1]...)
			dst = append(dst, '.')
			return append(dst, digits[exp+1:]...)
		}
		dst = append(dst, "0."...)
		for i := -1; i > exp; i-- {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	dst = append(dst, digits[0], '.')
	if len(digits) > 1 {
		dst = append(dst, digits[1:]...)
	} else {
		dst = append(dst, '0')
	}
	dst = append(dst, 'E')
	return strconv.AppendInt(dst, int64(exp), 10)
}
