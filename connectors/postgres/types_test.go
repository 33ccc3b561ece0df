package postgres

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/logical"
)

// staticTypes is a TypeLookup over a fixed set of catalog entries.
type staticTypes map[uint32]*TypeInfo

func (s staticTypes) Type(_ context.Context, oid uint32) (*TypeInfo, error) {
	if t, ok := s[oid]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("no type %d", oid)
}

func builtinTypes() staticTypes {
	s := staticTypes{}
	add := func(oid uint32, name string, kind, cat byte) *TypeInfo {
		t := &TypeInfo{OID: oid, Name: name, Namespace: "pg_catalog", Kind: kind, Category: cat, Delim: ','}
		s[oid] = t
		return t
	}
	for oid, name := range map[uint32]string{16: "bool", 21: "int2", 23: "int4", 20: "int8", 700: "float4", 701: "float8",
		1700: "numeric", 790: "money", 25: "text", 17: "bytea", 1082: "date", 1083: "time", 1266: "timetz",
		1114: "timestamp", 1184: "timestamptz", 1186: "interval", 2950: "uuid", 114: "json", 1560: "bit", 1562: "varbit", 600: "point"} {
		add(oid, name, 'b', 'X')
	}
	add(1007, "_int4", 'b', 'A').Elem = 23
	add(1009, "_text", 'b', 'A').Elem = 25
	add(1231, "_numeric", 'b', 'A').Elem = 1700
	s[90000] = &TypeInfo{OID: 90000, Name: "mood", Namespace: "public", Kind: 'e', Delim: ',', EnumLabels: []string{"sad", "ok", "happy"}}
	s[90001] = &TypeInfo{OID: 90001, Name: "_mood", Namespace: "public", Kind: 'b', Category: 'A', Elem: 90000, Delim: ','}
	s[90002] = &TypeInfo{OID: 90002, Name: "price", Namespace: "public", Kind: 'd', BaseType: 1700, BaseTypmod: numTypmod(10, 2)}
	s[90003] = &TypeInfo{OID: 90003, Name: "_price", Namespace: "public", Kind: 'b', Category: 'A', Elem: 90002, Delim: ','}
	return s
}

func numTypmod(p, s int) int32 { return int32(p<<16|s) + 4 }

