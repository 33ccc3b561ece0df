package transforms

import (
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"github.com/sluice-cdc/sluice/schema/event"
)

// parseLiteral types InsertHeader's value.literal as Kafka Connect's
// Values.parseString does, but for arrays and maps, which stay strings:
//
//   - "null" is a null, "true" and "false" (in lower case) are booleans;
//   - otherwise the first token decides, its spaces trimmed: the text
//     before the first : , [ ] { } or " that no backslash escapes. One
//     that starts with a digit and, with the four tokens after it (the
//     colons of a time) or alone, is an ISO 8601 time (HH:mm:ss.SSS'Z'),
//     timestamp (yyyy-MM-dd'T'HH:mm:ss.SSS'Z') or date (yyyy-MM-dd) is a
//     Connect Time, Timestamp or Date; a number is the smallest integer
//     type that holds it exactly, else, when it has a fraction, a float32
//     or a float64 if one holds it, else a Decimal;
//   - anything else is the literal as given, a string.
//
// As in Kafka Connect, what follows a number's token is ignored: "12:30"
// is the int8 12.
func parseLiteral(s string) (*event.Schema, any) {
	text := &event.Schema{Type: event.String}
	toks := literalTokens(s)
	if len(toks) == 0 {
		return text, s
	}
	first := strings.TrimSpace(toks[0])
	if len(toks) == 1 {
		switch first {
		case "null":
			return nil, nil
		case "true", "false":
			return &event.Schema{Type: event.Boolean}, first == "true"
		}
	}
	if first == "" {
		return text, toks[0]
	}
	if c := first[0]; c >= '0' && c <= '9' {
		if len(toks) >= 5 {
			if schema, v, ok := parseTemporal(first + strings.Join(toks[1:5], "")); ok {
				return schema, v
			}
		}
		if schema, v, ok := parseTemporal(first); ok {
			return schema, v
		}
	}
	if c := first[0]; c >= '0' && c <= '9' || c == '+' || c == '-' {
		if schema, v, ok := parseNumber(first); ok {
			return schema, v
		}
	}
	return text, s
}

// literalTokens splits a literal as Values' parser does: at every : , [ ]
// { } and " that no backslash escapes, each of which is a token too.
func literalTokens(s string) []string {
	var toks []string
	start, escaped := 0, false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			escaped = !escaped
		case ':', ',', '[', ']', '{', '}', '"':
			if escaped {
				escaped = false
				continue
			}
			if start < i {
				toks = append(toks, s[start:i])
			}
			toks = append(toks, s[i:i+1])
			start = i + 1
		default:
			escaped = false
		}
	}
	if start < len(s) {
		toks = append(toks, s[start:])
	}
	return toks
}

// parseTemporal reads an ISO 8601 time, timestamp or date, chosen by its
// length as Values does, in UTC.
func parseTemporal(s string) (*event.Schema, any, bool) {
	s = strings.ReplaceAll(s, `\:`, ":")
	var f *dateFormat
	switch len(s) {
	case len("HH:mm:ss.SSSZ"):
		f = dateFormats.time
	case len("yyyy-MM-ddTHH:mm:ss.SSSZ"):
		f = dateFormats.timestamp
	case len("yyyy-MM-dd"):
		f = dateFormats.date
	default:
		return nil, nil, false
	}
	ms, err := f.parse(s)
	if err != nil {
		return nil, nil, false
	}
	switch f {
	case dateFormats.time:
		return &event.Schema{Type: event.Int32, Name: event.ConnectTimeName, Version: 1}, int32(ms), true
	case dateFormats.date:
		return &event.Schema{Type: event.Int32, Name: event.ConnectDateName, Version: 1}, int32(floorDiv(ms, millisPerDay)), true
	}
	return &event.Schema{Type: event.Int64, Name: event.ConnectTimestampName, Version: 1}, ms, true
}

