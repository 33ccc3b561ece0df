package sse

import (
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/jsontext"
)

// dataStyle is how event data renders values (see the package
// documentation): decimals and non-finite floats as strings, which
// JavaScript reads without loss.
var dataStyle = jsontext.Style{DecimalStrings: true, NonFiniteStrings: true}

// appendJSON appends v, a value decoded for schema s, as JSON. A value that
// does not match its schema, which the decoder never produces, is null.
func appendJSON(dst []byte, s *event.Schema, v any) []byte {
	out, err := dataStyle.AppendValue(dst, s, v)
	if err != nil {
		return append(dst, "null"...)
	}
	return out
}

// fieldText renders a value for comparison with a where condition: its
// JSON rendering, without the quotes of strings.
func fieldText(s *event.Schema, v any) string {
	switch x := v.(type) {
	case string:
		return x
	case event.Decimal:
		return x.String()
	}
	b := appendJSON(nil, s, v)
	if len(b) >= 2 && b[0] == '"' {
		return string(b[1 : len(b)-1])
	}
	return string(b)
}
