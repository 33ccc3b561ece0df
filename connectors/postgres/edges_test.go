package postgres_test

import (
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"

	"github.com/sluice-cdc/sluice/schema/event"
)

// edgesSQL creates a table of the values at the edges of what Debezium's
// encodings hold, and edgesInsert fills it.
const (
	edgesSQL = `CREATE TYPE pair AS (a int, b text);
CREATE TABLE edges (
  id int PRIMARY KEY, iv interval, d date, ts timestamp, ts3 timestamp(3), tstz timestamptz,
  n numeric, n52 numeric(5,2), nneg numeric(5,-2), nsmall numeric(3,6),
  arr int4[], tarr text[], comp pair, lsn pg_lsn)`
	edgesInsert = `INSERT INTO edges VALUES
 (1, '178000000 years', 'infinity', 'infinity', 'infinity', 'infinity',
  'NaN', 'NaN', 12345, 0.000123, '{{1,2},{3,4}}', '{{a,b},{c,NULL}}', ROW(1, 'x y'), '16/B374D848'),
 (2, '-178956970 years -8 mons', '-infinity', '-infinity', '-infinity', '-infinity',
  'Infinity', NULL, -99949, -0.000999, '{{{1}},{{2}}}', '{}', NULL, '0/0'),
 (3, '178956970 years 7 mons 2147483647 days 2562047788:00:54.775807', '5874897-12-31',
  '294276-12-31 23:59:59.999999', '294276-12-31 23:59:59.999', '294276-12-31 23:59:59.999999+00',
  '-Infinity', -999.99, NULL, NULL, NULL, NULL, NULL, NULL),
 (4, '-2562047788:00:54.775807', '4713-01-01 BC', '4713-01-01 00:00:00 BC', '4713-01-01 00:00:00 BC', '4713-01-01 00:00:00+00 BC',
  '1e-16383'::numeric, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (5, '1 mon', '0001-01-01', '294247-01-10 04:00:54.775807', '0001-01-01 00:00:00', '0001-01-01 00:00:00+00',
  '1e131071'::numeric, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`
)

func decimal(unscaled *big.Int, scale int32) event.Decimal {
	return event.Decimal{Unscaled: unscaled, Scale: scale}
}

// wantEdges are the event values of the rows, in column order, with where
// Debezium 3.6.1 takes each from (PostgresValueConverter and the classes it
// calls) or why sluice differs. Debezium 3.6.1, run on these rows, streamed
// every value cited as its own; its snapshot differs where noted.
var wantEdges = map[int32][]any{
	1: {int32(1),
		// MicroDuration.durationMicros sums in double and casts to long,
		// which saturates: Long.MAX_VALUE.
		int64(math.MaxInt64),
		// POSITIVE_INFINITY_LOCAL_DATE, -5877611-06-21, as epoch days
		// (Debezium's snapshot, reading through JDBC, gives -622191234).
		int32(-2147472692),
		// POSITIVE_INFINITY_INSTANT, PGStatement.DATE_POSITIVE_INFINITY µs,
		// and in milliseconds for timestamp(3).
		int64(9223372036825200000), int64(9223372036825200),
		// convertTimestampWithZone returns the text "infinity".
		"infinity",
		// SpecialValueDecimal.fromLogical throws for NaN in precise mode;
		// TableSchemaBuilder (event.converting.failure.handling.mode=warn)
		// leaves the field null. sluice's precise numeric schemas are
		// optional, so NOT NULL columns hold the null too.
		nil, nil,
		// Negative scale and scale beyond precision (Postgres 15): the
		// Decimal keeps the column's scale (withScaleAdjustedIfNeeded).
		// Debezium reads numeric(5,-2)'s scale as 2046, a wrong value.
		decimal(big.NewInt(123), -2), decimal(big.NewInt(123), 6),
		// Debezium's element converters cannot read nested arrays (a null
		// per sub-array of int4, a Java object's identity for text); sluice
		// flattens them in row-major order.
		[]any{int32(1), int32(2), int32(3), int32(4)}, []any{"a", "b", "c", nil},
		// Types Debezium does not know are left out of its events unless
		// include.unknown.datatypes; sluice emits their text.
		`(1,"x y")`, "16/B374D848"},
	2: {int32(2),
		int64(math.MinInt64), // MicroDuration.durationMicros: Long.MIN_VALUE
		int32(-2147472691),   // NEGATIVE_INFINITY_LOCAL_DATE, -5877611-06-22 (snapshot: -625821272)
		// NEGATIVE_INFINITY_INSTANT, PGStatement.DATE_NEGATIVE_INFINITY µs.
		int64(-9223372036832400000), int64(-9223372036832400),
		"-infinity",
		nil, nil, // Infinity in precise mode: null, as NaN
		decimal(big.NewInt(-999), -2), decimal(big.NewInt(-999), 6),
		[]any{int32(1), int32(2)}, []any{}, nil, "0/0"},
	3: {int32(3),
		// Debezium fails on an interval of 2562047788 hours (pgjdbc's
		// PGInterval: NumberFormatException) and retries without end.
		int64(math.MaxInt64),
		int32(2145042905), // Date.toEpochDay of Postgres's last date
		// Past 294247-01-10T04:00:54.775807Z: clamped. Debezium's
		// Conversions.toEpochMicros saturates the seconds and then adds the
		// micro-of-second, wrapping around to -9223372036853775810 here.
		int64(math.MaxInt64),
		int64(9224318015999999), // Timestamp.toEpochMillis, in range
		// ZonedTimestamp.toIsoString: ISO_OFFSET_DATE_TIME signs years past
		// 9999, with the column's 6 fractional digits.
		"+294276-12-31T23:59:59.999999Z",
		nil, decimal(big.NewInt(-99999), 2), nil, nil, nil, nil, nil, nil},
	4: {int32(4),
		int64(-math.MaxInt64), // in range: exact (Debezium fails, as above)
		int32(-2440550),       // Debezium's snapshot, through JDBC: 1001860
		int64(-210863520000000000), int64(-210863520000000),
		"-4712-01-01T00:00:00.000000Z", // year 4713 BC is -4712 in ISO
		// VariableScaleDecimal.fromLogical after stripTrailingZeros: the
		// largest scale numeric has.
		decimal(big.NewInt(1), 16383),
		nil, nil, nil, nil, nil, nil, nil},
	5: {int32(5),
		int64(2629800000000), // one month of 30.4375 days (DAYS_PER_MONTH_AVG)
		int32(-719162), int64(math.MaxInt64), int64(-62135596800000), "0001-01-01T00:00:00.000000Z",
		// stripTrailingZeros then setScale(0): 10^131071 unscaled.
		decimal(new(big.Int).Exp(big.NewInt(10), big.NewInt(131071), nil), 0),
		nil, nil, nil, nil, nil, nil, nil},
}

