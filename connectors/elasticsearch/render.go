package elasticsearch

import (
	"fmt"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/jsontext"
)

// field is one top-level field of a document: its name and its value as
// JSON. Unavailable fields carry the source's placeholder for an unchanged
// TOASTed value and are never written; the stored value is kept instead.
type field struct {
	name        string
	raw         []byte
	unavailable bool
}

// renderRow renders a row of a struct schema as document fields, marking
// the fields that hold placeholder.
func renderRow(s *event.Schema, row event.Row, placeholder string) ([]field, error) {
	if len(row) != len(s.Fields) {
		return nil, fmt.Errorf("row has %d values for %d fields of %s", len(row), len(s.Fields), s.Name)
	}
	out := make([]field, len(row))
	for i, f := range s.Fields {
		out[i].name = f.Name
		if isPlaceholder(row[i], placeholder) {
			out[i].unavailable = true
			continue
		}
		raw, err := docStyle.AppendValue(nil, f.Schema, row[i])
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", f.Name, err)
		}
		out[i].raw = raw
	}
	return out, nil
}

// isPlaceholder reports whether v is the placeholder the Postgres source
// writes for an unchanged TOASTed value: the text, the bytes, or an array
// holding only the placeholder.
func isPlaceholder(v any, placeholder string) bool {
	if placeholder == "" {
		return false
	}
	switch x := v.(type) {
	case string:
		return x == placeholder
	case []byte:
		return string(x) == placeholder
	case []any:
		return len(x) == 1 && isPlaceholder(x[0], placeholder)
	}
	return false
}

// docStyle is how documents render values: decimals as JSON numbers with
// exactly their digits, so _source keeps the exact value, and NaN and
// infinite floats as null, which Elasticsearch's numeric fields accept.
var docStyle = jsontext.Style{}

// appendObject appends the fields as a JSON object, skipping unavailable ones.
func appendObject(dst []byte, fields []field) []byte {
	dst = append(dst, '{')
	first := true
	for _, f := range fields {
		if f.unavailable {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = jsontext.AppendString(dst, f.name)
		dst = append(dst, ':')
		dst = append(dst, f.raw...)
	}
	return append(dst, '}')
}
