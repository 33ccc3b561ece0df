package elasticsearch

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/sluice-cdc/sluice/schema/event"
)

// field is one top-level field of a document: its name and its value as
// JSON. Unavailable fields carry the source's placeholder for an unchanged
// TOASTed value and are never written; the stored value is kept instead.
type field struct {
	name        string
	raw         []byte
	unavailable bool
}

// renderRow renders a row of a struct schema as document fields, marking
// the fields that hold placeholder.
func renderRow(s *event.Schema, row event.Row, placeholder string) ([]field, error) {
	if len(row) != len(s.Fields) {
		return nil, fmt.Errorf("row has %d values for %d fields of %s", len(row), len(s.Fields), s.Name)
	}
	out := make([]field, len(row))
	for i, f := range s.Fields {
		out[i].name = f.Name
		if isPlaceholder(row[i], placeholder) {
			out[i].unavailable = true
			continue
		}
		raw, err := appendValue(nil, f.Schema, row[i])
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", f.Name, err)
		}
		out[i].raw = raw
	}
	return out, nil
}

// isPlaceholder reports whether v is the placeholder the Postgres source
// writes for an unchanged TOASTed value: the text, the bytes, or an array
// holding only the placeholder.
func isPlaceholder(v any, placeholder string) bool {
	if placeholder == "" {
		return false
	}
	switch x := v.(type) {
	case string:
		return x == placeholder
	case []byte:
		return string(x) == placeholder
	case []any:
		return len(x) == 1 && isPlaceholder(x[0], placeholder)
	}
	return false
}

// appendValue appends v, of schema s, as JSON:
//
//   - decimals (Decimal bytes and VariableScaleDecimal) as JSON numbers
//     with exactly their digits, so _source keeps the exact value;
//   - bytes as base64 strings;
//   - temporal values as the numbers (or, for zoned types, the strings)
//     Debezium writes: days, milli-, micro- or nanoseconds since the epoch;
//   - NaN and infinite floats as null, since JSON has no form for them;
//   - structs as objects by field name, arrays as arrays.
func appendValue(dst []byte, s *event.Schema, v any) ([]byte, error) {
	if v == nil {
		return append(dst, "null"...), nil
	}
	switch x := v.(type) {
	case bool:
		return strconv.AppendBool(dst, x), nil
	case int8:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case float32:
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return append(dst, "null"...), nil
		}
		return strconv.AppendFloat(dst, float64(x), 'g', -1, 32), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return append(dst, "null"...), nil
		}
		return strconv.AppendFloat(dst, x, 'g', -1, 64), nil
	case string:
		return appendString(dst, x), nil
	case []byte:
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, x)
		return append(dst, '"'), nil
	case event.Decimal:
		return append(dst, x.String()...), nil
	case event.Row:
		return appendStruct(dst, s, x)
	case []any:
		if s != nil && s.Type == event.Struct {
			return appendStruct(dst, s, x)
		}
		var elem *event.Schema
		if s != nil {
			elem = s.Elem
		}
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendValue(dst, elem, e); err != nil {
				return nil, fmt.Errorf("element %d: %w", i, err)
			}
		}
		return append(dst, ']'), nil
	}
	return nil, fmt.Errorf("value of Go type %T has no JSON form", v)
}

func appendStruct(dst []byte, s *event.Schema, vals []any) ([]byte, error) {
	if s == nil || len(vals) != len(s.Fields) {
		return nil, fmt.Errorf("struct value with %d fields does not match its schema", len(vals))
	}
	dst = append(dst, '{')
	for i, f := range s.Fields {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, f.Name)
		dst = append(dst, ':')
		var err error
		if dst, err = appendValue(dst, f.Schema, vals[i]); err != nil {
			return nil, fmt.Errorf("field %q: %w", f.Name, err)
		}
	}
	return append(dst, '}'), nil
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

// appendObject appends the fields as a JSON object, skipping unavailable ones.
func appendObject(dst []byte, fields []field) []byte {
	dst = append(dst, '{')
	first := true
	for _, f := range fields {
		if f.unavailable {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendString(dst, f.name)
		dst = append(dst, ':')
		dst = append(dst, f.raw...)
	}
	return append(dst, '}')
}