func dec(s string) event.Decimal {
	d, err := event.ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestColumnValues(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name   string
		opts   []Option
		oid    uint32
		typmod int32
		text   string
		want   any
	}{
		{"bool", nil, 16, -1, "t", true},
		{"int2 min", nil, 21, -1, "-32768", int16(-32768)},
		{"int4 max", nil, 23, -1, "2147483647", int32(math.MaxInt32)},
		{"int8 min", nil, 20, -1, "-9223372036854775808", int64(math.MinInt64)},
		{"float4", nil, 700, -1, "1.5", float32(1.5)},
		{"float4 -inf", nil, 700, -1, "-Infinity", float32(math.Inf(-1))},
		{"float8 inf", nil, 701, -1, "Infinity", math.Inf(1)},
		{"numeric(10,2)", nil, 1700, numTypmod(10, 2), "-123.45", dec("-123.45")},
		{"numeric(10,2) rescaled", nil, 1700, numTypmod(10, 2), "7", dec("7.00")},
		{"numeric variable strips zeros", nil, 1700, -1, "1.2300", dec("1.23")},
		{"numeric variable integer", nil, 1700, -1, "1200", dec("1200")},
		{"numeric NaN precise", nil, 1700, -1, "NaN", nil},
		{"numeric Infinity double", []Option{WithDecimalMode(logical.DecimalDouble)}, 1700, -1, "Infinity", math.Inf(1)},
		{"numeric -Infinity string", []Option{WithDecimalMode(logical.DecimalString)}, 1700, -1, "-Infinity", "-Infinity"},
		{"numeric string keeps text", []Option{WithDecimalMode(logical.DecimalString)}, 1700, numTypmod(5, 3), "1.500", "1.500"},
		{"numeric double", []Option{WithDecimalMode(logical.DecimalDouble)}, 1700, numTypmod(5, 3), "1.500", 1.5},
		{"money", nil, 790, -1, "$1,234.56", dec("1234.56")},
		{"money negative", nil, 790, -1, "-$1.00", dec("-1.00")},
		{"money parentheses", nil, 790, -1, "($0.07)", dec("-0.07")},
		{"money string", []Option{WithDecimalMode(logical.DecimalString)}, 790, -1, "-$92,233,720,368,547,758.08", "-92233720368547758.08"},
		{"bytea hex", nil, 17, -1, `\xff00`, []byte{0xff, 0}},
		{"bytea escape", nil, 17, -1, `a\\\001`, []byte{'a', '\\', 1}},
		{"bytea base64", []Option{WithBinaryMode(logical.BinaryBase64)}, 17, -1, `\xfbff`, "+/8="},
		{"bytea base64-url-safe", []Option{WithBinaryMode(logical.BinaryBase64URLSafe)}, 17, -1, `\xfbff`, "-_8="},
		{"bytea hex mode", []Option{WithBinaryMode(logical.BinaryHex)}, 17, -1, `\xABcd`, "abcd"},
		{"bit(1)", nil, 1560, 1, "1", true},
		{"bit(10)", nil, 1560, 10, "1000000001", []byte{0x01, 0x02}},
		{"varbit zeros", nil, 1562, -1, "000", []byte{}},
		{"date leap", nil, 1082, -1, "2024-02-29", int32(19782)},
		{"date BC", nil, 1082, -1, "0001-01-01 BC", int32(-719528)},
		{"date infinity", nil, 1082, -1, "infinity", int32(-2147472692)},
		{"date -infinity", nil, 1082, -1, "-infinity", int32(-2147472691)},
		{"time(6)", nil, 1083, -1, "10:11:12.123456", int64(36672123456)},
		{"time(3) adaptive", nil, 1083, 3, "10:11:12.123", int32(36672123)},
		{"time 24:00", nil, 1083, -1, "24:00:00", int64(86400000000)},
		{"time connect", []Option{WithTimeMode(logical.TimeConnect)}, 1083, -1, "00:00:01.999999", int32(1999)},
		{"time(0) adaptive_time_microseconds", []Option{WithTimeMode(logical.TimeAdaptiveMicroseconds)}, 1083, 0, "00:00:01", int64(1000000)},
		{"timetz", nil, 1266, -1, "10:11:12.5+05:30", "04:41:12.5Z"},
		{"timetz wraps", nil, 1266, -1, "01:00:00-03", "04:00:00Z"},
		{"timestamp micro", nil, 1114, -1, "2024-02-29 10:11:12.123456", int64(1709201472123456)},
		{"timestamp(3)", nil, 1114, 3, "1969-12-31 23:59:59.999", int64(-1)},
		{"timestamp infinity", nil, 1114, -1, "infinity", int64(9223372036825200000)},
		{"timestamp(0) -infinity", nil, 1114, 0, "-infinity", int64(-9223372036832400)},
		{"timestamptz", nil, 1184, -1, "2024-02-29 10:11:12.123456+00", "2024-02-29T10:11:12.123456Z"},
		{"timestamptz offset", nil, 1184, -1, "2024-03-01 01:00:00+05:30", "2024-02-29T19:30:00.000000Z"},
		{"timestamptz(0)", nil, 1184, 0, "2024-03-01 01:00:00-03:30:15", "2024-03-01T04:30:15Z"},
		{"timestamptz(3)", nil, 1184, 3, "2024-03-01 01:00:00.5+00", "2024-03-01T01:00:00.500Z"},
		{"timestamptz big year", nil, 1184, -1, "10000-01-01 00:00:00+00", "+10000-01-01T00:00:00.000000Z"},
		{"timestamptz BC", nil, 1184, -1, "0044-03-15 12:00:00+00 BC", "-0043-03-15T12:00:00.000000Z"},
		{"timestamptz infinity", nil, 1184, -1, "infinity", "infinity"},
		{"interval numeric", nil, 1186, -1, "1 year 2 mons 3 days 04:05:06.78", int64(14*2629800000000 + 3*86400000000 + 14706780000)},
		{"interval negative", nil, 1186, -1, "-1 days +02:03:00", int64(-86400000000 + 7380000000)},
		{"interval string", []Option{WithIntervalMode(logical.IntervalString)}, 1186, -1, "1 year 2 mons 3 days 04:05:06.78", "P1Y2M3DT4H5M6.78S"},
		{"interval string negative", []Option{WithIntervalMode(logical.IntervalString)}, 1186, -1, "-1 years -2 mons -00:00:00.5", "P-1Y-2M0DT0H0M-0.5S"},
		// Beyond int64 microseconds intervals clamp, as Debezium's
		// MicroDuration.durationMicros casts its float64 sum to long.
		{"interval beyond int64", nil, 1186, -1, "178000000 years", int64(math.MaxInt64)},
		{"interval below int64", nil, 1186, -1, "-178956970 years -8 mons", int64(math.MinInt64)},
		{"interval of the most hours", nil, 1186, -1, "2562047788:00:54.775807", int64(math.MaxInt64)},
		{"interval of every maximum", nil, 1186, -1, "178956970 years 7 mons 2147483647 days 2562047788:00:54.775807", int64(math.MaxInt64)},
		{"interval string beyond int64", []Option{WithIntervalMode(logical.IntervalString)}, 1186, -1, "178000000 years", "P178000000Y0M0DT0H0M0S"},
		// Postgres's dates and timestamps from 4713 BC to 5874897 and
		// 294276 AD; timestamps past int64 microseconds clamp.
		{"date last", nil, 1082, -1, "5874897-12-31", int32(2145042905)},
		{"date first", nil, 1082, -1, "4713-01-01 BC", int32(-2440550)},
		{"timestamp first", nil, 1114, -1, "4713-01-01 00:00:00 BC", int64(-210863520000000000)},
		{"timestamp last of int64", nil, 1114, -1, "294247-01-10 04:00:54.775807", int64(math.MaxInt64)},
		{"timestamp beyond int64", nil, 1114, -1, "294276-12-31 23:59:59.999999", int64(math.MaxInt64)},
		{"timestamp(3) beyond int64 microseconds", nil, 1114, 3, "294276-12-31 23:59:59.999", int64(9224318015999999)},
		{"timestamptz last", nil, 1184, -1, "294276-12-31 23:59:59.999999+00", "+294276-12-31T23:59:59.999999Z"},
		// decimal.handling.mode=double beyond float64, as Java's
		// BigDecimal.doubleValue: infinity, or zero.
		{"numeric double beyond float64", []Option{WithDecimalMode(logical.DecimalDouble)}, 1700, -1, "1" + strings.Repeat("0", 400), math.Inf(1)},
		{"numeric double below float64", []Option{WithDecimalMode(logical.DecimalDouble)}, 1700, -1, "0." + strings.Repeat("0", 400) + "1", 0.0},
		{"numeric of the largest scale", nil, 1700, -1, "0." + strings.Repeat("0", 16382) + "1", event.Decimal{Unscaled: big.NewInt(1), Scale: 16383}},
		{"uuid", nil, 2950, -1, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		{"enum", nil, 90000, -1, "happy", "happy"},
		{"domain over numeric(10,2)", nil, 90002, -1, "3.5", dec("3.50")},
		{"int4[] with nulls", nil, 1007, -1, "{1,NULL,-3}", []any{int32(1), nil, int32(-3)}},
		{"int4[][] flattened", nil, 1007, -1, "{{1,2},{3,4}}", []any{int32(1), int32(2), int32(3), int32(4)}},
		{"int4[] bounds", nil, 1007, -1, "[0:1]={7,8}", []any{int32(7), int32(8)}},
		{"text[] quoting", nil, 1009, -1, `{"a b","c\"d","NULL",NULL,"",x\\y}`, []any{"a b", `c"d`, "NULL", nil, "", `x\y`}},
		{"empty array", nil, 1009, -1, "{}", []any{}},
		{"numeric(4,1)[]", nil, 1231, numTypmod(4, 1), "{1.5,NaN}", []any{dec("1.5"), nil}},
		{"enum[]", nil, 90001, -1, "{sad,happy}", []any{"sad", "happy"}},
		{"domain[]", nil, 90003, -1, "{1}", []any{dec("1.00")}},
		{"unknown type", nil, 600, -1, "(1,2)", "(1,2)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := NewMapper(builtinTypes(), c.opts...)
			ct, err := m.Column(ctx, "t.c", c.oid, c.typmod, false)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ct.Value(c.text)
			if err != nil {
				t.Fatalf("Value(%q): %v", c.text, err)
			}
			if !equalValue(got, c.want) {
				t.Fatalf("Value(%q) = %#v, want %#v", c.text, got, c.want)
			}
		})
	}
}

