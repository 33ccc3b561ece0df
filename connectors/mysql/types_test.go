package mysql

import (
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
		{"bigint unsigned long wraps", []Option{WithBigIntUnsignedMode(BigIntUnsignedLong)},
			Column{Type: gomysql.MYSQL_TYPE_LONGLONG, Unsigned: true}, int64(-1), int64(-1)},
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
		{"time beyond int32 ms", []Option{WithTimeMode(logical.TimeAdaptive)}, Column{Type: gomysql.MYSQL_TYPE_TIME2}, "838:59:59",
			"time 3020399000000µs does not fit in io.debezium.time.Time (int32 milliseconds)"},
		{"enum out of range", nil, Column{Type: gomysql.MYSQL_TYPE_STRING, Meta: uint16(gomysql.MYSQL_TYPE_ENUM)<<8 | 1, EnumValues: []string{"a"}}, int64(2),
			"enum index 2 out of range of 1 values"},
		{"wrong Go type", nil, Column{Type: gomysql.MYSQL_TYPE_LONG}, "12", `unexpected string 12 for an integer column`},
		{"bad datetime", nil, Column{Type: gomysql.MYSQL_TYPE_DATETIME2}, "2024/01/01", `datetime: parse "2024/01/01": want YYYY-MM-DD HH:MM:SS[.ffffff]`},
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
	if _, err := NewMapper().Column(Column{Name: "g", Type: 0x0e + 200}); err == nil || err.Error() != "map column g: unsupported binlog column type 214" {
		t.Errorf("unknown type error = %v", err)
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
	if m, err := ParseBigIntUnsignedMode("LONG"); err != nil || m != BigIntUnsignedLong {
		t.Fatalf("got %v, %v", m, err)
	}
	_, err := ParseBigIntUnsignedMode("huge")
	if want := `invalid value "huge" for bigint.unsigned.handling.mode: allowed values are precise, long`; err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %q", err, want)
	}
}
