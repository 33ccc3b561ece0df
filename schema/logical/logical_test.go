package logical

import (
	"math"
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/schema/event"
)

func TestParseModes(t *testing.T) {
	if m, err := ParseTimeMode("Adaptive_Time_Microseconds"); err != nil || m != TimeAdaptiveMicroseconds {
		t.Fatalf("got %v, %v", m, err)
	}
	if m, err := ParseBinaryMode(""); err != nil || m != BinaryBytes {
		t.Fatalf("got %v, %v", m, err)
	}
	cases := []struct {
		err  error
		want string
	}{
		{second(ParseDecimalMode("exact")), `invalid value "exact" for decimal.handling.mode: allowed values are precise, double, string`},
		{second(ParseTimeMode("micro")), `invalid value "micro" for time.precision.mode: allowed values are adaptive, adaptive_time_microseconds, connect`},
		{second(ParseBinaryMode("b64")), `invalid value "b64" for binary.handling.mode: allowed values are bytes, base64, base64-url-safe, hex`},
		{second(ParseIntervalMode("iso")), `invalid value "iso" for interval.handling.mode: allowed values are numeric, string`},
	}
	for _, c := range cases {
		if c.err == nil || c.err.Error() != c.want {
			t.Errorf("error = %v, want %q", c.err, c.want)
		}
	}
	if got := BinaryBase64URLSafe.String(); got != "base64-url-safe" {
		t.Errorf("String() = %q", got)
	}
}

func second[T any](_ T, err error) error { return err }

