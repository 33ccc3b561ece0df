package mysql

import (
	"strconv"
	"strings"
)

// defaultValue is a column's default in the Go form its schema takes, as
// Debezium puts it in the schema: the value of a literal default (a
// number, or a quoted string the column converts as it converts its
// values). NULL, expressions (CURRENT_TIMESTAMP, functions) and literals the
// column does not convert give nil: no default. A NOT NULL column added
// with a default then keeps the new schema compatible with the old one in
// the registry, as it is with Debezium.
func defaultValue(ct *ColumnType, expr string) any {
	expr = strings.TrimSpace(expr)
	var candidates []any
	switch {
	case strings.EqualFold(expr, "NULL") || expr == "":
		return nil
	case len(expr) >= 2 && expr[0] == '\'' && expr[len(expr)-1] == '\'':
		s, ok := unquoteSQL(expr[1 : len(expr)-1])
		if !ok {
			return nil
		}
		candidates = append(candidates, s)
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			candidates = append(candidates, n)
		}
	default:
		if n, err := strconv.ParseInt(expr, 10, 64); err == nil {
			candidates = append(candidates, n)
		} else if u, err := strconv.ParseUint(expr, 10, 64); err == nil {
			candidates = append(candidates, u)
		}
		if f, err := strconv.ParseFloat(expr, 64); err == nil {
			candidates = append(candidates, expr, f)
		}
	}
	for _, c := range candidates {
		if v, err := ct.Value(c); err == nil && v != nil {
			return v
		}
	}
	return nil
}

// unquoteSQL undoes the quoting inside a single-quoted SQL string: a
// doubled quote and backslash escapes.
func unquoteSQL(s string) (string, bool) {
	if !strings.ContainsAny(s, `'\`) {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'' && i+1 < len(s) && s[i+1] == '\'':
			b.WriteByte('\'')
			i++
		case c == '\\' && i+1 < len(s):
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '0':
				b.WriteByte(0)
			default:
				b.WriteByte(s[i])
			}
		case c == '\'':
			return "", false
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}
