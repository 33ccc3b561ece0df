package postgres

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-cdc/sluice/schema/logical"
)

// The values Debezium emits for Postgres's infinite dates and timestamps:
// the pgjdbc sentinels it converts them to. Dates become the epoch day of
// -5877611-06-21 (+infinity) and -5877611-06-22 (-infinity); timestamps
// without time zone become these microsecond counts (divided by 1000, rounded
// down, for millisecond types); timestamps with time zone become the strings
// "infinity" and "-infinity".
const (
	dateInfinityDays          = -2147472692
	dateMinusInfinityDays     = -2147472691
	timestampInfinityMicros   = 9223372036825200000
	timestampMinusInfinityMic = -9223372036832400000
)

// Text forms of the infinite values.
const (
	textInfinity      = "infinity"
	textMinusInfinity = "-infinity"
)

// parseDate reads date output under DateStyle ISO ("2024-02-29",
// "0044-03-15 BC", "10000-01-01") into days since 1970-01-01.
func parseDate(s string) (int64, error) {
	body, bc := cutBC(s)
	y, m, d, rest, err := parseYMD(body)
	if err != nil || rest != "" {
		return 0, fmt.Errorf("parse date %q: want YYYY-MM-DD", s)
	}
	if bc {
		y = 1 - y
	}
	return logical.EpochDays(y, m, d), nil
}

// parseTimestamptz reads timestamptz output under DateStyle ISO
// ("2024-02-29 10:11:12.123456+05:30") into an instant.
func parseTimestamptz(s string) (time.Time, error) {
	return parseDateTime(s, true)
}

// parseDateTime reads timestamp (zoned false, the wall clock read as UTC)
// or timestamptz output under DateStyle ISO into an instant.
func parseDateTime(s string, zoned bool) (time.Time, error) {
	what := "timestamp"
	if zoned {
		what = "timestamptz"
	}
	body, bc := cutBC(s)
	y, mo, d, rest, err := parseYMD(body)
	if err != nil || !strings.HasPrefix(rest, " ") {
		return time.Time{}, fmt.Errorf("parse %s %q: want YYYY-MM-DD HH:MM:SS", what, s)
	}
	micros, rest, err := parseClock(rest[1:])
	if err != nil {
		return time.Time{}, fmt.Errorf("parse %s %q: %w", what, s, err)
	}
	offset := 0
	if zoned {
		if offset, err = parseOffset(rest); err != nil {
			return time.Time{}, fmt.Errorf("parse %s %q: %w", what, s, err)
		}
	} else if rest != "" {
		return time.Time{}, fmt.Errorf("parse %s %q: unexpected %q", what, s, rest)
	}
	if bc {
		y = 1 - y
	}
	t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC)
	t = t.Add(time.Duration(micros) * time.Microsecond).Add(-time.Duration(offset) * time.Second)
	return t, nil
}

// parseTime reads time output ("10:11:12.123456", "24:00:00") into
// microseconds since midnight.
func parseTime(s string) (int64, error) {
	micros, rest, err := parseClock(s)
	if err == nil && rest != "" {
		err = fmt.Errorf("unexpected %q", rest)
	}
	if err != nil {
		return 0, fmt.Errorf("parse time %q: %w", s, err)
	}
	return micros, nil
}

// parseTimetz reads timetz output ("10:11:12.5+05:30") into microseconds
// since midnight and the UTC offset in seconds.
func parseTimetz(s string) (int64, int, error) {
	micros, rest, err := parseClock(s)
	if err != nil {
		return 0, 0, fmt.Errorf("parse timetz %q: %w", s, err)
	}
	off, err := parseOffset(rest)
	if err != nil {
		return 0, 0, fmt.Errorf("parse timetz %q: %w", s, err)
	}
	return micros, off, nil
}

func cutBC(s string) (string, bool) {
	if body, ok := strings.CutSuffix(s, " BC"); ok {
		return body, true
	}
	return s, false
}

// parseYMD reads "Y+-MM-DD" and returns what follows.
func parseYMD(s string) (y, m, d int, rest string, err error) {
	dash := strings.IndexByte(s, '-')
	if dash < 1 || len(s) < dash+6 || s[dash+3] != '-' {
		return 0, 0, 0, "", fmt.Errorf("bad date")
	}
	if y, err = atoiDigits(s[:dash]); err != nil {
		return
	}
	if m, err = atoiDigits(s[dash+1 : dash+3]); err != nil {
		return
	}
	if d, err = atoiDigits(s[dash+4 : dash+6]); err != nil {
		return
	}
	return y, m, d, s[dash+6:], nil
}

