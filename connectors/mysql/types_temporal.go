package mysql

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-cdc/sluice/schema/logical"
)

// Zero dates ('0000-00-00', and dates with a zero month or day) have no
// calendar value. As Debezium does, they become null in a nullable column
// and the epoch (day 0, timestamp 0, "1970-01-01T00:00:00Z") in a NOT NULL
// one, whose schema therefore stays required; either way a warning is logged.

// date maps DATE to io.debezium.time.Date (or Connect's Date).
func (m *Mapper) date(c Column) *ColumnType {
	zero := m.zeroDate(c, int32(0))
	return typed("date", logical.Date(m.time), func(v any) (any, error) {
		var y, mo, d int
		switch x := v.(type) {
		case string:
			var err error
			if y, mo, d, _, err = parseDateTimeText(x, false); err != nil {
				return nil, err
			}
		case time.Time:
			y, mo, d = x.Year(), int(x.Month()), x.Day()
		default:
			return nil, fmt.Errorf("unexpected %T for a date column", v)
		}
		if mo == 0 || d == 0 {
			return zero(v), nil
		}
		return logical.DateValue(logical.EpochDays(y, mo, d))
	})
}

// datetime maps DATETIME(fsp): a wall clock without zone, read as UTC.
func (m *Mapper) datetime(c Column, fsp int) *ColumnType {
	mode := m.time
	zero := m.zeroDate(c, logical.TimestampValue(mode, fsp, time.Unix(0, 0)))
	return typed(fmt.Sprintf("datetime(%d)", fsp), logical.Timestamp(mode, fsp), func(v any) (any, error) {
		t, ok, err := wallClock(v)
		if err != nil {
			return nil, fmt.Errorf("datetime: %w", err)
		}
		if !ok {
			return zero(v), nil
		}
		return logical.TimestampValue(mode, fsp, t), nil
	})
}

// timestamp maps TIMESTAMP(fsp), an instant the binlog stores in UTC, to
// io.debezium.time.ZonedTimestamp with fsp fractional digits.
func (m *Mapper) timestamp(c Column, fsp int) *ColumnType {
	zero := m.zeroDate(c, "1970-01-01T00:00:00Z")
	return typed(fmt.Sprintf("timestamp(%d)", fsp), logical.ZonedTimestamp(), func(v any) (any, error) {
		t, ok, err := wallClock(v)
		if err != nil {
			return nil, fmt.Errorf("timestamp: %w", err)
		}
		if !ok {
			return zero(v), nil
		}
		return logical.ZonedTimestampValue(t, fsp), nil
	})
}

// timeColumn maps TIME(fsp), a signed duration from -838:59:59 to
// 838:59:59, to MicroTime (or Time/Connect Time per time.precision.mode).
// Kafka Connect's Time (connect) holds only 00:00:00 to 24:00:00: another
// value is null in a nullable column and does not convert in a NOT NULL
// one, as in Debezium. io.debezium.time.Time (adaptive, fsp up to 3) holds
// ±596:31:23.647 in its int32 milliseconds; beyond, TimeValue clamps.
func (m *Mapper) timeColumn(c Column, fsp int) *ColumnType {
	mode, log, name, nullable := m.time, m.log, c.Name, c.Nullable
	return typed(fmt.Sprintf("time(%d)", fsp), logical.Time(mode, fsp), func(v any) (any, error) {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("unexpected %T for a time column", v)
		}
		us, err := parseDuration(s)
		if err != nil {
			return nil, err
		}
		if mode == logical.TimeConnect && (us < 0 || us > 24*3600*1_000_000) {
			if !nullable {
				return nil, fmt.Errorf("TIME %s is outside 00:00:00 to 24:00:00, which Kafka Connect's Time (time.precision.mode=connect) holds", s)
			}
			log.Warn("TIME outside 00:00:00 to 24:00:00 emitted as null: Kafka Connect's Time (time.precision.mode=connect) cannot hold it",
				slog.String("column", name), slog.String("value", s))
			return nil, nil
		}
		return logical.TimeValue(mode, fsp, us), nil
	})
}

