package transforms

import (
	"testing"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

func TestTimestampConverter(t *testing.T) {
	connectTS := &event.Schema{Type: event.Int64, Name: event.ConnectTimestampName, Version: 1}
	connectDate := &event.Schema{Type: event.Int32, Name: event.ConnectDateName, Version: 1}
	connectTime := &event.Schema{Type: event.Int32, Name: event.ConnectTimeName, Version: 1}
	vs := structOf("v", fld("id", sch(event.Int32)), fld("event_date", sch(event.String)), fld("other", optSch(event.String)))
	in := &record.Record{Topic: "t", ValueSchema: vs, Value: event.Row{int32(1), "2024-03-01", "2024-03-02"}}

	// The documentation's example: a string field in yyyy-MM-dd to a Timestamp.
	c := buildOne(t, "org.apache.kafka.connect.transforms.TimestampConverter$Value", map[string]string{"field": "event_date", "format": "yyyy-MM-dd", "target.type": "Timestamp"})
	out := structOf("v", fld("id", sch(event.Int32)), fld("event_date", connectTS), fld("other", optSch(event.String)))
	midnight := march1 - (march1 % millisPerDay)
	runCases(t, c, []smtCase{
		{name: "string field to Timestamp", in: in, want: &record.Record{Topic: "t", ValueSchema: out, Value: event.Row{int32(1), midnight, "2024-03-02"}}},
		{name: "tombstone", in: &record.Record{Topic: "t"}, want: &record.Record{Topic: "t"}},
		{name: "null struct gets the new schema", in: &record.Record{ValueSchema: vs}, want: &record.Record{ValueSchema: out}},
		{name: "no match", in: &record.Record{ValueSchema: vs, Value: event.Row{int32(1), "01/03/2024", nil}}, err: `transform x: field "event_date": could not parse timestamp: value (01/03/2024) does not match pattern (yyyy-MM-dd)`},
		{name: "missing field: unchanged", in: &record.Record{ValueSchema: structOf("w", fld("id", sch(event.Int32))), Value: event.Row{int32(1)}},
			want: &record.Record{ValueSchema: structOf("w", fld("id", sch(event.Int32))), Value: event.Row{int32(1)}}},
		{name: "not a timestamp", in: &record.Record{ValueSchema: structOf("w", fld("event_date", sch(event.Int32))), Value: event.Row{int32(1)}}, err: `transform x: field "event_date": schema int32 does not correspond to a known timestamp type format`},
	})
	sameSchemaTwice(t, c, valueSide, in, &record.Record{ValueSchema: vs, Value: event.Row{int32(2), "2024-01-01", nil}})

	// Whole keys, every source and target type.
	for _, tc := range []struct {
		keys map[string]string
		s    *event.Schema
		v    any
		out  *event.Schema
		want any
	}{
		{map[string]string{"target.type": "unix"}, connectTS, march1, sch(event.Int64), march1},
		{map[string]string{"target.type": "unix", "unix.precision": "seconds"}, connectTS, march1, sch(event.Int64), march1 / 1000},
		{map[string]string{"target.type": "unix", "unix.precision": "microseconds"}, connectTS, march1, sch(event.Int64), march1 * 1000},
		{map[string]string{"target.type": "Timestamp", "unix.precision": "nanoseconds"}, sch(event.Int64), march1*1_000_000 + 999, connectTS, march1},
		{map[string]string{"target.type": "Timestamp", "unix.precision": "seconds"}, sch(event.Int64), int64(1), connectTS, int64(1000)},
		{map[string]string{"target.type": "Date"}, connectTS, march1, connectDate, int32(19783)},
		{map[string]string{"target.type": "Time"}, connectTS, march1, connectTime, int32(march1 % millisPerDay)},
		{map[string]string{"target.type": "Timestamp"}, connectDate, int32(19783), connectTS, midnight},
		{map[string]string{"target.type": "string", "format": "yyyy-MM-dd HH:mm:ss.SSS"}, connectTS, march1, sch(event.String), "2024-03-01 12:34:56.789"},
		{map[string]string{"target.type": "string", "format": "HH:mm"}, connectTime, int32(3_600_000), sch(event.String), "01:00"},
		{map[string]string{"target.type": "Date"}, &event.Schema{Type: event.Int64, Optional: true}, int64(-1), &event.Schema{Type: event.Int32, Name: event.ConnectDateName, Version: 1, Optional: true}, int32(-1)},
		{map[string]string{"target.type": "unix"}, &event.Schema{Type: event.Int64, Optional: true}, nil, &event.Schema{Type: event.Int64, Optional: true}, nil},
	} {
		c := buildOne(t, "TimestampConverter$Key", tc.keys)
		runCases(t, c, []smtCase{{name: tc.keys["target.type"] + " from " + describe(tc.s), in: &record.Record{KeySchema: tc.s, Key: tc.v}, want: &record.Record{KeySchema: tc.out, Key: tc.want}}})
	}
	key := buildOne(t, "TimestampConverter$Key", map[string]string{"target.type": "Date"})
	sameSchemaTwice(t, key, keySide, &record.Record{KeySchema: connectTS, Key: int64(1)}, &record.Record{KeySchema: connectTS, Key: int64(2)})
	runCases(t, key, []smtCase{{name: "string without format", in: &record.Record{KeySchema: sch(event.String), Key: "x"}, err: "transform x: a string timestamp needs format to be parsed"}})
}

func TestTimestampConverterBadSettings(t *testing.T) {
	for _, tc := range []struct {
		keys map[string]string
		want string
	}{
		{map[string]string{}, "transforms.x.target.type: missing required configuration"},
		{map[string]string{"target.type": "date"}, `transforms.x.target.type: invalid value "date": must be one of string, unix, Date, Time, Timestamp`},
		{map[string]string{"target.type": "string"}, "transforms.x.format: TimestampConverter requires format option to be specified when using string timestamps"},
		{map[string]string{"target.type": "unix", "unix.precision": "millis"}, `transforms.x.unix.precision: invalid value "millis": must be one of nanoseconds, microseconds, milliseconds, seconds`},
		{map[string]string{"target.type": "string", "format": "yyyy-MM-dd z"}, `transforms.x.format: invalid date format "yyyy-MM-dd z": pattern "z" is not supported; sluice supports y, M, d, H, k, h, K, a, m, s, S, E, X, Z and 'quoted text'`},
	} {
		if got := buildProblems("TimestampConverter$Value", tc.keys); got != tc.want {
			t.Errorf("%v:\n got %s\nwant %s", tc.keys, got, tc.want)
		}
	}
}
