// Package logical holds Debezium's logical types shared by every source
// connector: the handling modes users configure (decimal.handling.mode,
// time.precision.mode, binary.handling.mode, interval.handling.mode), the
// event.Schema of each logical type, and converters from plain Go values
// (days, microseconds, decimals, byte strings) into the Go value that schema
// wants. Postgres and MySQL both build their column types from here, so the
// same logical type always yields the same schema and the same value.
//
// Every function is pure and safe for concurrent use. Schema builders return a
// fresh *event.Schema on each call; callers may set Optional, Default or Doc on
// it before publishing it, and must not change it afterwards.
package logical

import (
	"fmt"
	"strings"
)

// The configuration keys whose values the Parse functions read; errors name them.
const (
	DecimalModeKey  = "decimal.handling.mode"
	TimeModeKey     = "time.precision.mode"
	BinaryModeKey   = "binary.handling.mode"
	IntervalModeKey = "interval.handling.mode"
)

// DecimalMode is decimal.handling.mode: how exact decimals are represented.
type DecimalMode uint8

// The values of decimal.handling.mode. The zero value is Debezium's default.
const (
	// DecimalPrecise emits org.apache.kafka.connect.data.Decimal bytes (or
	// io.debezium.data.VariableScaleDecimal when the scale is not fixed).
	DecimalPrecise DecimalMode = iota
	// DecimalDouble emits float64, losing precision.
	DecimalDouble
	// DecimalString emits the plain decimal text.
	DecimalString
)

var decimalModes = []string{"precise", "double", "string"}

func (m DecimalMode) String() string { return modeName(decimalModes, int(m)) }

// ParseDecimalMode reads a decimal.handling.mode value; "" is the default, precise.
func ParseDecimalMode(s string) (DecimalMode, error) {
	i, err := parseMode(DecimalModeKey, decimalModes, s)
	return DecimalMode(i), err
}

// TimeMode is time.precision.mode: which semantic types temporal columns get.
type TimeMode uint8

// The values of time.precision.mode. The zero value is adaptive, Debezium's
// default for Postgres; Debezium's MySQL connector defaults to
// TimeAdaptiveMicroseconds.
const (
	// TimeAdaptive picks milli-, micro- or nanosecond types from each
	// column's fractional-second precision.
	TimeAdaptive TimeMode = iota
	// TimeAdaptiveMicroseconds is TimeAdaptive except that every TIME column
	// is io.debezium.time.MicroTime.
	TimeAdaptiveMicroseconds
	// TimeConnect uses Kafka Connect's own Date, Time and Timestamp types,
	// all with millisecond precision.
	TimeConnect
)

var timeModes = []string{"adaptive", "adaptive_time_microseconds", "connect"}

func (m TimeMode) String() string { return modeName(timeModes, int(m)) }

// ParseTimeMode reads a time.precision.mode value; "" is adaptive.
func ParseTimeMode(s string) (TimeMode, error) {
	i, err := parseMode(TimeModeKey, timeModes, s)
	return TimeMode(i), err
}

// BinaryMode is binary.handling.mode: how byte strings are represented.
type BinaryMode uint8

// The values of binary.handling.mode. The zero value is the default, bytes.
const (
	BinaryBytes         BinaryMode = iota // raw bytes
	BinaryBase64                          // standard base64 with padding, as a string
	BinaryBase64URLSafe                   // URL-safe base64 with padding, as a string
	BinaryHex                             // lower-case hexadecimal, as a string
)

var binaryModes = []string{"bytes", "base64", "base64-url-safe", "hex"}

func (m BinaryMode) String() string { return modeName(binaryModes, int(m)) }

// ParseBinaryMode reads a binary.handling.mode value; "" is bytes.
func ParseBinaryMode(s string) (BinaryMode, error) {
	i, err := parseMode(BinaryModeKey, binaryModes, s)
	return BinaryMode(i), err
}

// IntervalMode is interval.handling.mode: how intervals are represented.
type IntervalMode uint8

// The values of interval.handling.mode. The zero value is the default, numeric.
const (
	// IntervalNumeric emits io.debezium.time.MicroDuration, an approximate
	// number of microseconds counting 365.25/12 days per month.
	IntervalNumeric IntervalMode = iota
	// IntervalString emits io.debezium.time.Interval, ISO-8601 "PnYnMnDTnHnMnS".
	IntervalString
)

var intervalModes = []string{"numeric", "string"}

func (m IntervalMode) String() string { return modeName(intervalModes, int(m)) }

// ParseIntervalMode reads an interval.handling.mode value; "" is numeric.
func ParseIntervalMode(s string) (IntervalMode, error) {
	i, err := parseMode(IntervalModeKey, intervalModes, s)
	return IntervalMode(i), err
}

func modeName(names []string, i int) string {
	if i >= 0 && i < len(names) {
		return names[i]
	}
	return fmt.Sprintf("mode(%d)", i)
}

// parseMode matches s case-insensitively against names; "" selects names[0].
func parseMode(key string, names []string, s string) (int, error) {
	v := strings.TrimSpace(s)
	if v == "" {
		return 0, nil
	}
	for i, n := range names {
		if strings.EqualFold(v, n) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("invalid value %q for %s: allowed values are %s", s, key, strings.Join(names, ", "))
}
