package sse

import (
	"encoding/base64"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/sluice-cdc/sluice/schema/event"
)

// appendJSON appends v, a value decoded for schema s, as JSON (see the
// package documentation for the rendering of each type).
func appendJSON(dst []byte, s *event.Schema, v any) []byte {
	if v == nil || s == nil {
		return append(dst, "null"...)
	}
	switch x := v.(type) {
	case bool:
		return strconv.AppendBool(dst, x)
	case int8:
		return strconv.AppendInt(dst, int64(x), 10)
	case int16:
		return strconv.AppendInt(dst, int64(x), 10)
	case int32:
		return strconv.AppendInt(dst, int64(x), 10)
	case int64:
		return strconv.AppendInt(dst, x, 10)
	case float32:
		return appendFloat(dst, float64(x), 32)
	case float64:
		return appendFloat(dst, x, 64)
	case string:
		return appendString(dst, x)
	case []byte:
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, x)
		return append(dst, '"')
	case event.Decimal:
		return appendString(dst, x.String())
	case []any:
		return appendComposite(dst, s, x)
	case event.Row:
		return appendComposite(dst, s, x)
	}
	return append(dst, "null"...)
}

func appendComposite(dst []byte, s *event.Schema, x []any) []byte {
	if s.Type == event.Array {
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSON(dst, s.Elem, e)
		}
		return append(dst, ']')
	}
	dst = append(dst, '{')
	for i, f := range s.Fields {
		if i >= len(x) {
			break
		}
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, f.Name)
		dst = append(dst, ':')
		dst = appendJSON(dst, f.Schema, x[i])
	}
	return append(dst, '}')
}

func appendFloat(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(dst, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(dst, `"-Infinity"`...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, bits)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD;
// U+2028 and U+2029 are escaped so the JSON is also valid JavaScript.
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
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

// fieldText renders a value for comparison with a where condition: its
// JSON rendering, without the quotes of strings.
func fieldText(s *event.Schema, v any) string {
	switch x := v.(type) {
	case string:
		return x
	case event.Decimal:
		return x.String()
	}
	b := appendJSON(nil, s, v)
	if len(b) >= 2 && b[0] == '"' {
		return string(b[1 : len(b)-1])
	}
	return string(b)
}
