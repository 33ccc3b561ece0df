// Package compat proves that sluice writes what Debezium writes: its tests
// run Debezium's own connectors (testenv/debezium) and sluice's sources on
// the same tables and the same changes, each into topics of its own prefix,
// and compare the records — keys, envelopes and Kafka Connect schemas —
// field by field, with Diff. The differences a test allows are listed in
// the test, each with its reason.
package compat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Value is a parsed JSON value that keeps the order of its objects' keys,
// since Kafka Connect's JSON has a fixed key order too.
type Value struct {
	// Kind is 'o' (object), 'a' (array), 's' (string), 'n' (number), 'b'
	// (boolean) or 'z' (null).
	Kind  byte
	Keys  []string // object keys, in order
	Elems []*Value // object values (by Keys) or array elements
	Text  string   // string, number (as written) or boolean text
}

// Parse parses one JSON document.
func Parse(data []byte) (*Value, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	v, err := parseValue(d)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("more than one JSON value")
	}
	return v, nil
}

func parseValue(d *json.Decoder) (*Value, error) {
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch x := tok.(type) {
	case json.Delim:
		v := &Value{Kind: 'a'}
		if x == '{' {
			v.Kind = 'o'
		}
		for d.More() {
			if v.Kind == 'o' {
				k, err := d.Token()
				if err != nil {
					return nil, err
				}
				v.Keys = append(v.Keys, k.(string))
			}
			e, err := parseValue(d)
			if err != nil {
				return nil, err
			}
			v.Elems = append(v.Elems, e)
		}
		if _, err := d.Token(); err != nil {
			return nil, err
		}
		return v, nil
	case string:
		return &Value{Kind: 's', Text: x}, nil
	case json.Number:
		return &Value{Kind: 'n', Text: string(x)}, nil
	case bool:
		return &Value{Kind: 'b', Text: strconv.FormatBool(x)}, nil
	}
	return &Value{Kind: 'z'}, nil
}

// Get returns the value at a dotted path of object keys ("payload.op"), or nil.
func (v *Value) Get(path string) *Value {
	for _, k := range strings.Split(path, ".") {
		if v == nil || v.Kind != 'o' {
			return nil
		}
		var next *Value
		for i, key := range v.Keys {
			if key == k {
				next = v.Elems[i]
			}
		}
		v = next
	}
	return v
}

// String renders the value as compact JSON, keys in their order.
func (v *Value) String() string {
	if v == nil {
		return "(absent)"
	}
	switch v.Kind {
	case 'o', 'a':
		open, end := "{", "}"
		if v.Kind == 'a' {
			open, end = "[", "]"
		}
		var b strings.Builder
		b.WriteString(open)
		for i, e := range v.Elems {
			if i > 0 {
				b.WriteByte(',')
			}
			if v.Kind == 'o' {
				b.WriteString(strconv.Quote(v.Keys[i]) + ":")
			}
			b.WriteString(e.String())
		}
		b.WriteString(end)
		return b.String()
	case 's':
		return strconv.Quote(v.Text)
	case 'z':
		return "null"
	}
	return v.Text
}

// Difference is one place where two records differ.
type Difference struct {
	// Path names the place: "value.payload.after.c_int4",
	// "value.schema.fields[after].fields[c_num].parameters"; an object's
	// key order is at its own path with Order set.
	Path        string
	Want, Got   string // the two values as JSON ("(absent)" when missing)
	Order       bool   // the objects hold the same keys in another order
	Description string
}

func (d Difference) String() string {
	if d.Order {
		return fmt.Sprintf("%s: key order %s, want %s", d.Path, d.Got, d.Want)
	}
	return fmt.Sprintf("%s: got %s, want %s", d.Path, d.Got, d.Want)
}

// Diff compares got with want, walking both: objects key by key (and their
// key order), arrays element by element (a struct schema's fields named by
// their "field"), strings after mapping (applied to got's strings only:
// sluice's topic prefix to Debezium's, say), numbers by their text.
func Diff(path string, want, got *Value, mapping func(string) string) []Difference {
	var out []Difference
	diff(path, want, got, mapping, &out)
	return out
}

func diff(path string, want, got *Value, mapping func(string) string, out *[]Difference) {
	add := func() { *out = append(*out, Difference{Path: path, Want: want.String(), Got: got.String()}) }
	if want == nil || got == nil || want.Kind != got.Kind {
		if want != nil || got != nil {
			add()
		}
		return
	}
	switch want.Kind {
	case 'o':
		if slices.Equal(slices.Sorted(slices.Values(want.Keys)), slices.Sorted(slices.Values(got.Keys))) && !slices.Equal(want.Keys, got.Keys) {
			*out = append(*out, Difference{Path: path, Want: strings.Join(want.Keys, ","), Got: strings.Join(got.Keys, ","), Order: true})
		}
		seen := map[string]bool{}
		for i, k := range want.Keys {
			seen[k] = true
			diff(join(path, k), want.Elems[i], got.field(k), mapping, out)
		}
		for i, k := range got.Keys {
			if !seen[k] {
				diff(join(path, k), nil, got.Elems[i], mapping, out)
			}
		}
	case 'a':
		n := max(len(want.Elems), len(got.Elems))
		for i := 0; i < n; i++ {
			var w, g *Value
			if i < len(want.Elems) {
				w = want.Elems[i]
			}
			if i < len(got.Elems) {
				g = got.Elems[i]
			}
			diff(path+"["+elemName(w, g, i)+"]", w, g, mapping, out)
		}
	case 's':
		text := got.Text
		if mapping != nil {
			text = mapping(text)
		}
		if text != want.Text {
			add()
		}
	default:
		if want.Text != got.Text {
			add()
		}
	}
}

// field returns the value of an object's key, or nil.
func (v *Value) field(k string) *Value {
	for i, key := range v.Keys {
		if key == k {
			return v.Elems[i]
		}
	}
	return nil
}

// elemName names an array element by the "field" of a Connect struct
// field's schema when both have the same, else by its index.
func elemName(w, g *Value, i int) string {
	if w != nil && g != nil && w.Kind == 'o' && g.Kind == 'o' {
		if f, h := w.field("field"), g.field("field"); f != nil && h != nil && f.Text == h.Text {
			return f.Text
		}
	}
	return strconv.Itoa(i)
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}
