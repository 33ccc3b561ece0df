// Package jsontext renders decoded change values — the Go values of
// schema/event, as the schema package's codecs decode them — as JSON, for
// the sinks that write JSON. A Style says how the values without an exact
// JSON form are written; everything else is rendered one way:
//
//   - booleans, integers and finite floats as JSON numbers (floats in the
//     shortest form that reads back exactly);
//   - strings with invalid UTF-8 replaced by U+FFFD, and U+2028 and U+2029
//     escaped so that the text is also valid JavaScript;
//   - bytes as base64 strings;
//   - temporal values as the numbers (or, for zoned types, the strings)
//     Debezium writes: days, milli-, micro- or nanoseconds since the epoch;
//   - structs as objects by field name, in schema order; arrays as arrays.
package jsontext

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/sluice-cdc/sluice/schema/event"
)

// Style says how decimals and non-finite floats are written.
type Style struct {
	// DecimalStrings writes decimals as strings ("-123.45") rather than as
	// numbers with exactly their digits (-123.45), for readers that parse
	// every number as a float64, such as JavaScript.
	DecimalStrings bool
	// NonFiniteStrings writes NaN and infinite floats as "NaN", "Infinity"
	// and "-Infinity" rather than as null.
	NonFiniteStrings bool
}

// AppendValue appends v, a value of schema s, as JSON. s may be nil for a
// value that is not a struct. A value of a Go type the codecs never
// produce, or a struct that does not match its schema, is an error.
func (st Style) AppendValue(dst []byte, s *event.Schema, v any) ([]byte, error) {
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
		return st.appendFloat(dst, float64(x), 32), nil
	case float64:
		return st.appendFloat(dst, x, 64), nil
	case string:
		return AppendString(dst, x), nil
	case []byte:
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, x)
		return append(dst, '"'), nil
	case event.Decimal:
		if st.DecimalStrings {
			dst = append(dst, '"')
			dst = append(dst, x.String()...)
			return append(dst, '"'), nil
		}
		return append(dst, x.String()...), nil
	case event.Row:
		return st.appendStruct(dst, s, x)
	case []any:
		if s != nil && s.Type == event.Struct {
			return st.appendStruct(dst, s, x)
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
			if dst, err = st.AppendValue(dst, elem, e); err != nil {
				return nil, fmt.Errorf("element %d: %w", i, err)
			}
		}
		return append(dst, ']'), nil
	}
	return nil, fmt.Errorf("value of Go type %T has no JSON form", v)
}

func (st Style) appendStruct(dst []byte, s *event.Schema, vals []any) ([]byte, error) {
	if s == nil || len(vals) != len(s.Fields) {
		return nil, fmt.Errorf("struct value with %d fields does not match its schema", len(vals))
	}
	dst = append(dst, '{')
	for i, f := range s.Fields {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, f.Name)
		dst = append(dst, ':')
		var err error
		if dst, err = st.AppendValue(dst, f.Schema, vals[i]); err != nil {
			return nil, fmt.Errorf("field %q: %w", f.Name, err)
		}
	}
	return append(dst, '}'), nil
}

func (st Style) appendFloat(dst []byte, f float64, bits int) []byte {
	switch {
	case !math.IsNaN(f) && !math.IsInf(f, 0):
		return strconv.AppendFloat(dst, f, 'g', -1, bits)
	case !st.NonFiniteStrings:
		return append(dst, "null"...)
	case math.IsNaN(f):
		return append(dst, `"NaN"`...)
	case f > 0:
		return append(dst, `"Infinity"`...)
	}
	return append(dst, `"-Infinity"`...)
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD;
// U+2028 and U+2029 are escaped so that the JSON is also valid JavaScript.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0 // s[start:i] is to be copied as it is
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\' {
			i++
			continue
		}
		size := 1
		var esc []byte
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				esc = []byte{'\\', c}
			case '\n':
				esc = []byte(`\n`)
			case '\r':
				esc = []byte(`\r`)
			case '\t':
				esc = []byte(`\t`)
			default:
				esc = []byte{'\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf]}
			}
		} else {
			var r rune
			r, size = utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				esc = []byte(`\ufffd`)
			case r == '\u2028' || r == '\u2029':
				esc = []byte{'\\', 'u', '2', '0', '2', hexDigits[r&0xf]}
			default:
				i += size
				continue
			}
		}
		dst = append(append(dst, s[start:i]...), esc...)
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
