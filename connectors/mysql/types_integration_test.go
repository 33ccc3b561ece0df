package mysql

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/testenv"
)

const typesTableSQL = `CREATE TABLE %s (
  id int PRIMARY KEY,
  c_tiny tinyint, c_utiny tinyint unsigned, c_bool boolean, c_small smallint, c_usmall smallint unsigned,
  c_medium mediumint, c_umedium mediumint unsigned, c_int int, c_uint int unsigned NOT NULL,
  c_big bigint, c_ubig bigint unsigned,
  c_dec decimal(65,30), c_dec2 decimal(10,2), c_float float, c_double double,
  c_bit1 bit(1), c_bit64 bit(64), c_bit10 bit(10),
  c_char char(5), c_varchar varchar(100) CHARACTER SET utf8mb4, c_latin varchar(10) CHARACTER SET latin1, c_text text,
  c_binary binary(4), c_varbinary varbinary(10), c_blob blob, c_longblob longblob,
  c_date date, c_date_nn date NOT NULL, c_dt datetime(6), c_dt0 datetime, c_ts timestamp(6) NULL, c_ts0 timestamp NULL,
  c_time time(6), c_time0 time, c_year year,
  c_json json, c_enum enum('a','b','c'), c_set set('x','y','z')
) CHARACTER SET utf8mb4`

const typesInsertSQL = `INSERT INTO %s VALUES
 (1, 127, 255, true, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615,
  99999999999999999999999999999999999.999999999999999999999999999999, 12345678.90, 1.5, 1.7976931348623157e308,
  b'1', b'1111111111111111111111111111111111111111111111111111111111111111', b'1000000001',
  'ab', 'héllo 😀', 'café', 'text', x'0102', x'ff00fe80', x'00', REPEAT('z', 1048576),
  '2024-02-29', '2024-02-29', '2024-02-29 10:11:12.123456', '1000-01-01 00:00:00', '2024-02-29 15:41:12.123456', '2038-01-19 08:44:07',
  '-838:59:59.000000', '838:59:59', 2155,
  '{"a": [1, 2.5, null]}', 'c', 'x,z'),
 (2, -128, 0, false, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,
  -0.000000000000000000000000000001, -0.5, -0.25, -2.5,
  b'0', b'0', b'0000000000',
  '', '', '', '', x'', x'', x'', x'',
  '0000-00-00', '0000-00-00', '0000-00-00 00:00:00', '9999-12-31 23:59:59', '0000-00-00 00:00:00', '1970-01-01 05:30:01',
  '00:00:00.000001', '-00:00:01', 1901,
  '[]', 'invalid', ''),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 7, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, '1970-01-01', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`

