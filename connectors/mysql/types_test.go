package mysql

import (
	"math"
	"reflect"
	"testing"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/logical"
)

type stringer string

func (s stringer) String() string { return string(s) }

func TestColumnValues(t *testing.T) {
	utf8 := uint64(45)
	cases := []struct {
		name string
		opts []Option
		col  Column
		in   any
		want any
	}{
		{"tinyint unsigned", nil, Column{Type: gomysql.MYSQL_TYPE_TINY, Unsigned: true}, int8(-1), int16(255)},
		{"mediumint unsigned", nil, Column{Type: gomysql.MYSQL_TYPE_INT24, Unsigned: true}, int32(-1), int32(16777215)},
		{"int unsigned", nil, Column{Type: gomysql.MYSQL_TYPE_LONG, Unsigned: true}, int32(-1), int64(4294967295)},
		// BIGINT UNSIGNED is int64 by default (long), exact up to 2^63-1.
		{"bigint unsigned long max", nil, Column{Type: gomysql.MYSQL_TYPE_LONGLONG, Unsigned: true}, uint64(math.MaxInt64), int64(math.MaxInt64)},
		{"bigint unsigned long max as int64", []Option{WithBigIntUnsignedMode(BigIntUnsignedLong)},
			Column{Type: gomysql.MYSQL_TYPE_LONGLONG, Unsigned: true}, int64(math.MaxInt64), int64(math.MaxInt64)},
		{"bigint unsigned long zero", nil, Column{Type: gomysql.MYSQL_TYPE_LONGLONG, Unsigned: true}, uint64(0), int64(0)},
		{"bigint unsigned precise", []Option{WithBigIntUnsignedMode(BigIntUnsignedPrecise)},
			Column{Type: gomysql.MYSQL_TYPE_LONGLONG, Unsigned: true}, int64(-1), udec("18446744073709551615")},
		{"bigint unsigned precise from uint64", []Option{WithBigIntUnsignedMode(BigIntUnsignedPrecise)},
			Column{Type: gomysql.MYSQL_TYPE_LONGLONG, Unsigned: true}, uint64(1 << 63), udec("9223372036854775808")},
		{"decimal from Stringer", nil, Column{Type: gomysql.MYSQL_TYPE_NEWDECIMAL, Meta: 10<<8 | 2}, stringer("1.5"), udec("1.50")},
		{"decimal double", []Option{WithDecimalMode(logical.DecimalDouble)}, Column{Type: gomysql.MYSQL_TYPE_NEWDECIMAL, Meta: 10<<8 | 2}, "-1.25", -1.25},
		{"decimal string", []Option{WithDecimalMode(logical.DecimalString)}, Column{Type: gomysql.MYSQL_TYPE_NEWDECIMAL, Meta: 10<<8 | 2}, "-1.25", "-1.25"},
		{"bit(12)", nil, Column{Type: gomysql.MYSQL_TYPE_BIT, Meta: 1<<8 | 4}, int64(0x801), []byte{0x01, 0x08}},
		{"datetime text before 1970", nil, Column{Type: gomysql.MYSQL_TYPE_DATETIME2, Meta: 3}, "1969-12-31 23:59:59.999", int64(-1)},
		{"datetime connect", []Option{WithTimeMode(logical.TimeConnect)}, Column{Type: gomysql.MYSQL_TYPE_DATETIME2, Meta: 6},
			time.Date(1970, 1, 1, 0, 0, 1, 500000000, time.UTC), int64(1500)},
		{"datetime partial zero", nil, Column{Type: gomysql.MYSQL_TYPE_DATETIME2, Nullable: true}, "2024-00-10 00:00:00", nil},
		{"timestamp text is UTC", nil, Column{Type: gomysql.MYSQL_TYPE_TIMESTAMP2, Meta: 3}, "2024-02-29 10:11:12.500", "2024-02-29T10:11:12.500Z"},
		{"timestamp zero NOT NULL", nil, Column{Type: gomysql.MYSQL_TYPE_TIMESTAMP2}, "0000-00-00 00:00:00", "1970-01-01T00:00:00Z"},
		{"datetime zero NOT NULL", nil, Column{Type: gomysql.MYSQL_TYPE_DATETIME2, Meta: 6}, "0000-00-00 00:00:00.000000", int64(0)},
		{"time adaptive ms", []Option{WithTimeMode(logical.TimeAdaptive)}, Column{Type: gomysql.MYSQL_TYPE_TIME2, Meta: 2}, "-01:00:00.25", int32(-3600250)},
		{"time microseconds", nil, Column{Type: gomysql.MYSQL_TYPE_TIME2}, "12:34:56", int64(45296000000)},
		{"enum", nil, Column{Type: gomysql.MYSQL_TYPE_STRING, Meta: uint16(gomysql.MYSQL_TYPE_ENUM)<<8 | 1, EnumValues: []string{"a", "b"}}, int64(2), "b"},
		{"set", nil, Column{Type: gomysql.MYSQL_TYPE_STRING, Meta: uint16(gomysql.MYSQL_TYPE_SET)<<8 | 1, SetValues: []string{"x", "y", "z"}}, int64(6), "y,z"},
		{"json", nil, Column{Type: gomysql.MYSQL_TYPE_JSON, Meta: 4}, `{"a":1}`, `{"a":1}`},
		{"json empty NOT NULL", nil, Column{Type: gomysql.MYSQL_TYPE_JSON, Meta: 4}, []byte{}, "{}"},
		{"json empty nullable", nil, Column{Type: gomysql.MYSQL_TYPE_JSON, Meta: 4, Nullable: true}, []byte{}, nil},
		{"latin1", nil, Column{Type: gomysql.MYSQL_TYPE_VARCHAR, Meta: 10, Collation: 8}, "caf\xe9 \x80", "café €"},
		{"invalid utf8 replaced", nil, Column{Type: gomysql.MYSQL_TYPE_BLOB, Meta: 2, Collation: utf8}, []byte("a\xffb"), "a\uFFFDb"},
		{"varbinary hex", []Option{WithBinaryMode(logical.BinaryHex)}, Column{Type: gomysql.MYSQL_TYPE_VARCHAR, Meta: 10, Collation: 63}, "\x01\xab", "01ab"},
		{"binary(3) padded", nil, Column{Type: gomysql.MYSQL_TYPE_STRING, Meta: uint16(gomysql.MYSQL_TYPE_STRING)<<8 | 3, Collation: 63}, "a", []byte{'a', 0, 0}},
		{"char(300)", nil, Column{Type: gomysql.MYSQL_TYPE_STRING, Meta: 0xee<<8 | 0xb0, Collation: utf8}, "x", "x"},
		{"year", nil, Column{Type: gomysql.MYSQL_TYPE_YEAR}, 2024, int32(2024)},
		// Zero dates: null when nullable, the epoch otherwise (Debezium's
		// RowDeserializers.deserializeDate and JdbcValueConverters.convertValue).
		{"date zero nullable", nil, Column{Type: gomysql.MYSQL_TYPE_DATE, Nullable: true}, "0000-00-00", nil},
		{"date zero day NOT NULL", nil, Column{Type: gomysql.MYSQL_TYPE_DATE}, "2020-05-00", int32(0)},
		{"date year 1", nil, Column{Type: gomysql.MYSQL_TYPE_DATE}, "0001-01-01", int32(-719162)},
		// MySQL's TIME range in io.debezium.time.Time's int32 milliseconds
		// is clamped (Debezium's (int) cast wraps it around).
		{"time adaptive clamped", []Option{WithTimeMode(logical.TimeAdaptive)}, Column{Type: gomysql.MYSQL_TYPE_TIME2}, "838:59:59", int32(math.MaxInt32)},
		{"time adaptive clamped negative", []Option{WithTimeMode(logical.TimeAdaptive)}, Column{Type: gomysql.MYSQL_TYPE_TIME2}, "-838:59:59", int32(math.MinInt32)},
		{"time microseconds max", nil, Column{Type: gomysql.MYSQL_TYPE_TIME2, Meta: 6}, "-838:59:59.000000", int64(-3020399000000)},
		// Kafka Connect's Time holds 00:00 to 24:00 only: Debezium's
		// JdbcValueConverters.convertTimeToMillisPastMidnightAsDate gives null.
		{"time connect out of range nullable", []Option{WithTimeMode(logical.TimeConnect)}, Column{Type: gomysql.MYSQL_TYPE_TIME2, Nullable: true}, "25:00:00", nil},
		{"time connect 24:00", []Option{WithTimeMode(logical.TimeConnect)}, Column{Type: gomysql.MYSQL_TYPE_TIME2}, "24:00:00", int32(86400000)},
		{"uuid", nil, Column{Type: gomysql.MYSQL_TYPE_STRING, Meta: uint16(gomysql.MYSQL_TYPE_STRING)<<8 | 16, Collation: 63, DataType: "uuid"},
			"\x12\x3e\x45\x67\xe8\x9b\x12\xd3\xa4\x56\x42\x66\x14\x17\x40\x00", "123e4567-e89b-12d3-a456-426614174000"},
		{"inet6", nil, Column{Type: gomysql.MYSQL_TYPE_STRING, Meta: uint16(gomysql.MYSQL_TYPE_STRING)<<8 | 16, Collation: 63, DataType: "inet6"},
			[]byte{0x20, 0x01, 0x0d, 0xb8, 15: 1}, "2001:db8::1"},
		{"inet4", nil, Column{Type: gomysql.MYSQL_TYPE_STRING, Meta: uint16(gomysql.MYSQL_TYPE_STRING)<<8 | 4, Collation: 63, DataType: "INET4"},
			"\x0a\x00\x00\x01", "10.0.0.1"},
		{"inet4 without its trailing zero bytes", nil, Column{Type: gomysql.MYSQL_TYPE_STRING, Meta: uint16(gomysql.MYSQL_TYPE_STRING)<<8 | 4, Collation: 63, DataType: "inet4"},
			"\x0a", "10.0.0.0"},
		{"unknown catalog type", nil, Column{Type: gomysql.MYSQL_TYPE_VARCHAR, Meta: 65535, Collation: utf8, DataType: "hyperloglog"}, "abc", "abc"},
		{"unknown binlog type", nil, Column{Type: 0x0e + 200}, []byte{0xff, 1}, "\\xff01"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ct, err := NewMapper(c.opts...).Column(c.col)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ct.Value(c.in)
			if err != nil {
				t.Fatalf("Value(%#v): %v", c.in, err)
			}
			if !equalMy(got, c.want) {
				t.Fatalf("Value(%#v) = %#v, want %#v", c.in, got, c.want)
			}
		})
	}
}

