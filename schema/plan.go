package schema

import (
	"errors"
	"fmt"

	"github.com/sluice-cdc/sluice/schema/event"
)

// kind is what a plan node encodes: a Connect type, with the two decimal
// representations told apart.
type kind uint8

const (
	kindBool kind = iota + 1
	kindInt8
	kindInt16
	kindInt32
	kindInt64
	kindFloat32
	kindFloat64
	kindString
	kindBytes
	kindDecimal    // bytes named Decimal: event.Decimal with the schema's scale
	kindVarDecimal // VariableScaleDecimal struct: event.Decimal with its own scale
	kindArray
	kindStruct
)

// node is one schema compiled for encoding and decoding.
type node struct {
	kind     kind
	path     string // where the value sits, for errors: "price", "tags[]", "address.city"
	want     string // the Go type the value must have, for errors
	optional bool
	nullIdx  int64 // the union branch of null, when optional
	scale    int32 // kindDecimal
	elem     *node
	fields   []*node
	minSize  int64 // fewest bytes a value's encoding takes
}

var kinds = map[event.Type]kind{
	event.Boolean: kindBool,
	event.Int8:    kindInt8,
	event.Int16:   kindInt16,
	event.Int32:   kindInt32,
	event.Int64:   kindInt64,
	event.Float32: kindFloat32,
	event.Float64: kindFloat64,
	event.String:  kindString,
	event.Bytes:   kindBytes,
	event.Array:   kindArray,
	event.Struct:  kindStruct,
}

// compile builds the plan for s; path names the value in errors.
func compile(s *event.Schema, path string) (*node, error) {
	if s == nil {
		return nil, fmt.Errorf("%s: missing schema", describe(path))
	}
	k, ok := kinds[s.Type]
	if !ok {
		return nil, fmt.Errorf("%s: unknown schema type %s", describe(path), s.Type)
	}
	n := &node{kind: k, path: path, want: goTypeName(s), optional: s.Optional, minSize: 1}
	if s.Optional && !nullFirst(s) {
		n.nullIdx = 1
	}
	var err error
	switch k {
	case kindFloat32:
		n.minSize = 4
	case kindFloat64:
		n.minSize = 8
	case kindBytes:
		if s.Name == event.DecimalName {
			n.kind = kindDecimal
			if n.scale, err = decimalScale(s); err != nil {
				return nil, fmt.Errorf("%s: %w", describe(path), err)
			}
		}
	case kindArray:
		if n.elem, err = compile(s.Elem, path+"[]"); err != nil {
			return nil, err
		}
	case kindStruct:
		if s.Name == event.VariableDecimalName {
			if err := checkVariableDecimal(s); err != nil {
				return nil, fmt.Errorf("%s: %w", describe(path), err)
			}
			n.kind, n.minSize = kindVarDecimal, 2
			break
		}
		n.minSize = 0
		n.fields = make([]*node, len(s.Fields))
		for i, f := range s.Fields {
			p := f.Name
			if path != "" {
				p = path + "." + f.Name
			}
			if n.fields[i], err = compile(f.Schema, p); err != nil {
				return nil, err
			}
			n.minSize += n.fields[i].minSize
		}
	}
	if n.optional {
		n.minSize = 1
	}
	return n, nil
}

// checkVariableDecimal checks that a VariableScaleDecimal struct has
// Debezium's fields: scale int32, value bytes.
func checkVariableDecimal(s *event.Schema) error {
	if len(s.Fields) == 2 && s.Fields[0].Name == "scale" && s.Fields[1].Name == "value" &&
		s.Fields[0].Schema != nil && s.Fields[0].Schema.Type == event.Int32 && !s.Fields[0].Schema.Optional &&
		s.Fields[1].Schema != nil && s.Fields[1].Schema.Type == event.Bytes && !s.Fields[1].Schema.Optional {
		return nil
	}
	return errors.New("a VariableScaleDecimal struct must have the fields scale (int32) and value (bytes)")
}

// describe names a value for errors.
func describe(path string) string {
	if path == "" {
		return "value"
	}
	return fmt.Sprintf("field %q", path)
}
