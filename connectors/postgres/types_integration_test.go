package postgres

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/testenv"
)

// typesTable creates one column of every supported type (plus arrays, a
// domain, an enum and an unknown type) and fills three rows with edge values.
const typesSchemaSQL = `
CREATE TYPE %[1]s.mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN %[1]s.price AS numeric(10,2) CHECK (VALUE >= 0);
CREATE DOMAIN %[1]s.code AS varchar(5) NOT NULL;
CREATE TABLE %[1]s.all_types (
  id int4 PRIMARY KEY,
  c_bool bool, c_int2 int2, c_int4 int4, c_int8 int8 NOT NULL,
  c_float4 float4, c_float8 float8,
  c_num numeric(38,10), c_numvar numeric, c_money money,
  c_text text, c_varchar varchar(10), c_char char(3), c_name name,
  c_bytea bytea,
  c_date date, c_time time(3), c_timetz timetz, c_ts timestamp, c_tstz timestamptz, c_interval interval,
  c_uuid uuid, c_json json, c_jsonb jsonb, c_xml xml,
  c_inet inet, c_cidr cidr, c_mac macaddr, c_mac8 macaddr8,
  c_bit bit(1), c_bits bit(10), c_varbit varbit,
  c_enum %[1]s.mood, c_price %[1]s.price, c_code %[1]s.code,
  c_int_arr int4[], c_text_arr text[], c_2d int4[][], c_num_arr numeric(5,2)[], c_enum_arr %[1]s.mood[],
  c_tstz_arr timestamptz[], c_point point
);
INSERT INTO %[1]s.all_types VALUES
 (1, true, 32767, 2147483647, 9223372036854775807,
  'NaN', 'Infinity',
  1234567890123456789012345678.0123456789, 'NaN', '92233720368547758.07',
  '', 'héllo😀', 'ab', 'pg_name',
  '\x00ff80fe',
  '2024-02-29', '23:59:59.999', '10:11:12.123456+05:30', '2024-02-29 10:11:12.123456', '2024-02-29 10:11:12.123456+00',
  '1 year 2 months 3 days 04:05:06.78',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2.5, null], "b": "ü"}', '{"b": 1, "a": [true]}', '<a>x</a>',
  '192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05',
  B'1', B'1000000001', B'101',
  'happy', 12.5, 'AB',
  '{1,NULL,3}', ARRAY['a b', 'c"d', 'NULL', NULL, '', 'x\y', 'é,}'], '{{1,2},{3,4}}', '{1.5,NaN,NULL}', '{sad,happy}',
  ARRAY['2024-02-29 10:11:12+00'::timestamptz, NULL], '(1,2)'),
 (2, false, -32768, -2147483648, -9223372036854775808,
  '-Infinity', 1.7976931348623157e308,
  -0.0000000001, '-Infinity', '-92233720368547758.08',
  repeat('x', 1048576), '', 'abc', 'n',
  '\x',
  'infinity', '00:00:00', '00:00:00-03', '-infinity', '2024-03-01 01:00:00.5+05:30',
  '-1 days +02:03:00',
  '00000000-0000-0000-0000-000000000000', '[]', '"str"', '<b/>',
  '::1', '2001:db8::/32', 'ff:ff:ff:ff:ff:ff', '00:00:00:00:00:00:00:00',
  B'0', B'0000000000', B'',
  'sad', 0, 'Z',
  '{}', '{}', '{{{1}}}', '{}', '{}',
  '{}', '(0,0)'),
 (3, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  '1969-12-31', NULL, NULL, '1970-01-01 00:00:00.000001', '0044-03-15 12:00:00+00 BC', NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'N',
  NULL, NULL, NULL, NULL, NULL, NULL, NULL);`

func d(s string) event.Decimal { return dec(s) }