func TestColumnSchemasFromHints(t *testing.T) {
	ct, err := NewMapper().Column(Column{Type: gomysql.MYSQL_TYPE_BLOB, Meta: 4, Collation: 45, DataType: "json", Nullable: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := (&event.Schema{Type: event.String, Optional: true, Name: event.JSONName, Version: 1}); !reflect.DeepEqual(ct.Schema, want) {
		t.Fatalf("schema = %+v, want %+v", ct.Schema, want)
	}
	ct, err = NewMapper(WithTimeMode(logical.TimeConnect)).Column(Column{Type: gomysql.MYSQL_TYPE_TIME2, Meta: 6})
	if err != nil {
		t.Fatal(err)
	}
	if want := (&event.Schema{Type: event.Int32, Name: event.ConnectTimeName, Version: 1}); !reflect.DeepEqual(ct.Schema, want) {
		t.Fatalf("schema = %+v, want %+v", ct.Schema, want)
	}
}

func TestColumnErrors(t *testing.T) {
	cases := []struct {
		name string
		opts []Option
		col  Column
		in   any
		want string
	}{
		{"time connect out of range NOT NULL", []Option{WithTimeMode(logical.TimeConnect)}, Column{Type: gomysql.MYSQL_TYPE_TIME2}, "-00:00:01",
			"TIME -00:00:01 is outside 00:00:00 to 24:00:00, which Kafka Connect's Time (time.precision.mode=connect) holds"},
		{"uuid of the wrong size", nil, Column{Type: gomysql.MYSQL_TYPE_STRING, Meta: uint16(gomysql.MYSQL_TYPE_STRING)<<8 | 16, Collation: 63, DataType: "uuid"},
			"not-a-uuid-at-all", "uuid value of 17 bytes, want 16"},
		{"enum out of range", nil, Column{Type: gomysql.MYSQL_TYPE_STRING, Meta: uint16(gomysql.MYSQL_TYPE_ENUM)<<8 | 1, EnumValues: []string{"a"}}, int64(2),
			"enum index 2 out of range of 1 values"},
		{"wrong Go type", nil, Column{Type: gomysql.MYSQL_TYPE_LONG}, "12", `unexpected string 12 for an integer column`},
		{"bad datetime", nil, Column{Type: gomysql.MYSQL_TYPE_DATETIME2}, "2024/01/01", `datetime: parse "2024/01/01": want YYYY-MM-DD HH:MM:SS[.ffffff]`},
		// Debezium's long mode wraps these to negative numbers; they do not
		// convert, whether the binlog's int64 or a snapshot's uint64.
		{"bigint unsigned long above int64", nil, Column{Type: gomysql.MYSQL_TYPE_LONGLONG, Unsigned: true}, int64(-1),
			"18446744073709551615 does not fit in int64 (bigint.unsigned.handling.mode=long, as Debezium's default): " +
				"set bigint.unsigned.handling.mode=precise to emit Decimal(20,0), which holds every BIGINT UNSIGNED value"},
		{"bigint unsigned long 2^63", []Option{WithBigIntUnsignedMode(BigIntUnsignedLong)}, Column{Type: gomysql.MYSQL_TYPE_LONGLONG, Unsigned: true}, uint64(1 << 63),
			"9223372036854775808 does not fit in int64 (bigint.unsigned.handling.mode=long, as Debezium's default): " +
				"set bigint.unsigned.handling.mode=precise to emit Decimal(20,0), which holds every BIGINT UNSIGNED value"},
	}
	for _, c := range cases {
		ct, err := NewMapper(c.opts...).Column(c.col)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ct.Value(c.in); err == nil || err.Error() != c.want {
			t.Errorf("%s: error = %v, want %q", c.name, err, c.want)
		}
	}
}

// TestUnknownTypesAreText maps column types this mapping has no case for
// to strings named by their type, rather than failing.
func TestUnknownTypesAreText(t *testing.T) {
	for _, c := range []struct {
		col  Column
		want string
	}{
		{Column{Name: "g", Type: 0x0e + 200}, "binlog type 214"},
		{Column{Name: "h", Type: gomysql.MYSQL_TYPE_VARCHAR, DataType: "HyperLogLog"}, "hyperloglog"},
	} {
		ct, err := NewMapper().Column(c.col)
		if err != nil {
			t.Fatal(err)
		}
		if ct.SourceType != c.want || !reflect.DeepEqual(ct.Schema, &event.Schema{Type: event.String}) {
			t.Errorf("%s: source type %q schema %+v, want %q and a string", c.col.Name, ct.SourceType, ct.Schema, c.want)
		}
	}
}

// TestExtensionTypesSnapshotAsTheBinlogLogsThem turns the text of MariaDB's
// UUID and INET values, as a snapshot reads them, into the binlog's bytes.
func TestExtensionTypesSnapshotAsTheBinlogLogsThem(t *testing.T) {
	for _, c := range []struct {
		dataType, text string
		want           []byte
		ok             bool
	}{
		{"uuid", "123e4567-e89b-12d3-a456-426614174000", []byte{0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3, 0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0x00}, true},
		{"inet6", "::ffff:10.0.0.1", []byte{10: 0xff, 11: 0xff, 12: 10, 15: 1}, true},
		{"inet4", "10.0.0.1", []byte{10, 0, 0, 1}, true},
		{"inet4", "::1", nil, false},
		{"uuid", "xyz", nil, false},
	} {
		got, ok := extensionBytes(c.dataType, c.text)
		if ok != c.ok || (ok && !reflect.DeepEqual(got, c.want)) {
			t.Errorf("extensionBytes(%s, %q) = %v, %v; want %v, %v", c.dataType, c.text, got, ok, c.want, c.ok)
		}
	}
}

func TestColumnsFromTableMapNeedsFullMetadata(t *testing.T) {
	tme := &replication.TableMapEvent{Schema: []byte("db"), Table: []byte("t"), ColumnCount: 1, ColumnType: []byte{gomysql.MYSQL_TYPE_LONG}, ColumnMeta: []uint16{0}}
	_, err := ColumnsFromTableMap(tme)
	if want := "table map of db.t has no column names: the server must run with binlog_row_metadata=FULL"; err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %q", err, want)
	}
}

func TestParseBigIntUnsignedMode(t *testing.T) {
	for in, want := range map[string]BigIntUnsignedMode{"": BigIntUnsignedLong, "LONG": BigIntUnsignedLong, " precise": BigIntUnsignedPrecise} {
		if m, err := ParseBigIntUnsignedMode(in); err != nil || m != want {
			t.Fatalf("ParseBigIntUnsignedMode(%q) = %v, %v; want %v", in, m, err, want)
		}
	}
	if m := BigIntUnsignedMode(0); m != BigIntUnsignedLong || m.String() != "long" || BigIntUnsignedPrecise.String() != "precise" {
		t.Fatalf("the zero value is %v, precise is %v", m, BigIntUnsignedPrecise)
	}
	_, err := ParseBigIntUnsignedMode("huge")
	if want := `invalid value "huge" for bigint.unsigned.handling.mode: allowed values are precise, long`; err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %q", err, want)
	}
}
