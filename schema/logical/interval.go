package logical

import (
	"fmt"
	"math"
	"math/big"
	"strings"

	"github.com/sluice-cdc/sluice/schema/event"
)

// MicrosPerMonth is the length of a month in io.debezium.time.MicroDuration:
// 365.25/12 = 30.4375 days.
const MicrosPerMonth = 2_629_800_000_000

// Interval returns the schema of an interval column under mode:
// io.debezium.time.MicroDuration (int64) or io.debezium.time.Interval (string).
func Interval(mode IntervalMode) *event.Schema {
	if mode == IntervalString {
		return &event.Schema{Type: event.String, Name: event.IntervalName, Version: 1}
	}
	return &event.Schema{Type: event.Int64, Name: event.MicroDurationName, Version: 1}
}

// IntervalValue converts an interval of months, days and microseconds (the
// three fields Postgres stores) into the value of Interval(mode).
//
// Numeric mode gives months×30.4375 days + days×24 h + micros, in
// microseconds, computed exactly in integers (Debezium computes the same sum
// in float64 and may differ by a microsecond on values with fractions). A
// sum beyond the int64 range (intervals of more than about 292,000 years)
// is clamped to math.MaxInt64 or math.MinInt64, as Debezium's MicroDuration
// clamps it (Java's cast of a float64 to long saturates).
//
// String mode gives "P1Y2M3DT4H5M6.78S": years and months split from months,
// hours, minutes and seconds from micros, each carrying the sign of the field
// it came from, every component always present, seconds without trailing zeros.
func IntervalValue(mode IntervalMode, months, days, micros int64) any {
	if mode == IntervalString {
		return intervalISO(months, days, micros)
	}
	total, ok := mulAdd(months, MicrosPerMonth, 0)
	if ok {
		total, ok = mulAdd(days, microsPerDay, total)
	}
	if ok {
		total, ok = mulAdd(micros, 1, total)
	}
	if ok {
		return total
	}
	// A step overflowed: sum exactly, then clamp.
	sum := new(big.Int).Mul(big.NewInt(months), big.NewInt(MicrosPerMonth))
	sum.Add(sum, new(big.Int).Mul(big.NewInt(days), big.NewInt(microsPerDay)))
	sum.Add(sum, big.NewInt(micros))
	switch {
	case sum.IsInt64():
		return sum.Int64()
	case sum.Sign() > 0:
		return int64(math.MaxInt64)
	default:
		return int64(math.MinInt64)
	}
}

func intervalISO(months, days, micros int64) string {
	secs := micros / 1_000_000
	frac := micros % 1_000_000
	var b strings.Builder
	fmt.Fprintf(&b, "P%dY%dM%dDT%dH%dM", months/12, months%12, days, micros/3_600_000_000, secs/60%60)
	s := secs % 60
	if frac == 0 {
		fmt.Fprintf(&b, "%dS", s)
		return b.String()
	}
	if micros < 0 {
		b.WriteByte('-')
		s, frac = -s, -frac
	}
	fmt.Fprintf(&b, "%d.%s", s, strings.TrimRight(fmt.Sprintf("%06d", frac), "0"))
	b.WriteByte('S')
	return b.String()
}

// mulAdd returns a*m+acc and whether it fit in int64.
func mulAdd(a, m, acc int64) (int64, bool) {
	if a != 0 && (a*m)/m != a {
		return 0, false
	}
	p := a * m
	s := p + acc
	if (p > 0 && acc > 0 && s < 0) || (p < 0 && acc < 0 && s >= 0) {
		return 0, false
	}
	return s, true
}
