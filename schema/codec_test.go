package schema

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/sluice-cdc/sluice/schema/event"
)

type valueCase struct {
	name   string
	schema *event.Schema
	values []any
}

// valueCases covers every Connect type and every semantic name of
// schema/event with edge values.
func valueCases() []valueCase {
	oneMB := strings.Repeat("sluice ✓ ", 1<<20/10)
	enum := &event.Schema{Type: event.String, Name: event.EnumName, Version: 1, Params: map[string]string{event.AllowedParam: "a,b,c"}}
	enumSet := &event.Schema{Type: event.String, Name: event.EnumSetName, Version: 1, Params: map[string]string{event.AllowedParam: "a,b,c"}}
	bits := &event.Schema{Type: event.Bytes, Name: event.BitsName, Version: 1, Params: map[string]string{event.LengthParam: "12"}}
	nested := record("test.Nested",
		field("id", prim(event.Int64)),
		field("tags", arrayOf(opt(prim(event.String)))),
		field("inner", opt(record("test.Inner", field("x", prim(event.Int32))))),
	)
	return []valueCase{
		{"boolean", prim(event.Boolean), []any{true, false}},
		{"int8", prim(event.Int8), []any{int8(0), int8(math.MinInt8), int8(math.MaxInt8), int8(-1)}},
		{"int16", prim(event.Int16), []any{int16(0), int16(math.MinInt16), int16(math.MaxInt16), int16(300)}},
		{"int32", prim(event.Int32), []any{int32(0), int32(math.MinInt32), int32(math.MaxInt32), int32(-64), int32(64)}},
		{"int64", prim(event.Int64), []any{int64(0), int64(math.MinInt64), int64(math.MaxInt64), int64(-1), int64(1) << 40}},
		{"float32", prim(event.Float32), []any{float32(0), float32(math.Copysign(0, -1)), float32(math.MaxFloat32), float32(math.SmallestNonzeroFloat32),
			float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), float32(-1.5)}},
		{"float64", prim(event.Float64), []any{0.0, math.Copysign(0, -1), math.MaxFloat64, math.SmallestNonzeroFloat64, math.NaN(), math.Inf(1), math.Inf(-1), -2.5e-300}},
		{"string", prim(event.String), []any{"", "a", "héllo, 世界", oneMB}},
		{"bytes", prim(event.Bytes), []any{[]byte{}, []byte{0}, []byte{0xff, 0xfe, 0x80, 0xc3, 0x28}, []byte(oneMB)}},
		{"array", arrayOf(prim(event.Int32)), []any{[]any{}, []any{int32(1), int32(-2), int32(math.MaxInt32)}}},
		{"array of optional", arrayOf(opt(prim(event.String))), []any{[]any{"a", nil, ""}}},
		{"nested arrays", arrayOf(arrayOf(prim(event.Int64))), []any{[]any{[]any{}, []any{int64(1)}, []any{int64(2), int64(3)}}}},
		{"struct", nested, []any{
			[]any{int64(1), []any{"x", nil}, []any{int32(7)}},
			[]any{int64(-1), []any{}, nil},
		}},
		{"empty struct", record("test.Empty"), []any{[]any{}}},
		{"array of empty structs", arrayOf(record("test.Empty")), []any{[]any{[]any{}, []any{}}}},
		{"optional int64", opt(prim(event.Int64)), []any{nil, int64(5)}},
		{"optional string with default", &event.Schema{Type: event.String, Optional: true, Default: "x"}, []any{nil, "y"}},
		{"decimal scale 2", decimalSchema(10, 2), []any{dec("0.00"), dec("123.45"), dec("-123.45"), dec("-0.01"), dec("1.28"), dec("-1.28"), dec("-1.29")}},
		{"decimal 38 digits", decimalSchema(38, 0), []any{
			bigDec("99999999999999999999999999999999999999", 0), bigDec("-99999999999999999999999999999999999999", 0),
			bigDec("0", 0), bigDec("-1", 0), bigDec("127", 0), bigDec("128", 0), bigDec("-128", 0), bigDec("-129", 0),
			bigDec("18446744073709551616", 0), bigDec("-18446744073709551616", 0),
		}},
		{"decimal no precision", decimalSchema(0, 5), []any{dec("-12345.67890")}},
		{"optional decimal", opt(decimalSchema(5, 1)), []any{nil, dec("1234.5")}},
		{"variable scale decimal", variableDecimalSchema(), []any{dec("0"), dec("3.14159"), dec("-271828.1828"), bigDec("-99999999999999999999999999999999999999", 38), bigDec("12", -3)}},
		{"optional variable scale decimal", opt(variableDecimalSchema()), []any{nil, dec("-0.5")}},
		{event.ConnectDateName, named(event.Int32, event.ConnectDateName), []any{int32(19000), int32(-1)}},
		{event.ConnectTimeName, named(event.Int32, event.ConnectTimeName), []any{int32(86399999), int32(0)}},
		{event.ConnectTimestampName, named(event.Int64, event.ConnectTimestampName), []any{int64(1700000000123), int64(-1)}},
		{event.DateName, named(event.Int32, event.DateName), []any{int32(19000)}},
		{event.TimeName, named(event.Int32, event.TimeName), []any{int32(3723004)}},
		{event.MicroTimeName, named(event.Int64, event.MicroTimeName), []any{int64(86399999999)}},
		{event.NanoTimeName, named(event.Int64, event.NanoTimeName), []any{int64(86399999999999)}},
		{event.TimestampName, named(event.Int64, event.TimestampName), []any{int64(1700000000123)}},
		{event.MicroTimestampName, named(event.Int64, event.MicroTimestampName), []any{int64(1700000000123456), int64(-62135596800000000)}},
		{event.NanoTimestampName, named(event.Int64, event.NanoTimestampName), []any{int64(1700000000123456789)}},
		{event.ZonedTimeName, named(event.String, event.ZonedTimeName), []any{"10:15:30.123456Z"}},
		{event.ZonedTimestampName, named(event.String, event.ZonedTimestampName), []any{"2024-01-02T03:04:05.123456Z"}},
		{event.MicroDurationName, named(event.Int64, event.MicroDurationName), []any{int64(-3600000000), int64(math.MaxInt64)}},
		{event.IntervalName, named(event.String, event.IntervalName), []any{"P1Y2M3DT4H5M6.78S"}},
		{event.YearName, named(event.Int32, event.YearName), []any{int32(2024), int32(0)}},
		{event.JSONName, named(event.String, event.JSONName), []any{`{"a":[1,2,{"b":null}]}`}},
		{event.UUIDName, named(event.String, event.UUIDName), []any{"5f0c6a4e-0b2c-4d1e-9d0a-0c5c3c2a1b00"}},
		{event.XMLName, named(event.String, event.XMLName), []any{"<a>b</a>"}},
		{event.EnumName, enum, []any{"b"}},
		{event.EnumSetName, enumSet, []any{"a,c", ""}},
		{event.BitsName, bits, []any{[]byte{0x0f, 0xa0}}},
	}
}

