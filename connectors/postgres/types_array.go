package postgres

import (
	"fmt"
	"strings"
)

// arrayElem is one element of a parsed array literal: its text, or null.
type arrayElem struct {
	text string
	null bool
}

// parseArray parses Postgres's text form of an array ("{1,2,NULL}",
// `{"a b","c\"d"}`, "{{1,2},{3,4}}", "[0:1]={7,8}") into its elements in
// row-major order; nested dimensions are flattened. delim is the element
// type's typdelim. Unquoted NULL (any case) is null; quoted "NULL" is the text.
func parseArray(s string, delim byte) ([]arrayElem, error) {
	in := s
	if strings.HasPrefix(s, "[") {
		// Explicit bounds: "[1:2][3:4]={...}".
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			return nil, fmt.Errorf("parse array %q: bounds without '='", truncate(in))
		}
		s = s[eq+1:]
	}
	p := arrayParser{s: s, delim: delim}
	p.skipSpace()
	if err := p.parseDim(); err != nil {
		return nil, fmt.Errorf("parse array %q: %w", truncate(in), err)
	}
	p.skipSpace()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("parse array %q: unexpected %q after the closing brace", truncate(in), p.s[p.i:])
	}
	return p.out, nil
}

type arrayParser struct {
	s     string
	i     int
	delim byte
	out   []arrayElem
	depth int
}

func (p *arrayParser) skipSpace() {
	for p.i < len(p.s) && isArraySpace(p.s[p.i]) {
		p.i++
	}
}

func isArraySpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// parseDim parses "{ item (delim item)* }" where an item is a nested
// dimension, a quoted string or an unquoted string.
func (p *arrayParser) parseDim() error {
	if p.i >= len(p.s) || p.s[p.i] != '{' {
		return fmt.Errorf("expected '{' at offset %d", p.i)
	}
	if p.depth++; p.depth > 6 {
		return fmt.Errorf("more than 6 dimensions")
	}
	defer func() { p.depth-- }()
	p.i++
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return nil
	}
	for {
		p.skipSpace()
		if p.i >= len(p.s) {
			return fmt.Errorf("unterminated array")
		}
		var err error
		switch p.s[p.i] {
		case '{':
			err = p.parseDim()
		case '"':
			err = p.parseQuoted()
		default:
			err = p.parseUnquoted()
		}
		if err != nil {
			return err
		}
		p.skipSpace()
		if p.i >= len(p.s) {
			return fmt.Errorf("unterminated array")
		}
		switch c := p.s[p.i]; {
		case c == p.delim:
			p.i++
		case c == '}':
			p.i++
			return nil
		default:
			return fmt.Errorf("unexpected %q at offset %d", c, p.i)
		}
	}
}

func (p *arrayParser) parseQuoted() error {
	p.i++ // opening quote
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch c {
		case '\\':
			if p.i+1 >= len(p.s) {
				return fmt.Errorf("dangling backslash")
			}
			b.WriteByte(p.s[p.i+1])
			p.i += 2
		case '"':
			p.i++
			p.out = append(p.out, arrayElem{text: b.String()})
			return nil
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	return fmt.Errorf("unterminated quoted element")
}

func (p *arrayParser) parseUnquoted() error {
	var b strings.Builder
	escaped := false // an escaped character makes "NULL" a string
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == p.delim || c == '}' {
			break
		}
		switch c {
		case '{', '"':
			return fmt.Errorf("unexpected %q at offset %d", c, p.i)
		case '\\':
			if p.i+1 >= len(p.s) {
				return fmt.Errorf("dangling backslash")
			}
			b.WriteByte(p.s[p.i+1])
			escaped = true
			p.i += 2
			continue
		}
		b.WriteByte(c)
		p.i++
	}
	text := strings.TrimRightFunc(b.String(), func(r rune) bool { return r < 0x80 && isArraySpace(byte(r)) })
	if text == "" {
		return fmt.Errorf("empty element at offset %d", p.i)
	}
	p.out = append(p.out, arrayElem{text: text, null: !escaped && strings.EqualFold(text, "NULL")})
	return nil
}

// truncate shortens a value quoted in an error message.
func truncate(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