// parseClock reads "HH:MM:SS[.ffffff]" (hours may exceed 23) and returns
// microseconds and what follows.
func parseClock(s string) (int64, string, error) {
	if len(s) < 8 || s[2] != ':' || s[5] != ':' {
		return 0, "", fmt.Errorf("want HH:MM:SS")
	}
	h, err1 := atoiDigits(s[0:2])
	mi, err2 := atoiDigits(s[3:5])
	se, err3 := atoiDigits(s[6:8])
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, "", fmt.Errorf("want HH:MM:SS")
	}
	micros := (int64(h)*3600 + int64(mi)*60 + int64(se)) * 1_000_000
	rest := s[8:]
	if strings.HasPrefix(rest, ".") {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		frac := rest[1:i]
		if frac == "" || len(frac) > 6 {
			return 0, "", fmt.Errorf("bad fractional seconds %q", frac)
		}
		f, _ := strconv.Atoi(frac + strings.Repeat("0", 6-len(frac)))
		micros += int64(f)
		rest = rest[i:]
	}
	return micros, rest, nil
}

// parseOffset reads a UTC offset "+HH", "+HH:MM" or "+HH:MM:SS" into seconds.
func parseOffset(s string) (int, error) {
	if len(s) < 3 || (s[0] != '+' && s[0] != '-') {
		return 0, fmt.Errorf("want a UTC offset, got %q", s)
	}
	parts := strings.Split(s[1:], ":")
	if len(parts) > 3 {
		return 0, fmt.Errorf("bad UTC offset %q", s)
	}
	secs := 0
	for i, p := range parts {
		if len(p) != 2 {
			return 0, fmt.Errorf("bad UTC offset %q", s)
		}
		v, err := atoiDigits(p)
		if err != nil {
			return 0, fmt.Errorf("bad UTC offset %q", s)
		}
		secs += v * []int{3600, 60, 1}[i]
	}
	if s[0] == '-' {
		secs = -secs
	}
	return secs, nil
}

// parseInterval reads interval output under IntervalStyle postgres
// ("1 year 2 mons -3 days +04:05:06.78", "-00:00:00.5") into months, days
// and microseconds, the three fields Postgres stores.
func parseInterval(s string) (months, days, micros int64, err error) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return 0, 0, 0, fmt.Errorf("parse interval %q: empty", s)
	}
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		if strings.Contains(f, ":") {
			neg := strings.HasPrefix(f, "-")
			clock := strings.TrimLeft(f, "+-")
			colon := strings.IndexByte(clock, ':')
			// Hours reach 2562047788 (the int64 microseconds Postgres keeps).
			h, herr := strconv.ParseUint(clock[:colon], 10, 63)
			us, rest, cerr := parseClock("00" + clock[colon:])
			if herr != nil || cerr != nil || rest != "" || h > (math.MaxInt64-uint64(us))/3_600_000_000 {
				return 0, 0, 0, fmt.Errorf("parse interval %q: bad time %q", s, f)
			}
			v := int64(h)*3_600_000_000 + us
			if neg {
				v = -v
			}
			micros += v
			continue
		}
		n, perr := strconv.ParseInt(f, 10, 64)
		if perr != nil || i+1 >= len(fields) {
			return 0, 0, 0, fmt.Errorf("parse interval %q: bad field %q", s, f)
		}
		i++
		switch fields[i] {
		case "year", "years":
			months += n * 12
		case "mon", "mons":
			months += n
		case "day", "days":
			days += n
		default:
			return 0, 0, 0, fmt.Errorf("parse interval %q: unknown unit %q (IntervalStyle must be postgres)", s, fields[i])
		}
	}
	return months, days, micros, nil
}

func atoiDigits(s string) (int, error) {
	if s == "" {
		return 0, fmt.Errorf("empty number")
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' || n > 1e8 {
			return 0, fmt.Errorf("bad number %q", s)
		}
		n = n*10 + int(c-'0')
	}
	return n, nil
}