// TestCodecRoundTrip encodes every case alone and as a record field, decodes
// it and checks the exact value comes back.
func TestCodecRoundTrip(t *testing.T) {
	for _, tc := range valueCases() {
		t.Run(tc.name, func(t *testing.T) {
			top, err := NewCodec(tc.schema)
			if err != nil {
				t.Fatal(err)
			}
			rec, err := NewCodec(record("test.Row", field("before", prim(event.Int32)), field("v", tc.schema), field("after", prim(event.String))))
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range tc.values {
				body, err := top.Append(nil, v)
				if err != nil {
					t.Fatalf("encode %s: %v", short(v), err)
				}
				got, err := top.Decode(body)
				if err != nil {
					t.Fatalf("decode %s: %v", short(v), err)
				}
				want := v
				if list, ok := v.([]any); ok && tc.schema.Type == event.Struct {
					want = event.Row(list) // a top-level struct decodes to a Row
				}
				if !sameValue(got, want) {
					t.Errorf("round trip of %s gave %s", short(v), short(got))
				}

				row := event.Row{int32(-7), v, "end"}
				body, err = rec.Append([]byte("prefix"), row)
				if err != nil {
					t.Fatalf("encode row: %v", err)
				}
				if string(body[:6]) != "prefix" {
					t.Fatalf("Append did not keep dst: %q", body[:6])
				}
				got, err = rec.Decode(body[6:])
				if err != nil {
					t.Fatalf("decode row: %v", err)
				}
				if !sameValue(got, row) {
					t.Errorf("row round trip of %s gave %s", short(row), short(got))
				}
			}
		})
	}
}

