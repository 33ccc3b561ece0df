package schema

import (
	"encoding/base64"
	"fmt"
	"strconv"

	"github.com/sluice-cdc/sluice/schema/event"
)

// AppendConnectText appends v, a value of schema s, as the text Kafka
// Connect's StringConverter writes for it (Java's toString of the Connect
// value): numbers and booleans as Java prints them, strings as they are,
// decimals as BigDecimal.toString ("12.50", "1E-7"), arrays as "[a, b]"
// and structs as "Struct{name=value,…}" without their null fields. Bytes,
// for which Java prints only an object address, are written in base64;
// temporal values are their numbers.
func AppendConnectText(dst []byte, s *event.Schema, v any) ([]byte, error) {
	if v == nil {
		return append(dst, "null"...), nil
	}
	switch x := v.(type) {
	case bool:
		return strconv.AppendBool(dst, x), nil
	case int8, int16, int32, int64:
		i, _ := intValue(s.Type, v)
		return strconv.AppendInt(dst, i, 10), nil
	case float32:
		return AppendJavaFloat(dst, float64(x), 32), nil
	case float64:
		return AppendJavaFloat(dst, x, 64), nil
	case string:
		return append(dst, x...), nil
	case []byte:
		return base64.StdEncoding.AppendEncode(dst, x), nil
	case event.Decimal:
		return appendBigDecimal(dst, x), nil
	case []any:
		if s.Type == event.Struct {
			return appendConnectStruct(dst, s, x)
		}
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			var err error
			if dst, err = AppendConnectText(dst, s.Elem, e); err != nil {
				return dst, fmt.Errorf("element %d: %w", i, err)
			}
		}
		return append(dst, ']'), nil
	case event.Row:
		return appendConnectStruct(dst, s, x)
	}
	return dst, fmt.Errorf("value of Go type %T has no Connect text form", v)
}

func appendConnectStruct(dst []byte, s *event.Schema, vals []any) ([]byte, error) {
	if len(vals) != len(s.Fields) {
		return dst, fmt.Errorf("%s: %d values for %d fields", schemaLabel(s), len(vals), len(s.Fields))
	}
	dst = append(dst, "Struct{"...)
	first := true
	for i, f := range s.Fields {
		if vals[i] == nil {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, f.Name...)
		dst = append(dst, '=')
		var err error
		if dst, err = AppendConnectText(dst, f.Schema, vals[i]); err != nil {
			return dst, fmt.Errorf("field %q: %w", f.Name, err)
		}
	}
	return append(dst, '}'), nil
}

// appendBigDecimal writes d as Java's BigDecimal.toString: plain when the
// scale is not negative and the adjusted exponent is at least -6,
// otherwise in scientific notation ("1.2E+4", "1E-7").
func appendBigDecimal(dst []byte, d event.Decimal) []byte {
	if d.Scale == 0 || d.Unscaled == nil {
		return append(dst, d.String()...)
	}
	digits := d.Unscaled.String()
	neg := digits[0] == '-'
	if neg {
		digits = digits[1:]
	}
	adjusted := int64(len(digits)) - 1 - int64(d.Scale)
	if d.Scale > 0 && adjusted >= -6 {
		return append(dst, d.String()...)
	}
	if neg {
		dst = append(dst, '-')
	}
	dst = append(dst, digits[0])
	if len(digits) > 1 {
		dst = append(dst, '.')
		dst = append(dst, digits[1:]...)
	}
	dst = append(dst, 'E')
	if adjusted >= 0 {
		dst = append(dst, '+')
	}
	return strconv.AppendInt(dst, adjusted, 10)
}
