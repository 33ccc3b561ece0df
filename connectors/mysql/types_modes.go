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

// The values of bigint.unsigned.handling.mode. The zero value is the default.
const (
	// BigIntUnsignedPrecise emits Decimal(20,0), so values above
	// 9223372036854775807 keep their value.
	BigIntUnsignedPrecise BigIntUnsignedMode = iota
	// BigIntUnsignedLong emits int64; values above 9223372036854775807 wrap
	// to negative numbers, as in Debezium.
	BigIntUnsignedLong
)

func (m BigIntUnsignedMode) String() string {
	if m == BigIntUnsignedLong {
		return "long"
	}
	return "precise"
}

// ParseBigIntUnsignedMode reads a bigint.unsigned.handling.mode value; "" is precise.
func ParseBigIntUnsignedMode(s string) (BigIntUnsignedMode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "precise":
		return BigIntUnsignedPrecise, nil
	case "long":
		return BigIntUnsignedLong, nil
	}
	return 0, fmt.Errorf("invalid value %q for %s: allowed values are precise, long", s, BigIntUnsignedModeKey)
}
