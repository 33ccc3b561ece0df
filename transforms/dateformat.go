package transforms

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// dateFormat is the subset of java.text.SimpleDateFormat that
// TimestampRouter and TimestampConverter accept, always in UTC and in
// English as Kafka Connect uses it on an English JVM: y (yyyy, yy), M (MM;
// MMM and MMMM are the month's short and full name), d, H (0-23), k
// (1-24), h (1-12) and K (0-11) with a (AM or PM), m, s, S (milliseconds),
// E (EEE the day's short name, EEEE its full name), X and Z (the zone:
// always UTC when formatting), 'quoted literals' and any other character
// that is not a letter as itself. Go's time layouts are not used, so
// literal digits in a pattern stay literal.
type dateFormat struct {
	pattern string
	tokens  []dateToken
}

type dateToken struct {
	letter byte // 0 for a literal
	width  int
	lit    string
}

const dateLetters = "yMdHkhKmsSEaXZ"

// parseDateFormat compiles a SimpleDateFormat pattern, or says which part
// of it sluice does not support.
func parseDateFormat(p string) (*dateFormat, error) {
	f := &dateFormat{pattern: p}
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\'':
			if i+1 < len(p) && p[i+1] == '\'' {
				f.lit("'")
				i += 2
				continue
			}
			end := strings.IndexByte(p[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("invalid date format %q: unterminated quote", p)
			}
			f.lit(p[i+1 : i+1+end])
			i += end + 2
		case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
			j := i
			for j < len(p) && p[j] == c {
				j++
			}
			if !strings.ContainsRune(dateLetters, rune(c)) {
				return nil, fmt.Errorf("invalid date format %q: pattern %q is not supported; sluice supports y, M, d, H, k, h, K, a, m, s, S, E, X, Z and 'quoted text'", p, p[i:j])
			}
			f.tokens = append(f.tokens, dateToken{letter: c, width: j - i})
			i = j
		default:
			f.lit(string(c))
			i++
		}
	}
	return f, nil
}

// text reports whether the token is a name (of a month, a day, AM or PM)
// rather than a number.
func (tk dateToken) text() bool {
	return tk.letter == 'E' || tk.letter == 'a' || tk.letter == 'M' && tk.width >= 3
}

// name is a month's or a day's name: the full one for 4 pattern letters
// or more, else the short one.
func name(full string, width int) string {
	if width >= 4 {
		return full
	}
	return full[:3]
}

func (f *dateFormat) lit(s string) {
	if n := len(f.tokens); n > 0 && f.tokens[n-1].letter == 0 {
		f.tokens[n-1].lit += s
		return
	}
	f.tokens = append(f.tokens, dateToken{lit: s})
}

// format renders Unix milliseconds in UTC.
func (f *dateFormat) format(ms int64) string {
	t := time.UnixMilli(ms).UTC()
	var b strings.Builder
	pad := func(n, width int) {
		s := strconv.Itoa(n)
		for i := len(s); i < width; i++ {
			b.WriteByte('0')
		}
		b.WriteString(s)
	}
	for _, tk := range f.tokens {
		switch tk.letter {
		case 0:
			b.WriteString(tk.lit)
		case 'y':
			if tk.width == 2 {
				pad(t.Year()%100, 2)
			} else {
				pad(t.Year(), tk.width)
			}
		case 'M':
			if tk.text() {
				b.WriteString(name(t.Month().String(), tk.width))
			} else {
				pad(int(t.Month()), tk.width)
			}
		case 'd':
			pad(t.Day(), tk.width)
		case 'E':
			b.WriteString(name(t.Weekday().String(), tk.width))
		case 'H':
			pad(t.Hour(), tk.width)
		case 'k':
			pad((t.Hour()+23)%24+1, tk.width)
		case 'h':
			pad((t.Hour()+11)%12+1, tk.width)
		case 'K':
			pad(t.Hour()%12, tk.width)
		case 'a':
			if t.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case 'm':
			pad(t.Minute(), tk.width)
		case 's':
			pad(t.Second(), tk.width)
		case 'S':
			pad(t.Nanosecond()/1e6, tk.width)
		case 'X':
			b.WriteByte('Z')
		case 'Z':
			b.WriteString("+0000")
		}
	}
	return b.String()
}