// javaNumber is what Java's BigDecimal(String) reads.
var javaNumber = regexp.MustCompile(`^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$`)

// parseJavaDecimal reads s as Java's new BigDecimal(s) does, keeping its
// scale: "1.50" has scale 2, "1e3" scale -3.
func parseJavaDecimal(s string) (event.Decimal, bool) {
	m := javaNumber.FindStringSubmatch(s)
	if m == nil || m[2]+m[3] == "" {
		return event.Decimal{}, false
	}
	unscaled, _ := new(big.Int).SetString(m[1]+m[2]+m[3], 10)
	scale := int64(len(m[3]))
	if m[4] != "" {
		exp, err := strconv.ParseInt(m[4], 10, 32)
		if err != nil {
			return event.Decimal{}, false
		}
		scale -= exp
	}
	if scale < math.MinInt32 || scale > math.MaxInt32 {
		return event.Decimal{}, false
	}
	return event.Decimal{Unscaled: unscaled, Scale: int32(scale)}, true
}

// javaLong is BigDecimal.longValue: the whole part, then its low 64 bits.
func javaLong(d event.Decimal) int64 {
	switch {
	case d.Scale > 0:
		return lowBits(new(big.Int).Quo(d.Unscaled, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale)), nil)))
	case d.Scale <= -64: // a multiple of 2^64
		return 0
	}
	return lowBits(new(big.Int).Mul(d.Unscaled, new(big.Int).Exp(big.NewInt(10), big.NewInt(-int64(d.Scale)), nil)))
}

// parseNumber types a number as Values does: the smallest integer type
// that holds it exactly, else (when its scale is not 0) a float32 or a
// float64 that holds it, else a Decimal of its scale.
func parseNumber(s string) (*event.Schema, any, bool) {
	d, ok := parseJavaDecimal(s)
	if !ok {
		return nil, nil, false
	}
	scale := int64(d.Scale)
	if n, ok := exactInt64(d); ok {
		for _, t := range []event.Type{event.Int8, event.Int16, event.Int32} {
			if javaFits(t, n) {
				return &event.Schema{Type: t}, intOf(t, n), true
			}
		}
		return &event.Schema{Type: event.Int64}, n, true
	}
	if scale != 0 {
		if f, _ := strconv.ParseFloat(s, 32); !math.IsInf(f, 0) {
			return &event.Schema{Type: event.Float32}, float32(f), true
		}
		if f, _ := strconv.ParseFloat(s, 64); !math.IsInf(f, 0) {
			return &event.Schema{Type: event.Float64}, f, true
		}
	}
	return &event.Schema{Type: event.Bytes, Name: event.DecimalName, Version: 1, Params: map[string]string{event.DecimalScaleParam: strconv.FormatInt(scale, 10)}}, d, true
}

// exactInt64 is the decimal as an int64, when it is a whole number that
// fits.
func exactInt64(d event.Decimal) (int64, bool) {
	if d.Unscaled.Sign() == 0 {
		return 0, true
	}
	digits := int64(len(new(big.Int).Abs(d.Unscaled).String()))
	scale := int64(d.Scale)
	if scale >= digits || scale < -19 { // below 1, or beyond int64
		return 0, false
	}
	r := new(big.Rat).SetInt(d.Unscaled)
	if scale > 0 {
		r.Quo(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(scale), nil)))
	} else {
		r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(-scale), nil)))
	}
	if !r.IsInt() || !r.Num().IsInt64() {
		return 0, false
	}
	return r.Num().Int64(), true
}

// javaFits reports whether n is in the range of the integer type t.
func javaFits(t event.Type, n int64) bool {
	switch t {
	case event.Int8:
		return n >= math.MinInt8 && n <= math.MaxInt8
	case event.Int16:
		return n >= math.MinInt16 && n <= math.MaxInt16
	case event.Int32:
		return n >= math.MinInt32 && n <= math.MaxInt32
	}
	return true
}