// wantRows are the event values of the rows above, in column order.
var wantRows = map[int32][]any{
	1: {int32(1), true, int16(32767), int32(2147483647), int64(math.MaxInt64),
		float32(math.NaN()), math.Inf(1),
		d("1234567890123456789012345678.0123456789"), nil, d("92233720368547758.07"),
		"", "héllo😀", "ab ", "pg_name",
		[]byte{0x00, 0xff, 0x80, 0xfe},
		int32(19782), int32(86399999), "04:41:12.123456Z", int64(1709201472123456), "2024-02-29T10:11:12.123456Z",
		int64(14*2629800000000 + 3*86400000000 + 14706780000),
		"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", `{"a": [1, 2.5, null], "b": "ü"}`, `{"a": [true], "b": 1}`, "<a>x</a>",
		"192.168.0.1/24", "10.0.0.0/8", "08:00:2b:01:02:03", "08:00:2b:01:02:03:04:05",
		true, []byte{0x01, 0x02}, []byte{0x05},
		"happy", d("12.50"), "AB",
		[]any{int32(1), nil, int32(3)}, []any{"a b", `c"d`, "NULL", nil, "", `x\y`, "é,}"},
		[]any{int32(1), int32(2), int32(3), int32(4)}, []any{d("1.50"), nil, nil}, []any{"sad", "happy"},
		[]any{"2024-02-29T10:11:12.000000Z", nil}, "(1,2)"},
	2: {int32(2), false, int16(-32768), int32(math.MinInt32), int64(math.MinInt64),
		float32(math.Inf(-1)), 1.7976931348623157e308,
		d("-0.0000000001"), nil, d("-92233720368547758.08"),
		strings.Repeat("x", 1<<20), "", "abc", "n",
		[]byte{},
		int32(-2147472692), int32(0), "03:00:00Z", int64(-9223372036832400000), "2024-02-29T19:30:00.500000Z",
		int64(-86400000000 + 7380000000),
		"00000000-0000-0000-0000-000000000000", "[]", `"str"`, "<b/>",
		"::1", "2001:db8::/32", "ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00:00:00",
		false, []byte{}, []byte{},
		"sad", d("0.00"), "Z",
		[]any{}, []any{}, []any{int32(1)}, []any{}, []any{},
		[]any{}, "(0,0)"},
	3: {int32(3), nil, nil, nil, int64(0), nil, nil, nil, nil, nil, nil, nil, nil, nil, nil,
		int32(-1), nil, nil, int64(1), "-0043-03-15T12:00:00.000000Z", nil,
		nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, "N",
		nil, nil, nil, nil, nil, nil, nil},
}

// wantSchemas are the schemas of some columns, keyed by name.
var wantSchemas = map[string]*event.Schema{
	"id":       {Type: event.Int32},
	"c_int8":   {Type: event.Int64},
	"c_int2":   {Type: event.Int16, Optional: true},
	"c_float4": {Type: event.Float32, Optional: true},
	"c_num": {Type: event.Bytes, Optional: true, Name: event.DecimalName, Version: 1,
		Params: map[string]string{"scale": "10", "connect.decimal.precision": "38"}},
	"c_numvar": {Type: event.Struct, Optional: true, Name: event.VariableDecimalName, Version: 1, Doc: "Variable scaled decimal",
		Fields: []event.Field{{Name: "scale", Schema: &event.Schema{Type: event.Int32}}, {Name: "value", Schema: &event.Schema{Type: event.Bytes}}}},
	"c_money":    {Type: event.Bytes, Optional: true, Name: event.DecimalName, Version: 1, Params: map[string]string{"scale": "2"}},
	"c_bytea":    {Type: event.Bytes, Optional: true},
	"c_date":     {Type: event.Int32, Optional: true, Name: event.DateName, Version: 1},
	"c_time":     {Type: event.Int32, Optional: true, Name: event.TimeName, Version: 1},
	"c_timetz":   {Type: event.String, Optional: true, Name: event.ZonedTimeName, Version: 1},
	"c_ts":       {Type: event.Int64, Optional: true, Name: event.MicroTimestampName, Version: 1},
	"c_tstz":     {Type: event.String, Optional: true, Name: event.ZonedTimestampName, Version: 1},
	"c_interval": {Type: event.Int64, Optional: true, Name: event.MicroDurationName, Version: 1},
	"c_uuid":     {Type: event.String, Optional: true, Name: event.UUIDName, Version: 1},
	"c_jsonb":    {Type: event.String, Optional: true, Name: event.JSONName, Version: 1},
	"c_xml":      {Type: event.String, Optional: true, Name: event.XMLName, Version: 1},
	"c_inet":     {Type: event.String, Optional: true},
	"c_bit":      {Type: event.Boolean, Optional: true},
	"c_bits":     {Type: event.Bytes, Optional: true, Name: event.BitsName, Version: 1, Params: map[string]string{"length": "10"}},
	"c_enum":     {Type: event.String, Optional: true, Name: event.EnumName, Version: 1, Params: map[string]string{"allowed": "sad,ok,happy"}},
	"c_price": {Type: event.Bytes, Optional: true, Name: event.DecimalName, Version: 1,
		Params: map[string]string{"scale": "2", "connect.decimal.precision": "10"}},
	"c_code":    {Type: event.String}, // a NOT NULL domain is required, as JDBC reports it
	"c_int_arr": {Type: event.Array, Optional: true, Elem: &event.Schema{Type: event.Int32, Optional: true}},
	"c_num_arr": {Type: event.Array, Optional: true, Elem: &event.Schema{Type: event.Bytes, Optional: true, Name: event.DecimalName, Version: 1,
		Params: map[string]string{"scale": "2", "connect.decimal.precision": "5"}}},
	"c_enum_arr": {Type: event.Array, Optional: true, Elem: &event.Schema{Type: event.String, Name: event.EnumName, Version: 1,
		Params: map[string]string{"allowed": "sad,ok,happy"}}},
	"c_tstz_arr": {Type: event.Array, Optional: true, Elem: &event.Schema{Type: event.String, Optional: true, Name: event.ZonedTimestampName, Version: 1}},
	"c_point":    {Type: event.String, Optional: true},
}

