package mysql

import (
	"fmt"
	"strings"
)

// BigIntUnsignedModeKey is the configuration key ParseBigIntUnsignedMode reads.
const BigIntUnsignedModeKey = "bigint.unsigned.handling.mode"

// BigIntUnsignedMode is bigint.unsigned.handling.mode: how BIGINT UNSIGNED
// columns are represented.
type BigIntUnsignedMode uint8

// The values of bigint.unsigned.handling.mode. The zero value is the
// default, long, as Debezium's.
const (
	// BigIntUnsignedLong emits int64. A value above 9223372036854775807,
	// which Debezium wraps to a negative number, is a conversion failure.
	BigIntUnsignedLong BigIntUnsignedMode = iota
	// BigIntUnsignedPrecise emits Decimal(20,0), which holds every value.
	BigIntUnsignedPrecise
)

func (m BigIntUnsignedMode) String() string {
	if m == BigIntUnsignedPrecise {
		return "precise"
	}
	return "long"
}

// ParseBigIntUnsignedMode reads a bigint.unsigned.handling.mode value; "" is long.
func ParseBigIntUnsignedMode(s string) (BigIntUnsignedMode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "long":
		return BigIntUnsignedLong, nil
	case "precise":
		return BigIntUnsignedPrecise, nil
	}
	return 0, fmt.Errorf("invalid value %q for %s: allowed values are precise, long", s, BigIntUnsignedModeKey)
}
