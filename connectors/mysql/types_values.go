package mysql

import (
	"bytes"
	"fmt"
	"math"
	"math/big"
	"strings"
	"unicode/utf8"

	"github.com/go-mysql-org/go-mysql/mysql"
	"golang.org/x/text/encoding/charmap"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/logical"
)

// integer maps the integer types as Debezium does: TINYINT → INT16,
// SMALLINT → INT16 (INT32 unsigned), MEDIUMINT → INT32, INT → INT32 (INT64
// unsigned), BIGINT → INT64, BIGINT UNSIGNED → INT64 or Decimal(20,0) per
// bigint.unsigned.handling.mode (long or precise).
func (m *Mapper) integer(tp byte, unsigned bool) *ColumnType {
	name := map[byte]string{mysql.MYSQL_TYPE_TINY: "tinyint", mysql.MYSQL_TYPE_SHORT: "smallint",
		mysql.MYSQL_TYPE_INT24: "mediumint", mysql.MYSQL_TYPE_LONG: "int", mysql.MYSQL_TYPE_LONGLONG: "bigint"}[tp]
	bits := map[byte]uint{mysql.MYSQL_TYPE_TINY: 8, mysql.MYSQL_TYPE_SHORT: 16,
		mysql.MYSQL_TYPE_INT24: 24, mysql.MYSQL_TYPE_LONG: 32, mysql.MYSQL_TYPE_LONGLONG: 64}[tp]
	if unsigned {
		name += " unsigned"
	}
	// read returns the column's value as int64, or as uint64 when unsigned.
	read := func(v any) (int64, uint64, error) {
		i, err := toInt64(v)
		if err != nil {
			return 0, 0, err
		}
		if !unsigned {
			return i, 0, nil
		}
		u := uint64(i)
		if bits < 64 {
			u &= 1<<bits - 1
		}
		return 0, u, nil
	}
	var schema *event.Schema
	var conv func(int64, uint64) (any, error)
	switch {
	case tp == mysql.MYSQL_TYPE_TINY || (tp == mysql.MYSQL_TYPE_SHORT && !unsigned):
		schema = &event.Schema{Type: event.Int16}
		conv = func(i int64, u uint64) (any, error) {
			if unsigned {
				return int16(u), nil
			}
			return int16(i), nil
		}
	case tp == mysql.MYSQL_TYPE_SHORT || tp == mysql.MYSQL_TYPE_INT24 || (tp == mysql.MYSQL_TYPE_LONG && !unsigned):
		schema = &event.Schema{Type: event.Int32}
		conv = func(i int64, u uint64) (any, error) {
			if unsigned {
				return int32(u), nil
			}
			return int32(i), nil
		}
	case tp == mysql.MYSQL_TYPE_LONG || !unsigned:
		schema = &event.Schema{Type: event.Int64}
		conv = func(i int64, u uint64) (any, error) {
			if unsigned {
				return int64(u), nil
			}
			return i, nil
		}
	case m.bigint == BigIntUnsignedLong:
		schema = &event.Schema{Type: event.Int64}
		conv = func(_ int64, u uint64) (any, error) { return unsignedBigIntLong(u) }
	default:
		schema = logical.Decimal(20, 0)
		conv = func(_ int64, u uint64) (any, error) {
			return event.Decimal{Unscaled: new(big.Int).SetUint64(u), Scale: 0}, nil
		}
	}
	return typed(name, schema, func(v any) (any, error) {
		i, u, err := read(v)
		if err != nil {
			return nil, err
		}
		return conv(i, u)
	})
}

// unsignedBigIntLong is a BIGINT UNSIGNED value in
// bigint.unsigned.handling.mode=long: the int64 of the same value. A value
// above 9223372036854775807, which Debezium wraps to a negative number, is
// an error: it does not fit.
func unsignedBigIntLong(u uint64) (int64, error) {
	if u > math.MaxInt64 {
		return 0, fmt.Errorf("%d does not fit in int64 (%s=long, as Debezium's default): set %[2]s=precise to emit Decimal(20,0), which holds every BIGINT UNSIGNED value",
			u, BigIntUnsignedModeKey)
	}
	return int64(u), nil
}

func toInt64(v any) (int64, error) {
	switch x := v.(type) {
	case int8:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int64:
		return x, nil
	case int:
		return int64(x), nil
	case uint8:
		return int64(x), nil
	case uint16:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint64:
		return int64(x), nil
	}
	return 0, fmt.Errorf("unexpected %T %v for an integer column", v, v)
}

func floatValue(size int) func(any) (any, error) {
	return func(v any) (any, error) {
		var f float64
		switch x := v.(type) {
		case float32:
			if size == 32 {
				return x, nil
			}
			f = float64(x)
		case float64:
			f = x
		default:
			return nil, fmt.Errorf("unexpected %T %v for a floating-point column", v, v)
		}
		if size == 32 {
			return float32(f), nil
		}
		return f, nil
	}
}

// decimalOf reads a DECIMAL value: go-mysql's exact string (UseDecimal=false)
// or any value printing as a plain decimal (decimal.Decimal with UseDecimal).
func decimalOf(v any) (event.Decimal, error) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case fmt.Stringer:
		s = x.String()
	default:
		return event.Decimal{}, fmt.Errorf("unexpected %T %v for a decimal column", v, v)
	}
	return event.ParseDecimal(s)
}

