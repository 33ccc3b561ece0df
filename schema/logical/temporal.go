package logical

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-cdc/sluice/schema/event"
)

const (
	microsPerMilli = 1000
	microsPerDay   = 86_400_000_000
)

// Date returns the schema of a DATE column: io.debezium.time.Date (int32
// days since 1970-01-01) in the adaptive modes, Kafka Connect's Date (also
// int32 days) in connect mode. Its value comes from DateValue.
func Date(mode TimeMode) *event.Schema {
	if mode == TimeConnect {
		return &event.Schema{Type: event.Int32, Name: event.ConnectDateName, Version: 1}
	}
	return &event.Schema{Type: event.Int32, Name: event.DateName, Version: 1}
}

// Time returns the schema of a time-of-day column with the given
// fractional-second precision: in adaptive mode io.debezium.time.Time (int32
// ms) up to 3 digits, MicroTime (int64 µs) up to 6 and NanoTime (int64 ns)
// beyond; MicroTime always in adaptive_time_microseconds mode; Kafka
// Connect's Time (int32 ms) in connect mode. Its value comes from TimeValue.
func Time(mode TimeMode, precision int) *event.Schema {
	switch {
	case mode == TimeConnect:
		return &event.Schema{Type: event.Int32, Name: event.ConnectTimeName, Version: 1}
	case mode == TimeAdaptiveMicroseconds || (precision > 3 && precision <= 6):
		return &event.Schema{Type: event.Int64, Name: event.MicroTimeName, Version: 1}
	case precision <= 3:
		return &event.Schema{Type: event.Int32, Name: event.TimeName, Version: 1}
	default:
		return &event.Schema{Type: event.Int64, Name: event.NanoTimeName, Version: 1}
	}
}

// Timestamp returns the schema of a timestamp without time zone of the given
// fractional-second precision: io.debezium.time.Timestamp (int64 ms) up to 3
// digits, MicroTimestamp (int64 µs) up to 6 and NanoTimestamp beyond in both
// adaptive modes; Kafka Connect's Timestamp (int64 ms) in connect mode. The
// wall-clock value is read as if it were UTC. Its value comes from TimestampValue.
func Timestamp(mode TimeMode, precision int) *event.Schema {
	switch {
	case mode == TimeConnect:
		return &event.Schema{Type: event.Int64, Name: event.ConnectTimestampName, Version: 1}
	case precision <= 3:
		return &event.Schema{Type: event.Int64, Name: event.TimestampName, Version: 1}
	case precision <= 6:
		return &event.Schema{Type: event.Int64, Name: event.MicroTimestampName, Version: 1}
	default:
		return &event.Schema{Type: event.Int64, Name: event.NanoTimestampName, Version: 1}
	}
}

// ZonedTimestamp returns io.debezium.time.ZonedTimestamp: an ISO-8601 string
// in UTC, in every time.precision.mode. Its value comes from ZonedTimestampValue.
func ZonedTimestamp() *event.Schema {
	return &event.Schema{Type: event.String, Name: event.ZonedTimestampName, Version: 1}
}

// ZonedTime returns io.debezium.time.ZonedTime: an ISO-8601 time of day with
// offset, normalised to UTC. Its value comes from ZonedTimeValue.
func ZonedTime() *event.Schema {
	return &event.Schema{Type: event.String, Name: event.ZonedTimeName, Version: 1}
}

// Year returns io.debezium.time.Year, an int32 year.
func Year() *event.Schema {
	return &event.Schema{Type: event.Int32, Name: event.YearName, Version: 1}
}

// EpochDays returns the number of days from 1970-01-01 to the given date of
// the proleptic Gregorian calendar (year 0 is 1 BC).
func EpochDays(year, month, day int) int64 {
	return floorDiv(time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC).Unix(), 86400)
}

// EpochMicros returns the microseconds since the Unix epoch of t, rounding
// toward negative infinity, clamped to the int64 range: instants after
// 294247-01-10T04:00:54.775807Z are math.MaxInt64, before
// -290308-12-21T19:59:05.224192Z math.MinInt64.
func EpochMicros(t time.Time) int64 {
	return epochUnits(t, 1_000_000, 1000)
}

// epochNanos is EpochMicros in nanoseconds, clamped alike.
func epochNanos(t time.Time) int64 {
	return epochUnits(t, 1_000_000_000, 1)
}

// epochUnits returns t in units of 1/perSecond s since the epoch, each
// nanosPerUnit ns, rounding toward negative infinity and clamping to the
// int64 range.
func epochUnits(t time.Time, perSecond, nanosPerUnit int64) int64 {
	sec, frac := t.Unix(), int64(t.Nanosecond())/nanosPerUnit
	switch {
	case sec > (math.MaxInt64-frac)/perSecond:
		return math.MaxInt64
	case sec < math.MinInt64/perSecond:
		return math.MinInt64
	}
	return sec*perSecond + frac
}