func equalValue(a, b any) bool {
	switch x := a.(type) {
	case event.Decimal:
		y, ok := b.(event.Decimal)
		return ok && x.Equal(y)
	case float64:
		y, ok := b.(float64)
		return ok && (x == y || (math.IsNaN(x) && math.IsNaN(y)))
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalValue(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

func TestColumnSchemas(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name     string
		opts     []Option
		oid      uint32
		typmod   int32
		optional bool
		want     *event.Schema
		source   string
	}{
		{"int4 nullable", nil, 23, -1, true, &event.Schema{Type: event.Int32, Optional: true}, "int4"},
		{"numeric(10,2) precise is optional", nil, 1700, numTypmod(10, 2), false,
			&event.Schema{Type: event.Bytes, Optional: true, Name: event.DecimalName, Version: 1,
				Params: map[string]string{"scale": "2", "connect.decimal.precision": "10"}}, "numeric(10,2)"},
		{"numeric double", []Option{WithDecimalMode(logical.DecimalDouble)}, 1700, numTypmod(10, 2), false, &event.Schema{Type: event.Float64}, "numeric(10,2)"},
		{"numeric variable", nil, 1700, -1, false, logicalOptional(logical.VariableScaleDecimal()), "numeric"},
		{"money", nil, 790, -1, false, &event.Schema{Type: event.Bytes, Name: event.DecimalName, Version: 1, Params: map[string]string{"scale": "2"}}, "money"},
		{"money 4 digits", []Option{WithMoneyFractionDigits(4)}, 790, -1, false, &event.Schema{Type: event.Bytes, Name: event.DecimalName, Version: 1, Params: map[string]string{"scale": "4"}}, "money"},
		{"bytea hex", []Option{WithBinaryMode(logical.BinaryHex)}, 17, -1, false, &event.Schema{Type: event.String}, "bytea"},
		{"bit(1)", nil, 1560, 1, false, &event.Schema{Type: event.Boolean}, "bit(1)"},
		{"bit(12)", nil, 1560, 12, false, &event.Schema{Type: event.Bytes, Name: event.BitsName, Version: 1, Params: map[string]string{"length": "12"}}, "bit(12)"},
		{"date connect", []Option{WithTimeMode(logical.TimeConnect)}, 1082, -1, false, &event.Schema{Type: event.Int32, Name: event.ConnectDateName, Version: 1}, "date"},
		{"time(2)", nil, 1083, 2, false, &event.Schema{Type: event.Int32, Name: event.TimeName, Version: 1}, "time(2)"},
		{"timestamp", nil, 1114, -1, false, &event.Schema{Type: event.Int64, Name: event.MicroTimestampName, Version: 1}, "timestamp"},
		{"timestamp(3)", nil, 1114, 3, false, &event.Schema{Type: event.Int64, Name: event.TimestampName, Version: 1}, "timestamp(3)"},
		{"timestamptz", nil, 1184, -1, false, &event.Schema{Type: event.String, Name: event.ZonedTimestampName, Version: 1}, "timestamptz"},
		{"interval string", []Option{WithIntervalMode(logical.IntervalString)}, 1186, -1, false, &event.Schema{Type: event.String, Name: event.IntervalName, Version: 1}, "interval"},
		{"interval", nil, 1186, -1, false, &event.Schema{Type: event.Int64, Name: event.MicroDurationName, Version: 1}, "interval"},
		{"json", nil, 114, -1, false, &event.Schema{Type: event.String, Name: event.JSONName, Version: 1}, "json"},
		{"enum", nil, 90000, -1, false, &event.Schema{Type: event.String, Name: event.EnumName, Version: 1, Params: map[string]string{"allowed": "sad,ok,happy"}}, "mood"},
		{"enum[]", nil, 90001, -1, true, &event.Schema{Type: event.Array, Optional: true,
			Elem: &event.Schema{Type: event.String, Name: event.EnumName, Version: 1, Params: map[string]string{"allowed": "sad,ok,happy"}}}, "_mood"},
		{"int4[]", nil, 1007, -1, false, &event.Schema{Type: event.Array, Elem: &event.Schema{Type: event.Int32, Optional: true}}, "_int4"},
		{"domain", nil, 90002, -1, false, &event.Schema{Type: event.Bytes, Optional: true, Name: event.DecimalName, Version: 1,
			Params: map[string]string{"scale": "2", "connect.decimal.precision": "10"}}, "price"},
		{"unknown", nil, 600, -1, false, &event.Schema{Type: event.String}, "point"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ct, err := NewMapper(builtinTypes(), c.opts...).Column(ctx, "t.c", c.oid, c.typmod, c.optional)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ct.Schema, c.want) {
				t.Fatalf("schema = %+v, want %+v", ct.Schema, c.want)
			}
			if ct.SourceType != c.source {
				t.Fatalf("SourceType = %q, want %q", ct.SourceType, c.source)
			}
		})
	}
}

