package schema

import (
	"bytes"
	"fmt"
	"math"
	"math/big"
	"reflect"

	"github.com/sluice-cdc/sluice/schema/event"
)

// sameValue reports whether two values in the Go form a Row holds are equal:
// same Go types, decimals equal in digits and scale, floats equal bit for
// bit (so NaN equals NaN), bytes equal and both nil or both not.
func sameValue(a, b any) bool {
	if reflect.TypeOf(a) != reflect.TypeOf(b) {
		return false
	}
	switch x := a.(type) {
	case event.Decimal:
		return x.Equal(b.(event.Decimal))
	case float32:
		return math.Float32bits(x) == math.Float32bits(b.(float32))
	case float64:
		return math.Float64bits(x) == math.Float64bits(b.(float64))
	case []byte:
		y := b.([]byte)
		return (x == nil) == (y == nil) && bytes.Equal(x, y)
	case []any:
		return sameList(x, b.([]any))
	case event.Row:
		return sameList(x, b.(event.Row))
	}
	return reflect.DeepEqual(a, b)
}

func sameList(x, y []any) bool {
	if len(x) != len(y) || (x == nil) != (y == nil) {
		return false
	}
	for i := range x {
		if !sameValue(x[i], y[i]) {
			return false
		}
	}
	return true
}

// sameSchema compares schemas field by field, defaults with sameValue.
func sameSchema(a, b *event.Schema) error {
	if (a == nil) != (b == nil) {
		return fmt.Errorf("one schema is nil: %v / %v", a, b)
	}
	if a == nil {
		return nil
	}
	if a.Type != b.Type || a.Optional != b.Optional || a.Name != b.Name || a.Version != b.Version || a.Doc != b.Doc {
		return fmt.Errorf("schemas differ: %+v / %+v", *a, *b)
	}
	if len(a.Params) != len(b.Params) || len(a.Params) > 0 && !reflect.DeepEqual(a.Params, b.Params) {
		return fmt.Errorf("%s: params differ: %v / %v", a.Name, a.Params, b.Params)
	}
	if !sameValue(a.Default, b.Default) {
		return fmt.Errorf("%s: defaults differ: %#v / %#v", a.Name, a.Default, b.Default)
	}
	if err := sameSchema(a.Elem, b.Elem); err != nil {
		return fmt.Errorf("element: %w", err)
	}
	if len(a.Fields) != len(b.Fields) {
		return fmt.Errorf("%s: %d fields / %d fields", a.Name, len(a.Fields), len(b.Fields))
	}
	for i := range a.Fields {
		if a.Fields[i].Name != b.Fields[i].Name {
			return fmt.Errorf("%s: field %d named %q / %q", a.Name, i, a.Fields[i].Name, b.Fields[i].Name)
		}
		if err := sameSchema(a.Fields[i].Schema, b.Fields[i].Schema); err != nil {
			return fmt.Errorf("field %q: %w", a.Fields[i].Name, err)
		}
	}
	return nil
}

// dec builds a decimal from its literal.
func dec(s string) event.Decimal {
	d, err := event.ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

func bigDec(unscaled string, scale int32) event.Decimal {
	u, ok := new(big.Int).SetString(unscaled, 10)
	if !ok {
		panic(unscaled)
	}
	return event.Decimal{Unscaled: u, Scale: scale}
}

// Schema builders for tests.

func prim(t event.Type) *event.Schema { return &event.Schema{Type: t} }

func opt(s *event.Schema) *event.Schema {
	c := *s
	c.Optional = true
	return &c
}

func named(t event.Type, name string) *event.Schema {
	return &event.Schema{Type: t, Name: name, Version: 1}
}

func decimalSchema(precision, scale int) *event.Schema {
	p := map[string]string{event.DecimalScaleParam: fmt.Sprint(scale)}
	if precision > 0 {
		p[event.DecimalPrecisionParam] = fmt.Sprint(precision)
	}
	return &event.Schema{Type: event.Bytes, Name: event.DecimalName, Version: 1, Params: p}
}

func variableDecimalSchema() *event.Schema {
	return &event.Schema{
		Type: event.Struct, Name: event.VariableDecimalName, Version: 1, Doc: "Variable scaled decimal",
		Fields: []event.Field{
			{Name: "scale", Schema: prim(event.Int32)},
			{Name: "value", Schema: prim(event.Bytes)},
		},
	}
}

func arrayOf(elem *event.Schema) *event.Schema { return &event.Schema{Type: event.Array, Elem: elem} }

func record(name string, fields ...event.Field) *event.Schema {
	return &event.Schema{Type: event.Struct, Name: name, Fields: fields}
}

func field(name string, s *event.Schema) event.Field { return event.Field{Name: name, Schema: s} }