// DateValue converts days since 1970-01-01 into the value of a Date schema.
func DateValue(days int64) (int32, error) {
	if days < math.MinInt32 || days > math.MaxInt32 {
		return 0, fmt.Errorf("date %d days from the epoch does not fit in int32", days)
	}
	return int32(days), nil
}

// TimeValue converts a time of day (or a signed duration, for MySQL TIME)
// in microseconds into the value of Time(mode, precision): int32
// milliseconds (truncated toward zero), int64 microseconds or int64
// nanoseconds. Values beyond the type's range are clamped to it: only a
// MySQL TIME past ±596:31:23.647 exceeds int32 milliseconds, which
// Debezium casts to int and so wraps around.
func TimeValue(mode TimeMode, precision int, micros int64) any {
	switch s := Time(mode, precision); {
	case s.Type == event.Int32:
		return int32(max(math.MinInt32, min(math.MaxInt32, micros/microsPerMilli)))
	case s.Name == event.NanoTimeName:
		switch {
		case micros > math.MaxInt64/1000:
			return int64(math.MaxInt64)
		case micros < math.MinInt64/1000:
			return int64(math.MinInt64)
		}
		return micros * 1000
	}
	return micros
}

// TimestampValue converts a wall-clock timestamp read as UTC into the value
// of Timestamp(mode, precision): int64 milliseconds (rounded toward
// negative infinity), microseconds or nanoseconds since the epoch, clamped
// to the int64 range (see EpochMicros). Debezium computes the same values
// in range; past it, its microseconds saturate before the fraction of the
// second is added, which wraps around unless the fraction is zero.
func TimestampValue(mode TimeMode, precision int, t time.Time) int64 {
	switch Timestamp(mode, precision).Name {
	case event.TimestampName, event.ConnectTimestampName:
		return t.UnixMilli()
	case event.NanoTimestampName:
		return epochNanos(t)
	default:
		return EpochMicros(t)
	}
}

// ZonedTimestampValue formats t in UTC as Debezium's ZonedTimestamp does:
// "2024-02-29T10:11:12.123456Z". With fractionDigits between 1 and 9 the
// fraction always has exactly that many digits (the column's precision);
// otherwise it has as many as needed, none when zero. Years beyond 9999 get a
// "+" sign and years before 1 (BC) a "-" sign, as in java.time.
func ZonedTimestampValue(t time.Time, fractionDigits int) string {
	t = t.UTC()
	var b strings.Builder
	b.Grow(32)
	writeYear(&b, t.Year())
	for i, v := range [5]int{int(t.Month()), t.Day(), t.Hour(), t.Minute(), t.Second()} {
		b.WriteByte("--T::"[i])
		b.WriteByte(byte('0' + v/10))
		b.WriteByte(byte('0' + v%10))
	}
	writeFraction(&b, t.Nanosecond(), fractionDigits)
	b.WriteByte('Z')
	return b.String()
}

// ZonedTimeValue converts a time of day in microseconds at the given UTC
// offset to UTC and formats it as Debezium's ZonedTime does: "08:11:12.5Z",
// with as many fractional digits as needed.
func ZonedTimeValue(micros int64, offsetSeconds int) string {
	utc := micros - int64(offsetSeconds)*1_000_000
	utc = ((utc % microsPerDay) + microsPerDay) % microsPerDay
	secs := int(utc / 1_000_000)
	var b strings.Builder
	b.Grow(24)
	writePadded(&b, secs/3600, 2)
	b.WriteByte(':')
	writePadded(&b, secs/60%60, 2)
	b.WriteByte(':')
	writePadded(&b, secs%60, 2)
	writeFraction(&b, int(utc%1_000_000)*1000, 0)
	b.WriteByte('Z')
	return b.String()
}

// writeYear writes a year as java.time's ISO formatter does.
func writeYear(b *strings.Builder, y int) {
	switch {
	case y > 9999:
		b.WriteByte('+')
		b.WriteString(strconv.Itoa(y))
	case y < 0:
		b.WriteByte('-')
		writePadded(b, -y, 4)
	default:
		writePadded(b, y, 4)
	}
}

// writePadded writes v, which is not negative, in decimal with zeros before
// it up to width digits (width at most 9).
func writePadded(b *strings.Builder, v, width int) {
	var d [20]byte
	digits := strconv.AppendInt(d[:0], int64(v), 10)
	for range width - len(digits) {
		b.WriteByte('0')
	}
	b.Write(digits)
}

// writeFraction writes ".ddd": exactly width digits when width is 1..9,
// otherwise the shortest form without trailing zeros (nothing for zero).
func writeFraction(b *strings.Builder, nanos, width int) {
	var d [9]byte
	for i := len(d) - 1; i >= 0; i-- {
		d[i] = byte('0' + nanos%10)
		nanos /= 10
	}
	digits := d[:]
	if width < 1 || width > 9 {
		width = len(bytes.TrimRight(digits, "0"))
	}
	if width > 0 {
		b.WriteByte('.')
		b.Write(digits[:width])
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