func logicalOptional(s *event.Schema) *event.Schema { s.Optional = true; return s }

func TestColumnValueErrors(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		oid    uint32
		typmod int32
		text   string
		want   string
	}{
		{16, -1, "yes", `parse boolean "yes": want t or f`},
		{1082, -1, "29/02/2024", `parse date "29/02/2024": want YYYY-MM-DD`},
		{1007, -1, "{1,2", `parse array "{1,2": unterminated array`},
		{1007, -1, "{1,x}", `array element 2: strconv.ParseInt: parsing "x": invalid syntax`},
		{1186, -1, "P1Y", `parse interval "P1Y": bad field "P1Y"`},
		{790, -1, "free", `parse money "free": no digits`},
		{17, -1, `\xZZ`, `parse bytea hex text: encoding/hex: invalid byte: U+005A 'Z'`},
	}
	for _, c := range cases {
		ct, err := NewMapper(builtinTypes()).Column(ctx, "t.c", c.oid, c.typmod, true)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ct.Value(c.text); err == nil || err.Error() != c.want {
			t.Errorf("Value(%q) error = %v, want %q", c.text, err, c.want)
		}
	}
}

func TestMoneyRescalesHalfUp(t *testing.T) {
	ct, err := NewMapper(builtinTypes(), WithMoneyFractionDigits(1)).Column(context.Background(), "t.c", 790, -1, false)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := ct.Value("$2.25")
	if want := (event.Decimal{Unscaled: big.NewInt(23), Scale: 1}); !want.Equal(got.(event.Decimal)) {
		t.Fatalf("got %v, want %v", got, want)
	}
}