func dec(s string) event.Decimal {
	d, err := event.ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestDecimals(t *testing.T) {
	cases := []struct {
		in    string
		scale int
		want  string
	}{
		{"1.005", 2, "1.01"}, {"-1.005", 2, "-1.01"}, {"1.004", 2, "1.00"}, {"7", 3, "7.000"}, {"-0.5", 0, "-1"},
	}
	for _, c := range cases {
		if got := Rescale(dec(c.in), c.scale); got.String() != c.want || int(got.Scale) != c.scale {
			t.Errorf("Rescale(%s, %d) = %s", c.in, c.scale, got)
		}
	}
	for in, want := range map[string]string{"1.2300": "1.23", "100": "100", "0.000": "0", "-5.50": "-5.5"} {
		if got := StripTrailingZeros(dec(in)); got.String() != want {
			t.Errorf("StripTrailingZeros(%s) = %s, want %s", in, got, want)
		}
	}
	// Beyond float64's range the double is what Java's
	// BigDecimal.doubleValue gives Debezium: infinity, or zero.
	exp := func(unscaled int64, scale int32) event.Decimal {
		return event.Decimal{Unscaled: big.NewInt(unscaled), Scale: scale}
	}
	for _, c := range []struct {
		d    event.Decimal
		want float64
	}{{dec("0.1"), 0.1}, {exp(1, -400), math.Inf(1)}, {exp(-1, -400), math.Inf(-1)}, {exp(1, 400), 0}, {exp(-1, 400), math.Copysign(0, -1)}} {
		if v := DecimalValue(DecimalDouble, c.d, 1).(float64); v != c.want || math.Signbit(v) != math.Signbit(c.want) {
			t.Errorf("double of %s = %v, want %v", c.d, v, c.want)
		}
		if v := VariableDecimalValue(DecimalDouble, c.d).(float64); v != c.want || math.Signbit(v) != math.Signbit(c.want) {
			t.Errorf("variable double of %s = %v, want %v", c.d, v, c.want)
		}
	}
	if v, ok := SpecialFloat(DecimalString, math.NaN()); !ok || v != "NaN" {
		t.Errorf("SpecialFloat = %v %v", v, ok)
	}
	if _, ok := SpecialFloat(DecimalPrecise, math.Inf(1)); ok {
		t.Error("precise mode accepted infinity")
	}
	want := &event.Schema{Type: event.Bytes, Name: event.DecimalName, Version: 1, Params: map[string]string{"scale": "2", "connect.decimal.precision": "10"}}
	if got := DecimalSchema(DecimalPrecise, 10, 2); !reflect.DeepEqual(got, want) {
		t.Errorf("DecimalSchema = %+v", got)
	}
}

func TestTemporal(t *testing.T) {
	ts := time.Date(2024, 2, 29, 10, 11, 12, 123400000, time.FixedZone("x", 3600))
	cases := []struct{ got, want string }{
		{ZonedTimestampValue(ts, 6), "2024-02-29T09:11:12.123400Z"},
		{ZonedTimestampValue(ts, 0), "2024-02-29T09:11:12.1234Z"},
		{ZonedTimestampValue(ts, 2), "2024-02-29T09:11:12.12Z"},
		{ZonedTimestampValue(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), 0), "2024-01-01T00:00:00Z"},
		{ZonedTimestampValue(time.Date(-43, 3, 15, 0, 0, 0, 0, time.UTC), 0), "-0043-03-15T00:00:00Z"},
		{ZonedTimestampValue(time.Date(12345, 6, 7, 8, 9, 10, 1, time.UTC), 0), "+12345-06-07T08:09:10.000000001Z"},
		{ZonedTimestampValue(time.Date(5, 6, 7, 8, 9, 10, 120_000_000, time.UTC), 9), "0005-06-07T08:09:10.120000000Z"},
		{ZonedTimeValue(3_600_000_000, 7200), "23:00:00Z"},
		{ZonedTimeValue(86_399_999_999, 0), "23:59:59.999999Z"},
		{ZonedTimeValue(500, 0), "00:00:00.0005Z"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	// 294247-01-10T04:00:54.775807Z is the last instant of int64
	// microseconds; 294276-12-31 is Postgres's last day.
	lastMicro := time.UnixMicro(math.MaxInt64)
	pgLast := time.Date(294276, 12, 31, 23, 59, 59, 999_999_000, time.UTC)
	values := []struct {
		got  any
		want any
	}{
		{TimeValue(TimeAdaptive, 3, 1_999), int32(1)},
		{TimeValue(TimeAdaptive, 6, 1_999), int64(1_999)},
		{TimeValue(TimeAdaptive, 9, 1), int64(1000)},
		{TimeValue(TimeAdaptive, 9, math.MaxInt64/100), int64(math.MaxInt64)},
		// MySQL's TIME 838:59:59 and -838:59:59 in int32 milliseconds.
		{TimeValue(TimeAdaptive, 0, 3_020_399_000_000), int32(math.MaxInt32)},
		{TimeValue(TimeAdaptive, 0, -3_020_399_000_000), int32(math.MinInt32)},
		{TimeValue(TimeAdaptiveMicroseconds, 0, -3_020_399_000_000), int64(-3_020_399_000_000)},
		{TimestampValue(TimeAdaptive, 3, time.UnixMicro(-1)), int64(-1)},
		{TimestampValue(TimeConnect, 6, time.UnixMicro(1_500)), int64(1)},
		{TimestampValue(TimeAdaptiveMicroseconds, 6, time.UnixMicro(7)), int64(7)},
		{TimestampValue(TimeAdaptive, 6, lastMicro), int64(math.MaxInt64)},
		{TimestampValue(TimeAdaptive, 6, lastMicro.Add(time.Microsecond)), int64(math.MaxInt64)},
		{TimestampValue(TimeAdaptive, 6, pgLast), int64(math.MaxInt64)},
		{TimestampValue(TimeAdaptive, 3, pgLast), int64(9_224_318_015_999_999)},
		{TimestampValue(TimeAdaptive, 9, time.Unix(0, math.MaxInt64).Add(time.Nanosecond)), int64(math.MaxInt64)},
		{TimestampValue(TimeAdaptive, 6, time.Date(-290309, 1, 1, 0, 0, 0, 0, time.UTC)), int64(math.MinInt64)},
		{EpochMicros(time.UnixMicro(math.MinInt64)), int64(math.MinInt64)},
	}
	for i, v := range values {
		if !reflect.DeepEqual(v.got, v.want) {
			t.Errorf("%d: got %#v, want %#v", i, v.got, v.want)
		}
	}
	if _, err := DateValue(1 << 40); err == nil {
		t.Error("DateValue accepted an overflow")
	}
	if got := EpochDays(2024, 2, 29); got != 19782 {
		t.Errorf("EpochDays = %d", got)
	}
	if got := Time(TimeAdaptiveMicroseconds, 0).Name; got != event.MicroTimeName {
		t.Errorf("Time name = %s", got)
	}
}

func TestInterval(t *testing.T) {
	cases := []struct {
		mode             IntervalMode
		months, days, us int64
		want             any
	}{
		{IntervalNumeric, 1, 0, 0, int64(2_629_800_000_000)},
		{IntervalNumeric, 12, -1, 1, int64(12*2_629_800_000_000 - 86_400_000_000 + 1)},
		{IntervalString, 14, 3, 14_706_780_000, "P1Y2M3DT4H5M6.78S"},
		{IntervalString, 0, 0, 0, "P0Y0M0DT0H0M0S"},
		{IntervalString, -14, 0, -3_723_000_000, "P-1Y-2M0DT-1H-2M-3S"},
		{IntervalString, 0, 0, -1_500_000, "P0Y0M0DT0H0M-1.5S"},
		// Beyond int64 microseconds the sum is clamped, as Debezium's
		// MicroDuration.durationMicros casts its float64 sum to long.
		{IntervalNumeric, 178_000_000 * 12, 0, 0, int64(math.MaxInt64)},
		{IntervalNumeric, -178_000_000 * 12, 0, 0, int64(math.MinInt64)},
		{IntervalNumeric, math.MaxInt32, math.MaxInt32, math.MaxInt64, int64(math.MaxInt64)},
		{IntervalNumeric, math.MinInt32, math.MinInt32, -math.MaxInt64, int64(math.MinInt64)},
		{IntervalString, 178_000_000 * 12, 0, 0, "P178000000Y0M0DT0H0M0S"},
		// A step overflows but the sum fits: it is exact.
		{IntervalNumeric, 3_600_000, -100_000_000, 0, int64(827_280_000_000_000_000)},
	}
	for _, c := range cases {
		if got := IntervalValue(c.mode, c.months, c.days, c.us); got != c.want {
			t.Errorf("IntervalValue(%v,%d,%d,%d) = %#v; want %#v", c.mode, c.months, c.days, c.us, got, c.want)
		}
	}
}

func TestDataTypes(t *testing.T) {
	if got := BitsValue(0x0102, 3); !reflect.DeepEqual(got, []byte{2, 1, 0}) {
		t.Errorf("BitsValue = %v", got)
	}
	if got := BinaryValue(BinaryBase64, []byte{0xfb, 0xff}); got != "+/8=" {
		t.Errorf("base64 = %v", got)
	}
	want := &event.Schema{Type: event.String, Name: event.EnumSetName, Version: 1, Params: map[string]string{"allowed": "a,b"}}
	if got := EnumSet([]string{"a", "b"}); !reflect.DeepEqual(got, want) {
		t.Errorf("EnumSet = %+v", got)
	}
	vsd := VariableScaleDecimal()
	if vsd.Type != event.Struct || vsd.Fields[0].Name != "scale" || vsd.Fields[1].Schema.Type != event.Bytes {
		t.Errorf("VariableScaleDecimal = %+v", vsd)
	}
}