// parse reads a time written in the format, as UTC unless the text has a
// zone, into Unix milliseconds. A number adjacent to the next number has
// exactly its pattern's width; otherwise it takes every digit there is.
// Names are matched in any case, full or short; a day's name is read and
// ignored. Out-of-range fields roll over, as SimpleDateFormat's lenient
// parsing does.
func (f *dateFormat) parse(s string) (int64, error) {
	fail := func() (int64, error) {
		return 0, fmt.Errorf("could not parse timestamp: value (%s) does not match pattern (%s)", s, f.pattern)
	}
	year, month, day := 1970, 1, 1
	var hour, minute, sec, milli, offset int
	hour12, pm := -1, false // h or K, and a
	pos := 0
	for i, tk := range f.tokens {
		switch tk.letter {
		case 0:
			if !strings.HasPrefix(s[pos:], tk.lit) {
				return fail()
			}
			pos += len(tk.lit)
			continue
		case 'X', 'Z':
			n, ok := parseZone(s[pos:])
			if n == 0 {
				return fail()
			}
			offset = ok
			pos += n
			continue
		}
		if tk.text() {
			var names []string
			switch tk.letter {
			case 'M':
				for m := time.January; m <= time.December; m++ {
					names = append(names, m.String())
				}
			case 'E':
				for d := time.Sunday; d <= time.Saturday; d++ {
					names = append(names, d.String())
				}
			default:
				names = []string{"AM", "PM"}
			}
			which, n := matchName(s[pos:], names)
			if n == 0 {
				return fail()
			}
			switch tk.letter {
			case 'M':
				month = which + 1
			case 'a':
				pm = which == 1
			}
			pos += n
			continue
		}
		maxDigits := len(s) - pos
		if i+1 < len(f.tokens) && f.tokens[i+1].letter != 0 && !f.tokens[i+1].text() && f.tokens[i+1].letter != 'X' && f.tokens[i+1].letter != 'Z' {
			maxDigits = tk.width
		}
		j := pos
		for j < len(s) && j-pos < maxDigits && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == pos {
			return fail()
		}
		n, err := strconv.Atoi(s[pos:j])
		if err != nil {
			return fail()
		}
		switch tk.letter {
		case 'y':
			if tk.width <= 2 && j-pos == 2 {
				n = twoDigitYear(n)
			}
			year = n
		case 'M':
			month = n
		case 'd':
			day = n
		case 'H':
			hour, hour12 = n, -1
		case 'k':
			hour, hour12 = n%24, -1
		case 'h':
			hour12 = n % 12
		case 'K':
			hour12 = n
		case 'm':
			minute = n
		case 's':
			sec = n
		case 'S':
			milli = n
		}
		pos = j
	}
	if hour12 >= 0 {
		hour = hour12
		if pm {
			hour += 12
		}
	}
	// Like SimpleDateFormat.parse(String), what follows a match is ignored.
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	return t.UnixMilli() + int64(milli) - int64(offset)*1000, nil
}

// matchName returns which of names (full names; their first three letters
// are the short ones) s starts with, in any case, and how long the match
// is: the longest one, 0 for none.
func matchName(s string, names []string) (int, int) {
	which, longest := -1, 0
	for i, n := range names {
		for _, cand := range []string{n, n[:min(3, len(n))]} {
			if len(cand) > longest && len(s) >= len(cand) && strings.EqualFold(s[:len(cand)], cand) {
				which, longest = i, len(cand)
			}
		}
	}
	return which, longest
}

// twoDigitYear places a two-digit year within 80 years before and 20 after
// now, as SimpleDateFormat does.
func twoDigitYear(yy int) int {
	now := time.Now().UTC().Year()
	y := now/100*100 + yy
	if y > now+20 {
		y -= 100
	} else if y <= now-80 {
		y += 100
	}
	return y
}

// parseZone reads "Z", "+hh", "+hhmm" or "+hh:mm" and returns how many bytes
// it read (0: none) and the offset in seconds east of UTC.
func parseZone(s string) (int, int) {
	if strings.HasPrefix(s, "Z") {
		return 1, 0
	}
	if len(s) < 3 || (s[0] != '+' && s[0] != '-') {
		return 0, 0
	}
	h, err := strconv.Atoi(s[1:3])
	if err != nil {
		return 0, 0
	}
	n, m := 3, 0
	rest := s[3:]
	if strings.HasPrefix(rest, ":") {
		rest, n = rest[1:], n+1
	}
	if len(rest) >= 2 {
		if mm, err := strconv.Atoi(rest[:2]); err == nil {
			m, n = mm, n+2
		}
	}
	off := h*3600 + m*60
	if s[0] == '-' {
		off = -off
	}
	return n, off
}