// zeroDate returns the handler of zero dates in column c: null when c is
// nullable, epoch otherwise, with a warning.
func (m *Mapper) zeroDate(c Column, epoch any) func(v any) any {
	log, name, nullable := m.log, c.Name, c.Nullable
	return func(v any) any {
		if nullable {
			log.Warn("zero date emitted as null", slog.String("column", name), slog.Any("value", v))
			return nil
		}
		log.Warn("zero date in NOT NULL column emitted as the epoch", slog.String("column", name), slog.Any("value", v))
		return epoch
	}
}

// wallClock reads a DATETIME or TIMESTAMP value: a time.Time (ParseTime)
// or go-mysql's text "YYYY-MM-DD HH:MM:SS[.ffffff]", read as UTC. ok is
// false for a zero date.
func wallClock(v any) (time.Time, bool, error) {
	switch x := v.(type) {
	case time.Time:
		return x, true, nil
	case string:
		y, mo, d, us, err := parseDateTimeText(x, true)
		if err != nil {
			return time.Time{}, false, err
		}
		if mo == 0 || d == 0 {
			return time.Time{}, false, nil
		}
		t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC).Add(time.Duration(us) * time.Microsecond)
		return t, true, nil
	}
	return time.Time{}, false, fmt.Errorf("unexpected %T", v)
}

// parseDateTimeText reads "YYYY-MM-DD" and, with clock, " HH:MM:SS[.f]"
// after it, returning the clock as microseconds.
func parseDateTimeText(s string, clock bool) (y, mo, d int, micros int64, err error) {
	bad := fmt.Errorf("parse %q: want YYYY-MM-DD%s", s, map[bool]string{true: " HH:MM:SS[.ffffff]"}[clock])
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return 0, 0, 0, 0, bad
	}
	y, e1 := strconv.Atoi(s[0:4])
	mo, e2 := strconv.Atoi(s[5:7])
	d, e3 := strconv.Atoi(s[8:10])
	if e1 != nil || e2 != nil || e3 != nil {
		return 0, 0, 0, 0, bad
	}
	if mo != 0 && d != 0 && (mo > 12 || d > daysIn(y, mo)) {
		// The server stores such dates under ALLOW_INVALID_DATES; no
		// calendar date stands for them, so none is made up.
		return 0, 0, 0, 0, fmt.Errorf("invalid date %q: %d-%02d has no day %d (stored under ALLOW_INVALID_DATES)", s, y, mo, d)
	}
	rest := s[10:]
	if !clock {
		if rest != "" {
			return 0, 0, 0, 0, bad
		}
		return y, mo, d, 0, nil
	}
	if !strings.HasPrefix(rest, " ") {
		return 0, 0, 0, 0, bad
	}
	if micros, err = parseDuration(rest[1:]); err != nil || micros < 0 {
		return 0, 0, 0, 0, bad
	}
	return y, mo, d, micros, nil
}

// daysIn is the number of days of month mo (1-12) of year y.
func daysIn(y, mo int) int {
	return time.Date(y, time.Month(mo)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// parseDuration reads go-mysql's TIME text "[-]HHH:MM:SS[.ffffff]" into
// signed microseconds.
func parseDuration(s string) (int64, error) {
	body, neg := strings.CutPrefix(s, "-")
	hms, frac, _ := strings.Cut(body, ".")
	parts := strings.Split(hms, ":")
	if len(parts) != 3 || len(frac) > 6 {
		return 0, fmt.Errorf("parse time %q: want [-]HH:MM:SS[.ffffff]", s)
	}
	var f [3]int64
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil || p == "" {
			return 0, fmt.Errorf("parse time %q: want [-]HH:MM:SS[.ffffff]", s)
		}
		f[i] = int64(n)
	}
	us := (f[0]*3600 + f[1]*60 + f[2]) * 1_000_000
	if frac != "" {
		n, err := strconv.ParseUint(frac+strings.Repeat("0", 6-len(frac)), 10, 32)
		if err != nil {
			return 0, fmt.Errorf("parse time %q: bad fraction", s)
		}
		us += int64(n)
	}
	if neg {
		us = -us
	}
	return us, nil
}
