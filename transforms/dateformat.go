package transforms

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// dateFormat is the subset of java.text.SimpleDateFormat that
// TimestampRouter and TimestampConverter accept, always in UTC as Kafka
// Connect uses it: y (yyyy, yy), M (MM), d, H, m, s, S (milliseconds),
// X and Z (the zone: always UTC when formatting), 'quoted literals' and
// any other character that is not a letter as itself. Go's time layouts
// are not used, so literal digits in a pattern stay literal.
type dateFormat struct {
	pattern string
	tokens  []dateToken
}

type dateToken struct {
	letter byte // 0 for a literal
	width  int
	lit    string
}

const dateLetters = "yMdHmsSXZ"

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
			if !strings.ContainsRune(dateLetters, rune(c)) || (c == 'M' && j-i > 2) {
				return nil, fmt.Errorf("invalid date format %q: pattern %q is not supported; sluice supports y, M, MM, d, H, m, s, S, X, Z and 'quoted text'", p, p[i:j])
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
			pad(int(t.Month()), tk.width)
		case 'd':
			pad(t.Day(), tk.width)
		case 'H':
			pad(t.Hour(), tk.width)
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
// Out-of-range fields roll over, as SimpleDateFormat's lenient parsing does.
func (f *dateFormat) parse(s string) (int64, error) {
	fail := func() (int64, error) {
		return 0, fmt.Errorf("could not parse timestamp: value (%s) does not match pattern (%s)", s, f.pattern)
	}
	year, month, day := 1970, 1, 1
	var hour, minute, sec, milli, offset int
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
		maxDigits := len(s) - pos
		if i+1 < len(f.tokens) && f.tokens[i+1].letter != 0 && f.tokens[i+1].letter != 'X' && f.tokens[i+1].letter != 'Z' {
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
			hour = n
		case 'm':
			minute = n
		case 's':
			sec = n
		case 'S':
			milli = n
		}
		pos = j
	}
	// Like SimpleDateFormat.parse(String), what follows a match is ignored.
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	return t.UnixMilli() + int64(milli) - int64(offset)*1000, nil
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