func udec(s string) event.Decimal {
	d, err := event.ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

func msOf(y, mo, d, h, mi, s int) int64 {
	return time.Date(y, time.Month(mo), d, h, mi, s, 0, time.UTC).UnixMilli()
}

var wantMySQLRows = map[int32][]any{
	1: {int32(1), int16(127), int16(255), int16(1), int16(32767), int32(65535), int32(8388607), int32(16777215),
		int32(math.MaxInt32), int64(4294967295), int64(math.MaxInt64), event.Decimal{Unscaled: new(big.Int).SetUint64(math.MaxUint64)},
		udec("99999999999999999999999999999999999.999999999999999999999999999999"), udec("12345678.90"), float32(1.5), 1.7976931348623157e308,
		true, bytes.Repeat([]byte{0xff}, 8), []byte{0x01, 0x02},
		"ab", "héllo 😀", "café", "text", []byte{1, 2, 0, 0}, []byte{0xff, 0x00, 0xfe, 0x80}, []byte{0}, bytes.Repeat([]byte("z"), 1<<20),
		int32(19782), int32(19782), int64(1709201472123456), msOf(1000, 1, 1, 0, 0, 0), "2024-02-29T10:11:12.123456Z", "2038-01-19T03:14:07Z",
		int64(-3020399000000), int64(3020399000000), int32(2155),
		`{"a": [1, 2.5, null]}`, "c", "x,z"},
	2: {int32(2), int16(-128), int16(0), int16(0), int16(-32768), int32(0), int32(-8388608), int32(0),
		int32(math.MinInt32), int64(0), int64(math.MinInt64), udec("0"),
		udec("-0.000000000000000000000000000001"), udec("-0.50"), float32(-0.25), -2.5,
		false, make([]byte, 8), []byte{0, 0},
		"", "", "", "", []byte{0, 0, 0, 0}, []byte{}, []byte{}, []byte{},
		nil, int32(0), nil, msOf(9999, 12, 31, 23, 59, 59), nil, "1970-01-01T00:00:01Z",
		int64(1), int64(-1000000), int32(1901),
		"[]", "", ""},
	3: {int32(3), nil, nil, nil, nil, nil, nil, nil, nil, int64(7), nil, nil,
		nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil,
		nil, int32(0), nil, nil, nil, nil, nil, nil, nil, nil, nil, nil},
}

var wantMySQLSchemas = map[string]*event.Schema{
	"id":       {Type: event.Int32},
	"c_tiny":   {Type: event.Int16, Optional: true},
	"c_bool":   {Type: event.Int16, Optional: true},
	"c_usmall": {Type: event.Int32, Optional: true},
	"c_uint":   {Type: event.Int64},
	"c_ubig": {Type: event.Bytes, Optional: true, Name: event.DecimalName, Version: 1,
		Params: map[string]string{"scale": "0", "connect.decimal.precision": "20"}},
	"c_dec": {Type: event.Bytes, Optional: true, Name: event.DecimalName, Version: 1,
		Params: map[string]string{"scale": "30", "connect.decimal.precision": "65"}},
	"c_float":   {Type: event.Float32, Optional: true},
	"c_bit1":    {Type: event.Boolean, Optional: true},
	"c_bit64":   {Type: event.Bytes, Optional: true, Name: event.BitsName, Version: 1, Params: map[string]string{"length": "64"}},
	"c_varchar": {Type: event.String, Optional: true},
	"c_blob":    {Type: event.Bytes, Optional: true},
	"c_date_nn": {Type: event.Int32, Name: event.DateName, Version: 1},
	"c_dt":      {Type: event.Int64, Optional: true, Name: event.MicroTimestampName, Version: 1},
	"c_dt0":     {Type: event.Int64, Optional: true, Name: event.TimestampName, Version: 1},
	"c_ts":      {Type: event.String, Optional: true, Name: event.ZonedTimestampName, Version: 1},
	"c_time0":   {Type: event.Int64, Optional: true, Name: event.MicroTimeName, Version: 1},
	"c_year":    {Type: event.Int32, Optional: true, Name: event.YearName, Version: 1},
	"c_json":    {Type: event.String, Optional: true},
	"c_enum":    {Type: event.String, Optional: true, Name: event.EnumName, Version: 1, Params: map[string]string{"allowed": "a,b,c"}},
	"c_set":     {Type: event.String, Optional: true, Name: event.EnumSetName, Version: 1, Params: map[string]string{"allowed": "x,y,z"}},
}

// TestTypesAgainstMariaDB writes rows of every type with edge values and
// maps the row events a BinlogSyncer reads back, checking every schema and
// value.
func TestTypesAgainstMariaDB(t *testing.T) {
	user, pass, addr, db := parseDSN(t, testenv.MySQLDSN(t))
	conn, err := client.Connect(addr, user, pass, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	table := testenv.Name(t, "types")
	mustExecMy(t, conn, fmt.Sprintf(typesTableSQL, table))
	t.Cleanup(func() { _, _ = conn.Execute("DROP TABLE IF EXISTS " + table) })
	res, err := conn.Execute("SHOW MASTER STATUS")
	if err != nil {
		t.Fatal(err)
	}
	file, _ := res.GetString(0, 0)
	pos, _ := res.GetUint(0, 1)
	// Zero dates and an invalid enum need a permissive sql_mode; the
	// +05:30 zone checks that TIMESTAMP values come out in UTC.
	mustExecMy(t, conn, "SET SESSION sql_mode = '', time_zone = '+05:30'")
	mustExecMy(t, conn, fmt.Sprintf(typesInsertSQL, table))

	host, port, _ := strings.Cut(addr, ":")
	p, _ := strconv.Atoi(port)
	syncer := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{
		ServerID: 1000 + rand.Uint32N(1<<20), Flavor: gomysql.MariaDBFlavor, Host: host, Port: uint16(p),
		User: user, Password: pass, ParseTime: true, UseDecimal: false,
	})
	defer syncer.Close()
	streamer, err := syncer.StartSync(gomysql.Position{Name: file, Pos: uint32(pos)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// c_ubig holds 18446744073709551615, which only Decimal holds.
	mapper := NewMapper(WithBigIntUnsignedMode(BigIntUnsignedPrecise))
	seen := 0
	for seen < len(wantMySQLRows) {
		ev, err := streamer.GetEvent(ctx)
		if err != nil {
			t.Fatal(err)
		}
		re, ok := ev.Event.(*replication.RowsEvent)
		if !ok || string(re.Table.Table) != table {
			continue
		}
		cols, err := ColumnsFromTableMap(re.Table)
		if err != nil {
			t.Fatal(err)
		}
		types := make([]*ColumnType, len(cols))
		for i, c := range cols {
			if types[i], err = mapper.Column(c); err != nil {
				t.Fatal(err)
			}
			if want, ok := wantMySQLSchemas[c.Name]; ok && !reflect.DeepEqual(types[i].Schema, want) {
				t.Errorf("column %s schema = %+v, want %+v", c.Name, types[i].Schema, want)
			}
		}
		for _, raw := range re.Rows {
			row := make([]any, len(raw))
			for i, v := range raw {
				if row[i], err = types[i].Value(v); err != nil {
					t.Fatalf("column %s value %#v: %v", cols[i].Name, v, err)
				}
			}
			id := row[0].(int32)
			want := wantMySQLRows[id]
			for i := range row {
				if !equalMy(row[i], want[i]) {
					got := fmt.Sprintf("%#v", row[i])
					if len(got) > 100 {
						got = got[:100] + "…"
					}
					t.Errorf("row %d column %s = %s, want %#v", id, cols[i].Name, got, want[i])
				}
			}
			seen++
		}
	}
}

func equalMy(a, b any) bool {
	if x, ok := a.(event.Decimal); ok {
		y, ok := b.(event.Decimal)
		return ok && x.Equal(y)
	}
	return reflect.DeepEqual(a, b)
}

// parseDSN splits user:password@tcp(host:port)/db.
func parseDSN(t *testing.T, dsn string) (user, pass, addr, db string) {
	cred, rest, ok1 := strings.Cut(dsn, "@tcp(")
	addr, db, ok2 := strings.Cut(rest, ")/")
	user, pass, _ = strings.Cut(cred, ":")
	db, _, _ = strings.Cut(db, "?")
	if !ok1 || !ok2 {
		t.Fatalf("cannot parse MySQL DSN %q", dsn)
	}
	return user, pass, addr, db
}

func mustExecMy(t *testing.T, conn *client.Conn, sql string) {
	t.Helper()
	if _, err := conn.Execute(sql); err != nil {
		if len(sql) > 80 {
			sql = sql[:80]
		}
		t.Fatalf("%s: %v", sql, err)
	}
}