// TestTypesAgainstPostgres maps a table holding every supported type, read
// both through a real pgoutput slot and with a text-format SELECT (what the
// snapshot reads), and checks every schema and value.
func TestTypesAgainstPostgres(t *testing.T) {
	url := testenv.PostgresURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	schema := testenv.Name(t, "types")
	slot, pub := schema+"_slot", schema+"_pub"
	mustExec(t, conn, "CREATE SCHEMA "+schema)
	t.Cleanup(func() {
		_, _ = conn.Exec(context.Background(), "DROP PUBLICATION IF EXISTS "+pub)
		_, _ = conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
	table := schema + ".all_types"
	mustExec(t, conn, fmt.Sprintf(strings.SplitN(typesSchemaSQL, "INSERT", 2)[0], schema))
	mustExec(t, conn, fmt.Sprintf("CREATE PUBLICATION %s FOR TABLE %s", pub, table))

	// The walsender formats values with its own session settings; a
	// non-UTC TimeZone checks that offsets are normalised.
	repl, err := pgconn.Connect(ctx, withParams(url, "replication=database&TimeZone=Asia/Kolkata&DateStyle=ISO&IntervalStyle=postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer repl.Close(context.Background())
	created, err := pglogrepl.CreateReplicationSlot(ctx, repl, slot, "pgoutput", pglogrepl.CreateReplicationSlotOptions{Temporary: true})
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, conn, fmt.Sprintf("INSERT"+strings.SplitN(typesSchemaSQL, "INSERT", 2)[1], schema))

	names, notNull := columnsOf(t, conn, table)
	types := NewTypeResolver(conn)
	mapper := NewMapper(types)

	t.Run("pgoutput", func(t *testing.T) {
		start, _ := pglogrepl.ParseLSN(created.ConsistentPoint)
		err := pglogrepl.StartReplication(ctx, repl, slot, start, pglogrepl.StartReplicationOptions{
			PluginArgs: []string{"proto_version '1'", "publication_names '" + pub + "'"}})
		if err != nil {
			t.Fatal(err)
		}
		var cols []*ColumnType
		seen := 0
		for seen < len(wantRows) {
			msg, err := repl.ReceiveMessage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			cd, ok := msg.(*pgproto3.CopyData)
			if !ok || cd.Data[0] != pglogrepl.XLogDataByteID {
				continue
			}
			xld, err := pglogrepl.ParseXLogData(cd.Data[1:])
			if err != nil {
				t.Fatal(err)
			}
			lm, err := pglogrepl.Parse(xld.WALData)
			if err != nil {
				t.Fatal(err)
			}
			switch m := lm.(type) {
			case *pglogrepl.RelationMessage:
				cols = nil
				for i, c := range m.Columns {
					ct, err := mapper.Column(ctx, c.Name, c.DataType, c.TypeModifier, !notNull[i])
					if err != nil {
						t.Fatal(err)
					}
					cols = append(cols, ct)
				}
				checkSchemas(t, names, cols)
			case *pglogrepl.InsertMessage:
				row := make([]any, len(cols))
				for i, c := range m.Tuple.Columns {
					if c.DataType == pglogrepl.TupleDataTypeNull {
						continue
					}
					if row[i], err = cols[i].Value(string(c.Data)); err != nil {
						t.Fatalf("column %s: %v", names[i], err)
					}
				}
				checkRow(t, names, row)
				seen++
			}
		}
	})

	t.Run("select text", func(t *testing.T) {
		mustExec(t, conn, "SET TimeZone = 'America/St_Johns'; SET DateStyle = ISO; SET IntervalStyle = postgres")
		var oids []uint32
		var mods []int32
		err := conn.QueryRow(ctx, `SELECT array_agg(atttypid ORDER BY attnum), array_agg(atttypmod ORDER BY attnum)
			FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`, table).Scan(&oids, &mods)
		if err != nil {
			t.Fatal(err)
		}
		cols := make([]*ColumnType, len(names))
		for i := range names {
			if cols[i], err = mapper.Column(ctx, names[i], oids[i], mods[i], !notNull[i]); err != nil {
				t.Fatal(err)
			}
		}
		checkSchemas(t, names, cols)
		// The simple protocol returns every value in text format, produced
		// by the type's output function exactly as pgoutput's are. (A
		// col::text cast is not the same: it trims char(n) padding and
		// adds inet's /128.)
		rows, err := conn.Query(ctx, "SELECT * FROM "+table+" ORDER BY id", pgx.QueryExecModeSimpleProtocol)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			row := make([]any, len(names))
			for i, raw := range rows.RawValues() {
				if raw == nil {
					continue
				}
				if row[i], err = cols[i].Value(string(raw)); err != nil {
					t.Fatalf("column %s: %v", names[i], err)
				}
			}
			checkRow(t, names, row)
			n++
		}
		if rows.Err() != nil || n != len(wantRows) {
			t.Fatalf("read %d rows, err %v", n, rows.Err())
		}
	})
}

func checkSchemas(t *testing.T, names []string, cols []*ColumnType) {
	t.Helper()
	for i, n := range names {
		if want, ok := wantSchemas[n]; ok && !equalSchema(cols[i].Schema, want) {
			t.Errorf("column %s schema = %+v, want %+v", n, cols[i].Schema, want)
		}
	}
}

func checkRow(t *testing.T, names []string, row []any) {
	t.Helper()
	id := row[0].(int32)
	want := wantRows[id]
	if len(want) != len(row) {
		t.Fatalf("row %d: %d values, want %d", id, len(row), len(want))
	}
	for i := range row {
		if !equalValue(row[i], want[i]) && !(isNaN32(row[i]) && isNaN32(want[i])) {
			got := fmt.Sprintf("%#v", row[i])
			t.Errorf("row %d column %s = %s, want %#v", id, names[i], truncate(got), want[i])
		}
	}
}

func isNaN32(v any) bool { f, ok := v.(float32); return ok && f != f }

func equalSchema(a, b *event.Schema) bool {
	return fmt.Sprintf("%+v", deref(a)) == fmt.Sprintf("%+v", deref(b))
}

func deref(s *event.Schema) any {
	if s == nil {
		return nil
	}
	fields := make([]any, len(s.Fields))
	for i, f := range s.Fields {
		fields[i] = []any{f.Name, deref(f.Schema)}
	}
	return []any{s.Type, s.Optional, s.Name, s.Version, s.Params, s.Default, s.Doc, deref(s.Elem), fields}
}

func columnsOf(t *testing.T, conn *pgx.Conn, table string) ([]string, []bool) {
	var names []string
	var notNull []bool
	err := conn.QueryRow(context.Background(), `SELECT array_agg(attname::text ORDER BY attnum), array_agg(attnotnull ORDER BY attnum)
		FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`, table).Scan(&names, &notNull)
	if err != nil {
		t.Fatal(err)
	}
	return names, notNull
}

func mustExec(t *testing.T, conn *pgx.Conn, sql string) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", truncate(sql), err)
	}
}

func withParams(url, params string) string {
	if strings.Contains(url, "?") {
		return url + "&" + params
	}
	return url + "?" + params
}