// bitColumn maps BIT(1) to a boolean and BIT(n) to io.debezium.data.Bits
// holding (n+7)/8 little-endian bytes.
func bitColumn(n int) *ColumnType {
	if n == 1 {
		return typed("bit(1)", &event.Schema{Type: event.Boolean}, func(v any) (any, error) {
			i, err := toInt64(v)
			return i != 0, err
		})
	}
	size := (n + 7) / 8
	return typed(fmt.Sprintf("bit(%d)", n), logical.Bits(n), func(v any) (any, error) {
		i, err := toInt64(v)
		if err != nil {
			return nil, err
		}
		return logical.BitsValue(uint64(i), size), nil
	})
}

func yearValue(v any) (any, error) {
	i, err := toInt64(v)
	return int32(i), err
}

// enumColumn maps ENUM to io.debezium.data.Enum. The binlog holds the
// 1-based index of the member; index 0, an invalid value stored as the
// empty string, is "".
func enumColumn(values []string) *ColumnType {
	return typed("enum", logical.Enum(values), func(v any) (any, error) {
		i, err := toInt64(v)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			return "", nil
		}
		if i < 0 || int(i) > len(values) {
			return nil, fmt.Errorf("enum index %d out of range of %d values", i, len(values))
		}
		return values[i-1], nil
	})
}

// setColumn maps SET to io.debezium.data.EnumSet. The binlog holds a bitmap
// of members, bit 0 being the first.
func setColumn(values []string) *ColumnType {
	return typed("set", logical.EnumSet(values), func(v any) (any, error) {
		i, err := toInt64(v)
		if err != nil {
			return nil, err
		}
		bits := uint64(i)
		var members []string
		for k := 0; bits != 0; k, bits = k+1, bits>>1 {
			if bits&1 == 0 {
				continue
			}
			if k >= len(values) {
				return nil, fmt.Errorf("set bit %d out of range of %d values", k, len(values))
			}
			members = append(members, values[k])
		}
		return logical.EnumSetValue(members), nil
	})
}

// jsonColumn maps MySQL's binary JSON, which go-mysql decodes to text. An
// empty document (left by INSERT IGNORE of NULL) is null when the column is
// nullable and "{}" otherwise, as in Debezium.
func jsonColumn(nullable bool) *ColumnType {
	return typed("json", logical.JSON(), func(v any) (any, error) {
		var s string
		switch x := v.(type) {
		case string:
			s = strings.Clone(x)
		case []byte:
			s = string(x)
		default:
			return nil, fmt.Errorf("unexpected %T for a json column", v)
		}
		if s == "" {
			if nullable {
				return nil, nil
			}
			return "{}", nil
		}
		return s, nil
	})
}

const binaryCollation = 63

// characterOrBinary maps CHAR/VARCHAR/TEXT (strings decoded from the
// column's charset) and BINARY/VARBINARY/BLOB (collation binary; bytes per
// binary.handling.mode). JSON columns of MariaDB, which the binlog logs as
// LONGTEXT, are recognised by Column.DataType.
func (m *Mapper) characterOrBinary(c Column, tp byte, meta uint16) *ColumnType {
	if c.Collation == binaryCollation {
		switch tp {
		case mysql.MYSQL_TYPE_STRING:
			return m.binaryColumn("binary", int(meta))
		case mysql.MYSQL_TYPE_BLOB:
			return m.binaryColumn("blob", 0)
		}
		return m.binaryColumn("varbinary", 0)
	}
	decode := decoderFor(c.Collation)
	conv := func(v any) (any, error) {
		switch x := v.(type) {
		case string:
			return decode([]byte(x)), nil
		case []byte:
			return decode(x), nil
		}
		return nil, fmt.Errorf("unexpected %T for a character column", v)
	}
	if strings.EqualFold(c.DataType, "json") {
		return typed("json", logical.JSON(), conv)
	}
	source := map[byte]string{mysql.MYSQL_TYPE_STRING: "char", mysql.MYSQL_TYPE_BLOB: "text"}[tp]
	if source == "" {
		source = "varchar"
	}
	return typed(source, &event.Schema{Type: event.String}, conv)
}

// binaryColumn maps a byte string; BINARY(n) values, whose trailing zero
// bytes the binlog drops, are padded back to n bytes (pad > 0).
func (m *Mapper) binaryColumn(source string, pad int) *ColumnType {
	mode := m.binary
	return typed(source, logical.Binary(mode), func(v any) (any, error) {
		var b []byte
		switch x := v.(type) {
		case string:
			b = []byte(x)
		case []byte:
			b = bytes.Clone(x)
		default:
			return nil, fmt.Errorf("unexpected %T for a binary column", v)
		}
		if b == nil {
			b = []byte{}
		}
		if len(b) < pad {
			b = append(b, make([]byte, pad-len(b))...)
		}
		return logical.BinaryValue(mode, b), nil
	})
}

// latin1Collations are the collation ids of MySQL's latin1 (which is
// Windows-1252), including MariaDB's NO PAD variants.
var latin1Collations = map[uint64]bool{5: true, 8: true, 15: true, 31: true, 47: true, 48: true, 49: true, 94: true, 1032: true, 1071: true}

// decoderFor returns the decoder of a character column's bytes into a Go
// string: Windows-1252 for latin1 collations, UTF-8 (utf8mb3, utf8mb4,
// ascii) otherwise. Bytes that are not valid UTF-8 are replaced by U+FFFD,
// as Java's decoder does for Debezium.
func decoderFor(collation uint64) func([]byte) string {
	if latin1Collations[collation] {
		dec := charmap.Windows1252.NewDecoder()
		return func(b []byte) string {
			out, err := dec.Bytes(b)
			if err != nil {
				return strings.ToValidUTF8(string(b), "\uFFFD")
			}
			return string(out)
		}
	}
	return func(b []byte) string {
		if utf8.Valid(b) {
			return string(b)
		}
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
}
