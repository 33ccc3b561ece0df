package postgres

import (
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"strings"

	"github.com/sluice-cdc/sluice/schema/event"
)

// parseBool reads boolean output: "t" or "f" (also "true"/"false").
func parseBool(s string) (bool, error) {
	switch s {
	case "t", "true":
		return true, nil
	case "f", "false":
		return false, nil
	}
	return false, fmt.Errorf("parse boolean %q: want t or f", truncate(s))
}

// numericSpecial recognises numeric's non-finite values.
func numericSpecial(s string) (float64, bool) {
	switch s {
	case "NaN":
		return math.NaN(), true
	case "Infinity":
		return math.Inf(1), true
	case "-Infinity":
		return math.Inf(-1), true
	}
	return 0, false
}

// parseMoney reads money output under lc_monetary C or en_US ("$1,234.56",
// "-$1.00", "($1.00)"): digits and one '.' are kept, ',' grouping, the
// currency symbol and spaces are skipped, and '-' or '(' makes it negative.
// Locales with ',' as the decimal separator are not supported.
func parseMoney(s string) (event.Decimal, error) {
	var digits strings.Builder
	neg, point, frac := false, false, 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
			if point {
				frac++
			}
		case r == '.':
			if point {
				return event.Decimal{}, fmt.Errorf("parse money %q: two decimal points", s)
			}
			point = true
		case r == '-' || r == '(':
			neg = true
		}
	}
	if digits.Len() == 0 {
		return event.Decimal{}, fmt.Errorf("parse money %q: no digits", s)
	}
	u, ok := new(big.Int).SetString(digits.String(), 10)
	if !ok {
		return event.Decimal{}, fmt.Errorf("parse money %q: not a number", s)
	}
	if neg {
		u.Neg(u)
	}
	return event.Decimal{Unscaled: u, Scale: int32(frac)}, nil
}

// parseBytea reads bytea output in hex ("\x4142") or escape ("AB\\\000") format.
func parseBytea(s string) ([]byte, error) {
	if strings.HasPrefix(s, `\x`) {
		b, err := hex.DecodeString(s[2:])
		if err != nil {
			return nil, fmt.Errorf("parse bytea hex text: %w", err)
		}
		return b, nil
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		switch {
		case i+1 < len(s) && s[i+1] == '\\':
			out = append(out, '\\')
			i++
		case i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]):
			out = append(out, (s[i+1]-'0')<<6|(s[i+2]-'0')<<3|(s[i+3]-'0'))
			i += 3
		default:
			return nil, fmt.Errorf("parse bytea escape text: bad escape at offset %d", i)
		}
	}
	return out, nil
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// parseBits reads bit and varbit output ("10110") into the little-endian
// bytes Debezium emits: the string's last character is bit 0, and the result
// has just enough bytes for the highest set bit (none when all bits are 0).
func parseBits(s string) ([]byte, error) {
	n := len(s)
	var out []byte
	for i := 0; i < n; i++ {
		switch s[n-1-i] {
		case '0':
		case '1':
			for len(out) <= i/8 {
				out = append(out, 0)
			}
			out[i/8] |= 1 << (i % 8)
		default:
			return nil, fmt.Errorf("parse bit string %q: want only 0 and 1", truncate(s))
		}
	}
	if out == nil {
		out = []byte{}
	}
	return out, nil
}