var edgesColumns = strings.Fields("id iv d ts ts3 tstz n n52 nneg nsmall arr tarr comp lsn")

// checkEdges compares a row read back from Kafka with wantEdges.
func checkEdges(t *testing.T, row event.Row) {
	t.Helper()
	id := row[0].(int32)
	want := wantEdges[id]
	if len(row) != len(want) {
		t.Fatalf("row %d: %d values, want %d", id, len(row), len(want))
	}
	for i := range row {
		if !sameValue(row[i], want[i]) {
			got := fmt.Sprintf("%#v", row[i])
			if len(got) > 200 {
				got = got[:200] + "…"
			}
			t.Errorf("row %d column %s = %s, want %#v", id, edgesColumns[i], got, want[i])
		}
	}
}

func sameValue(a, b any) bool {
	if x, ok := a.(event.Decimal); ok {
		y, ok := b.(event.Decimal)
		return ok && x.Scale == y.Scale && x.Unscaled.Cmp(y.Unscaled) == 0
	}
	return reflect.DeepEqual(a, b)
}

// TestEdgeValuesThroughKafka snapshots and then streams rows of the values
// at the edges of the encodings — infinities, the first and last dates and
// timestamps Postgres stores, intervals past int64 microseconds, numeric
// specials and extreme scales, nested arrays, types without a mapping —
// and checks every value decoded from Kafka.
func TestEdgeValuesThroughKafka(t *testing.T) {
	h := newHarness(t, nil)
	h.exec(edgesSQL, edgesInsert)
	h.start()
	topic := h.topic("edges")
	for _, r := range h.read(topic, len(wantEdges)) {
		if r.value.Op != event.OpRead {
			t.Fatalf("want snapshot reads, got %s", r.value.Op)
		}
		checkEdges(t, r.value.After)
	}
	h.waitStreaming()
	h.exec("DELETE FROM edges", edgesInsert)
	n := len(wantEdges)
	creates := 0
	for _, r := range h.read(topic, 4*n)[n:] { // reads, deletes, tombstones, creates
		if r.value != nil && r.value.Op == event.OpCreate {
			creates++
			checkEdges(t, r.value.After)
		}
	}
	if creates != n {
		t.Errorf("%d streamed creates, want %d", creates, n)
	}
}
