package embedded

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"

	"github.com/hamba/avro/v2"
)

// Avro writes a bytes or fixed value in JSON (a field default) as a string of code points
// 0-255, one a byte. hamba/avro parses such a default into []byte or [N]byte and marshals it
// back as base64 or as an array of numbers, so its text of the schema would carry another
// default (bytes) or not parse at all (fixed).

// fixByteDefaults rewrites, in text (s as hamba/avro marshals it), each field default that
// holds bytes or fixed values in Avro's form. Every other byte of text is left as it is, so
// the normalized text of a schema without such defaults does not change.
func fixByteDefaults(s avro.Schema, text []byte) ([]byte, error) {
	root, err := scanJSON(text)
	if err != nil {
		return nil, err
	}
	var edits []jsonEdit
	if err := collectByteDefaults(s, root, &edits); err != nil {
		return nil, err
	}
	// Edits do not overlap: apply them from the end of the text.
	slices.SortFunc(edits, func(a, b jsonEdit) int { return b.at.start - a.at.start })
	for _, e := range edits {
		text = slices.Concat(text[:e.at.start], e.with, text[e.at.end:])
	}
	return text, nil
}

// jsonEdit replaces the value at a span of a text.
type jsonEdit struct {
	at   *jsonSpan
	with []byte
}

// collectByteDefaults walks v, the JSON of schema s, and adds an edit for each field default
// that avroJSON changes. A named type is defined where it first appears; elsewhere it is a
// name, which has nothing to walk.
func collectByteDefaults(s avro.Schema, v *jsonSpan, edits *[]jsonEdit) error {
	switch s := s.(type) {
	case *avro.RecordSchema:
		fields := v.member("fields")
		if fields == nil || len(fields.items) != len(s.Fields()) {
			return fmt.Errorf("record %s: the fields of its JSON do not match the schema", s.FullName())
		}
		for i, f := range s.Fields() {
			if err := collectByteDefaults(f.Type(), fields.items[i].member("type"), edits); err != nil {
				return err
			}
			if !f.HasDefault() {
				continue
			}
			def, changed := avroJSON(f.Type(), f.Default())
			if !changed {
				continue
			}
			at := fields.items[i].member("default")
			if at == nil {
				return fmt.Errorf("record %s: field %s has a default its JSON lacks", s.FullName(), f.Name())
			}
			b, err := json.Marshal(def) // escaped as the rest of the text is (json.Marshal in parseAvro)
			if err != nil {
				return fmt.Errorf("record %s: encode the default of field %s: %w", s.FullName(), f.Name(), err)
			}
			*edits = append(*edits, jsonEdit{at: at, with: b})
		}
	case *avro.ArraySchema:
		return collectByteDefaults(s.Items(), v.member("items"), edits)
	case *avro.MapSchema:
		return collectByteDefaults(s.Values(), v.member("values"), edits)
	case *avro.UnionSchema:
		if v == nil || len(v.items) != len(s.Types()) {
			return fmt.Errorf("union %s: its JSON does not match the schema", s.String())
		}
		for i, t := range s.Types() {
			if err := collectByteDefaults(t, v.items[i], edits); err != nil {
				return err
			}
		}
	}
	return nil
}

// avroJSON returns v, a value of schema s as hamba/avro holds a parsed default, in the form
// Avro gives it in JSON, and whether that differs from v: bytes and fixed values become
// strings of code points 0-255; other values are kept.
func avroJSON(s avro.Schema, v any) (any, bool) {
	switch s := s.(type) {
	case *avro.RefSchema:
		return avroJSON(s.Schema(), v)
	case *avro.PrimitiveSchema:
		if b, ok := v.([]byte); ok && s.Type() == avro.Bytes {
			return codePoints(b), true
		}
	case *avro.FixedSchema:
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Array { // [size]byte
			b := make([]byte, rv.Len())
			reflect.Copy(reflect.ValueOf(b), rv)
			return codePoints(b), true
		}
	case *avro.UnionSchema:
		// A union's default is a value of its first type.
		return avroJSON(s.Types()[0], v)
	case *avro.ArraySchema:
		items, ok := v.([]any)
		if !ok {
			break
		}
		out, changed := make([]any, len(items)), false
		for i, item := range items {
			var c bool
			out[i], c = avroJSON(s.Items(), item)
			changed = changed || c
		}
		return out, changed
	case *avro.MapSchema:
		if values, ok := v.(map[string]any); ok {
			return avroJSONMembers(values, func(string) avro.Schema { return s.Values() })
		}
	case *avro.RecordSchema:
		if values, ok := v.(map[string]any); ok {
			return avroJSONMembers(values, func(name string) avro.Schema {
				if f := fieldNamed(s, name); f != nil {
					return f.Type()
				}
				return nil
			})
		}
	}
	return v, false
}

// avroJSONMembers converts the members of a map or record value with avroJSON, each with the
// schema schemaOf gives its name (nil: the member is kept as it is).
func avroJSONMembers(values map[string]any, schemaOf func(name string) avro.Schema) (map[string]any, bool) {
	out, changed := make(map[string]any, len(values)), false
	for k, value := range values {
		out[k] = value
		if s := schemaOf(k); s != nil {
			var c bool
			out[k], c = avroJSON(s, value)
			changed = changed || c
		}
	}
	return out, changed
}

func fieldNamed(s *avro.RecordSchema, name string) *avro.Field {
	for _, f := range s.Fields() {
		if f.Name() == name {
			return f
		}
	}
	return nil
}

// codePoints is b as Avro writes bytes in JSON: one code point 0-255 a byte.
func codePoints(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// jsonSpan is where a JSON value is in a text, with the members of an object or the items
// of an array.
type jsonSpan struct {
	start, end int
	members    map[string]*jsonSpan
	items      []*jsonSpan
}

// member returns the value of an object's member, or nil.
func (v *jsonSpan) member(name string) *jsonSpan {
	if v == nil {
		return nil
	}
	return v.members[name]
}

// scanJSON finds where each value of a JSON text is.
func scanJSON(text []byte) (*jsonSpan, error) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	return scanValue(dec, text)
}

func scanValue(dec *json.Decoder, text []byte) (*jsonSpan, error) {
	// The decoder's offset is the end of the last token; the separator before this value
	// and any space are read with the value's first token.
	start := int(dec.InputOffset())
	for start < len(text) && bytes.IndexByte([]byte(",: \t\r\n"), text[start]) >= 0 {
		start++
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	v := &jsonSpan{start: start}
	switch tok {
	case json.Delim('{'):
		v.members = map[string]*jsonSpan{}
		for dec.More() {
			key, err := dec.Token()
			if err != nil {
				return nil, err
			}
			if v.members[key.(string)], err = scanValue(dec, text); err != nil {
				return nil, err
			}
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
	case json.Delim('['):
		for dec.More() {
			item, err := scanValue(dec, text)
			if err != nil {
				return nil, err
			}
			v.items = append(v.items, item)
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
	}
	v.end = int(dec.InputOffset())
	return v, nil
}