func TestCodecEncodeErrors(t *testing.T) {
	s := record("test.R",
		field("id", prim(event.Int64)),
		field("price", opt(decimalSchema(10, 2))),
		field("tags", arrayOf(prim(event.String))),
		field("addr", opt(record("test.Addr", field("city", prim(event.String))))),
	)
	c, err := NewCodec(s)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"wrong int type", event.Row{int32(1), nil, []any{}, nil}, `encode test.R: field "id": want int64, got int32`},
		{"required null", event.Row{nil, nil, []any{}, nil}, `encode test.R: field "id": null for a required value`},
		{"float for decimal", event.Row{int64(1), 1.5, []any{}, nil}, `encode test.R: field "price": want event.Decimal, got float64`},
		{"decimal scale", event.Row{int64(1), dec("1.5"), []any{}, nil}, `encode test.R: field "price": decimal 1.5 has scale 1, the schema's scale is 2`},
		{"array element", event.Row{int64(1), nil, []any{"a", 2}, nil}, `encode test.R: field "tags[]": want string, got int`},
		{"nested field", event.Row{int64(1), nil, []any{}, []any{[]byte("x")}}, `encode test.R: field "addr.city": want string, got []uint8`},
		{"short row", event.Row{int64(1)}, `encode test.R: value: 1 values for 4 fields`},
		{"not a row", "x", `encode test.R: value: want []any, got string`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte("keep")
			out, err := c.Append(dst, tc.v)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error = %v, want %s", err, tc.want)
			}
			if string(out) != "keep" {
				t.Errorf("dst changed on error: %q", out)
			}
		})
	}
}

