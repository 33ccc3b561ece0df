package logical

import (
	"math"
	"math/big"
	"strconv"

	"github.com/sluice-cdc/sluice/schema/event"
)

// Decimal returns Kafka Connect's Decimal schema (bytes) for a fixed scale,
// with Debezium's "connect.decimal.precision" parameter when precision > 0.
func Decimal(precision, scale int) *event.Schema {
	params := map[string]string{event.DecimalScaleParam: strconv.Itoa(scale)}
	if precision > 0 {
		params[event.DecimalPrecisionParam] = strconv.Itoa(precision)
	}
	return &event.Schema{Type: event.Bytes, Name: event.DecimalName, Version: 1, Params: params}
}

// VariableScaleDecimal returns io.debezium.data.VariableScaleDecimal: a
// struct of the value's scale (int32) and its unscaled two's-complement bytes.
// Its Go value is an event.Decimal.
func VariableScaleDecimal() *event.Schema {
	return &event.Schema{
		Type:    event.Struct,
		Name:    event.VariableDecimalName,
		Version: 1,
		Doc:     "Variable scaled decimal",
		Fields: []event.Field{
			{Name: "scale", Schema: &event.Schema{Type: event.Int32}},
			{Name: "value", Schema: &event.Schema{Type: event.Bytes}},
		},
	}
}

// DecimalSchema returns the schema of a decimal column of fixed precision and
// scale under mode: Decimal(precision, scale), float64 or string.
func DecimalSchema(mode DecimalMode, precision, scale int) *event.Schema {
	switch mode {
	case DecimalDouble:
		return &event.Schema{Type: event.Float64}
	case DecimalString:
		return &event.Schema{Type: event.String}
	default:
		return Decimal(precision, scale)
	}
}

// VariableDecimalSchema returns the schema of a decimal column without a fixed
// scale under mode: VariableScaleDecimal, float64 or string.
func VariableDecimalSchema(mode DecimalMode) *event.Schema {
	switch mode {
	case DecimalDouble:
		return &event.Schema{Type: event.Float64}
	case DecimalString:
		return &event.Schema{Type: event.String}
	default:
		return VariableScaleDecimal()
	}
}

// DecimalValue converts d for a DecimalSchema(mode, _, scale) field. In
// precise mode the value is rescaled to scale, rounding half up as Debezium
// does when a value carries more digits than the column; double mode gives
// the nearest float64 (see decimalFloat) and string mode the plain text of
// d as given.
func DecimalValue(mode DecimalMode, d event.Decimal, scale int) any {
	switch mode {
	case DecimalDouble:
		return decimalFloat(d)
	case DecimalString:
		return d.String()
	default:
		return Rescale(d, scale)
	}
}

// VariableDecimalValue converts d for a VariableDecimalSchema(mode) field. In
// precise mode trailing fractional zeros are stripped (never below scale 0),
// as Debezium does.
func VariableDecimalValue(mode DecimalMode, d event.Decimal) any {
	switch mode {
	case DecimalDouble:
		return decimalFloat(d)
	case DecimalString:
		return d.String()
	default:
		return StripTrailingZeros(d)
	}
}

// SpecialFloat returns the value a decimal NaN or ±Infinity takes under a
// double or string mode ("NaN", "Infinity", "-Infinity"); ok is false in
// precise mode, where such values cannot be represented.
func SpecialFloat(mode DecimalMode, f float64) (v any, ok bool) {
	switch mode {
	case DecimalDouble:
		return f, true
	case DecimalString:
		switch {
		case math.IsNaN(f):
			return "NaN", true
		case math.IsInf(f, 1):
			return "Infinity", true
		default:
			return "-Infinity", true
		}
	}
	return nil, false
}

// Rescale returns d with exactly scale fractional digits, rounding half away
// from zero when digits are dropped.
func Rescale(d event.Decimal, scale int) event.Decimal {
	u := d.Unscaled
	if u == nil {
		u = new(big.Int)
	}
	diff := scale - int(d.Scale)
	switch {
	case diff == 0:
		return event.Decimal{Unscaled: new(big.Int).Set(u), Scale: int32(scale)}
	case diff > 0:
		m := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(diff)), nil)
		return event.Decimal{Unscaled: m.Mul(m, u), Scale: int32(scale)}
	default:
		m := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-diff)), nil)
		q, r := new(big.Int).QuoRem(u, m, new(big.Int))
		// Round half away from zero: |2r| >= m.
		if r.Sign() != 0 && new(big.Int).Abs(r).Lsh(new(big.Int).Abs(r), 1).Cmp(m) >= 0 {
			if u.Sign() < 0 {
				q.Sub(q, big.NewInt(1))
			} else {
				q.Add(q, big.NewInt(1))
			}
		}
		return event.Decimal{Unscaled: q, Scale: int32(scale)}
	}
}

// StripTrailingZeros removes trailing fractional zeros from d, keeping the
// scale at zero or above.
func StripTrailingZeros(d event.Decimal) event.Decimal {
	if d.Unscaled == nil || d.Unscaled.Sign() == 0 {
		return event.Decimal{Unscaled: new(big.Int), Scale: 0}
	}
	u := new(big.Int).Set(d.Unscaled)
	s := d.Scale
	ten := big.NewInt(10)
	q, r := new(big.Int), new(big.Int)
	for s > 0 {
		q.QuoRem(u, ten, r)
		if r.Sign() != 0 {
			break
		}
		u.Set(q)
		s--
	}
	if s < 0 {
		return Rescale(event.Decimal{Unscaled: u, Scale: s}, 0)
	}
	return event.Decimal{Unscaled: u, Scale: s}
}

// decimalFloat is the float64 nearest to d, as Java's
// BigDecimal.doubleValue gives it to Debezium: ±Inf beyond ±1.8e308, ±0
// below 4.9e-324.
func decimalFloat(d event.Decimal) float64 {
	// The text of a Decimal always parses; only its range can fail, and
	// ParseFloat then returns the infinity.
	f, _ := strconv.ParseFloat(d.String(), 64)
	return f
}
