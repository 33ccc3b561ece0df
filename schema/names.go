package schema

import "strings"

// AvroName turns name into a valid Avro full name the way Debezium's Avro
// schema name adjuster does: every character that is not a letter, a digit,
// '_' or the '.' separating namespace parts becomes '_', and so does a digit
// that would start the name. It goes one step further than Debezium so the
// result is always valid Avro: a digit that starts any dot-separated part
// becomes '_' too, and an empty part becomes "_".
func AvroName(name string) string {
	if name == "" {
		return "_"
	}
	var b strings.Builder
	b.Grow(len(name))
	start := true // at the start of a dot-separated part
	for _, c := range name {
		switch {
		case c == '.':
			if start {
				b.WriteByte('_')
			}
			b.WriteByte('.')
			start = true
			continue
		case isNameStart(c), !start && c >= '0' && c <= '9':
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
		start = false
	}
	if start {
		b.WriteByte('_')
	}
	return b.String()
}

// FieldName turns name into a valid Avro field name: like AvroName, but a
// '.' is replaced too since field names have no namespace.
func FieldName(name string) string {
	return AvroName(strings.ReplaceAll(name, ".", "_"))
}

func isNameStart(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

// splitName splits a full name into its namespace and simple name.
func splitName(full string) (namespace, name string) {
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		return full[:i], full[i+1:]
	}
	return "", full
}
