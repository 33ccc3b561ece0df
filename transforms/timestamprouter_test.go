package transforms

import (
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

var march1 = time.Date(2024, 3, 1, 12, 34, 56, 789_000_000, time.UTC).UnixMilli()

func TestTimestampRouter(t *testing.T) {
	v := event.Row{int32(1)}
	vs := structOf("v", fld("id", sch(event.Int32)))
	in := &record.Record{Topic: "orders", ValueSchema: vs, Value: v, Timestamp: march1}
	routed := func(topic string) *record.Record {
		return &record.Record{Topic: topic, ValueSchema: vs, Value: v, Timestamp: march1}
	}
	runCases(t, buildOne(t, "org.apache.kafka.connect.transforms.TimestampRouter", nil), []smtCase{
		{name: "defaults ${topic}-${timestamp} and yyyyMMdd", in: in, want: routed("orders-20240301")},
		{name: "a tombstone is routed too", in: &record.Record{Topic: "orders", Timestamp: march1}, want: &record.Record{Topic: "orders-20240301", Timestamp: march1}},
		{name: "no timestamp", in: &record.Record{Topic: "orders", Value: v, ValueSchema: vs}, err: "transform x: timestamp missing on record"},
	})
	// Quoted literal text in the Java pattern, every supported field.
	runCases(t, buildOne(t, "TimestampRouter", map[string]string{"topic.format": "${topic}_${timestamp}", "timestamp.format": "yyyy-MM-dd'T'HH.mm.ss.SSS"}), []smtCase{
		{name: "every field", in: in, want: routed("orders_2024-03-01T12.34.56.789")},
	})
	runCases(t, buildOne(t, "TimestampRouter", map[string]string{"timestamp.format": "EEEE-d-MMM-yy-hh-a"}), []smtCase{
		{name: "names of days and months, a 12-hour clock", in: in, want: routed("orders-Friday-1-Mar-24-12-PM")},
	})
	runCases(t, buildOne(t, "TimestampRouter", map[string]string{"topic.format": "archive-${timestamp}-${topic}-${topic}", "timestamp.format": "yyyyMM"}), []smtCase{
		{name: "placeholders repeat; digits stay literal", in: &record.Record{Topic: "t1", Timestamp: march1}, want: &record.Record{Topic: "archive-202403-t1-t1", Timestamp: march1}},
	})
}

func TestTimestampRouterBadSettings(t *testing.T) {
	for format, want := range map[string]string{
		"G yyyy": `transforms.x.timestamp.format: invalid date format "G yyyy": pattern "G" is not supported; sluice supports y, M, d, H, k, h, K, a, m, s, S, E, X, Z and 'quoted text'`,
		"yyyy'T": `transforms.x.timestamp.format: invalid date format "yyyy'T": unterminated quote`,
		"DDD":    `transforms.x.timestamp.format: invalid date format "DDD": pattern "DDD" is not supported; sluice supports y, M, d, H, k, h, K, a, m, s, S, E, X, Z and 'quoted text'`,
	} {
		if got := buildProblems("TimestampRouter", map[string]string{"timestamp.format": format}); got != want {
			t.Errorf("%s:\n got %s\nwant %s", format, got, want)
		}
	}
	if got := buildProblems("TimestampRouter", map[string]string{"topic": "x"}); got != "transforms.x.topic: unknown configuration key" {
		t.Error(got)
	}
}

func TestDateFormatParseAndFormat(t *testing.T) {
	for _, tc := range []struct {
		pattern, text string
		ms            int64
	}{
		{"yyyy-MM-dd HH:mm:ss.SSS", "2024-03-01 12:34:56.789", march1},
		{"yyyyMMddHHmmssSSS", "20240301123456789", march1},
		{"yyyy-MM-dd'T'HH:mm:ss.SSSX", "2024-03-01T12:34:56.789Z", march1},
		{"yyyy-MM-dd", "1969-12-31", -86_400_000},
		{"''yy''", "'24'", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()},
	} {
		f, err := parseDateFormat(tc.pattern)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.format(tc.ms); got != tc.text {
			t.Errorf("%s format: %q, want %q", tc.pattern, got, tc.text)
		}
		if got, err := f.parse(tc.text); err != nil || got != tc.ms {
			t.Errorf("%s parse %q: %d (%v), want %d", tc.pattern, tc.text, got, err, tc.ms)
		}
	}
	f, _ := parseDateFormat("yyyy-MM-dd'T'HH:mm:ssZ")
	if got, err := f.parse("2024-03-01T14:34:56+0200"); err != nil || got != march1-789 {
		t.Errorf("zone offset: %d (%v), want %d", got, err, march1-789)
	}
	if _, err := f.parse("2024/03/01"); err == nil || err.Error() != "could not parse timestamp: value (2024/03/01) does not match pattern (yyyy-MM-dd'T'HH:mm:ssZ)" {
		t.Errorf("mismatch: %v", err)
	}
}