func TestNewCodecErrors(t *testing.T) {
	tests := []struct {
		name   string
		schema *event.Schema
		want   string
	}{
		{"decimal without scale", record("t.R", field("d", &event.Schema{Type: event.Bytes, Name: event.DecimalName})),
			`compile codec for t.R: field "d": decimal schema without a "scale" parameter`},
		{"bad variable decimal", record("t.R", field("d", record(event.VariableDecimalName, field("x", prim(event.Int32))))),
			`compile codec for t.R: field "d": a VariableScaleDecimal struct must have the fields scale (int32) and value (bytes)`},
		{"array without element", record("t.R", field("a", &event.Schema{Type: event.Array})),
			`compile codec for t.R: field "a[]": missing schema`},
		{"unknown type", &event.Schema{Type: 99}, `compile codec for Type(99) schema: value: unknown schema type Type(99)`},
		{"duplicate field after sanitizing", record("t.R", field("a-b", prim(event.Int32)), field("a_b", prim(event.Int32))),
			`compile codec for t.R: generated Avro schema is invalid: duplicate record field name "a_b"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewCodec(tc.schema)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error = %v\nwant %s", err, tc.want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	c, err := NewCodec(record("t.R", field("s", prim(event.String)), field("n", opt(prim(event.Int16))), field("a", arrayOf(prim(event.Int64)))))
	if err != nil {
		t.Fatal(err)
	}
	good, err := c.Append(nil, event.Row{"hello", int16(300), []any{int64(1)}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		body []byte
		want string
	}{
		{"empty", nil, "decode t.R: input ends early: reading long: unexpected EOF"},
		{"truncated string", good[:3], `decode t.R: field "s": length 5 is impossible in a 3-byte input`},
		{"truncated array", good[:len(good)-1], "decode t.R: input ends early: reading long: unexpected EOF"},
		{"truncated int", good[:7], "decode t.R: input ends early: reading int: unexpected EOF"},
		{"huge length", []byte{0xfe, 0xff, 0xff, 0xff, 0x0f}, `decode t.R: field "s": length 2147483647 is impossible in a 5-byte input`},
		{"negative length", []byte{0x01}, `decode t.R: field "s": length -1 is impossible in a 1-byte input`},
		{"bad union branch", []byte{0x00, 0x04}, `decode t.R: field "n": union branch 2 does not exist`},
		{"int16 out of range", []byte{0x00, 0x02, 0x80, 0x80, 0x04}, `decode t.R: field "n": 32768 is out of range for int16`},
		{"huge array", []byte{0x00, 0x00, 0xfe, 0xff, 0xff, 0xff, 0x0f}, `decode t.R: field "a": array of more than 7 items is impossible in a 7-byte input`},
		{"int past 32 bits", binary.AppendVarint([]byte{0x00, 0x02}, math.MaxInt32+1), "decode t.R: reading int: 2147483648 is out of range"},
		{"varint past 64 bits", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, "decode t.R: reading long: varint is longer than 64 bits"},
		{"trailing bytes", append(append([]byte{}, good...), 0), "decode t.R: input has bytes left after the value"},
		// A block count of 2^63-1 before the input ends, and the negative
		// counts that announce a block size: refused before any item is
		// read or allocated.
		{"block count 2^63-1", binary.AppendVarint([]byte{0x00, 0x00}, math.MaxInt64), `decode t.R: field "a": array of more than 12 items is impossible in a 12-byte input`},
		{"block count -(2^63-1) with a size", binary.AppendVarint(binary.AppendVarint([]byte{0x00, 0x00}, -math.MaxInt64), 1), `decode t.R: field "a": array of more than 13 items is impossible in a 13-byte input`},
		{"block count -2^63", binary.AppendVarint(binary.AppendVarint([]byte{0x00, 0x00}, math.MinInt64), 1), `decode t.R: field "a": array of more than 13 items is impossible in a 13-byte input`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := c.Decode(tc.body)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error = %v, want %s", err, tc.want)
			}
			if v != nil {
				t.Errorf("value %v returned with an error", v)
			}
		})
	}
}

// TestDecodedValuesAreIndependent checks that values handed out by the
// decoder's arena never share memory: appending to decoded bytes or
// reusing the input must not change other values.
func TestDecodedValuesAreIndependent(t *testing.T) {
	c, err := NewCodec(record("t.R", field("a", prim(event.Bytes)), field("b", prim(event.String)), field("d", variableDecimalSchema())))
	if err != nil {
		t.Fatal(err)
	}
	body, err := c.Append(nil, event.Row{[]byte("ab"), "cd", dec("-1.5")})
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.Decode(body)
	if err != nil {
		t.Fatal(err)
	}
	row := v.(event.Row)
	_ = append(row[0].([]byte), 'X', 'Y', 'Z')
	row[2].(event.Decimal).Unscaled.Lsh(row[2].(event.Decimal).Unscaled, 1000)
	clear(body)
	v2, err := c.Decode(mustAppend(t, c, event.Row{[]byte("ef"), "gh", dec("2.5")}))
	if err != nil {
		t.Fatal(err)
	}
	if got := row[1].(string); got != "cd" {
		t.Errorf("string changed to %q", got)
	}
	if !sameValue(v2, event.Row{[]byte("ef"), "gh", dec("2.5")}) {
		t.Errorf("second decode gave %v", v2)
	}
}

func mustAppend(t *testing.T, c *Codec, v any) []byte {
	t.Helper()
	b, err := c.Append(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDecimalsAvroCannotDescribe checks decimals whose scale is negative or
// past their precision (Postgres allows both): their schema has no decimal
// logical type, which Avro would refuse, and still carries the scale, and
// their values go through the codec unchanged.
func TestDecimalsAvroCannotDescribe(t *testing.T) {
	s := record("t.R", field("neg", decimalSchema(2, -3)), field("past", decimalSchema(3, 5)), field("fine", decimalSchema(5, 2)))
	c, err := NewCodec(s)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"type":"record","name":"R","namespace":"t","fields":[` +
		`{"name":"neg","type":{"type":"bytes","scale":-3,"precision":2,"connect.version":1,"connect.parameters":{"scale":"-3","connect.decimal.precision":"2"},"connect.name":"org.apache.kafka.connect.data.Decimal"}},` +
		`{"name":"past","type":{"type":"bytes","scale":5,"precision":3,"connect.version":1,"connect.parameters":{"scale":"5","connect.decimal.precision":"3"},"connect.name":"org.apache.kafka.connect.data.Decimal"}},` +
		`{"name":"fine","type":{"type":"bytes","scale":2,"precision":5,"connect.version":1,"connect.parameters":{"scale":"2","connect.decimal.precision":"5"},"connect.name":"org.apache.kafka.connect.data.Decimal","logicalType":"decimal"}}],` +
		`"connect.name":"t.R"}`
	if got := c.AvroJSON(); got != want {
		t.Errorf("schema\n got %s\nwant %s", got, want)
	}
	row := event.Row{event.Decimal{Unscaled: big.NewInt(12), Scale: -3}, event.Decimal{Unscaled: big.NewInt(-123), Scale: 5}, dec("-1.25")}
	body := mustAppend(t, c, row)
	got, err := c.Decode(body)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := fmt.Sprint(got), fmt.Sprint(row); g != w {
		t.Errorf("decoded %s, want %s", g, w)
	}
}
