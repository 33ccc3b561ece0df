package schema

import (
	"fmt"
	"reflect"

	"github.com/sluice-cdc/sluice/schema/event"
)

// encode writes v, which must have the Go type of n's schema.
func (n *node) encode(w *avroWriter, v any) error {
	if n.optional {
		if v == nil {
			w.writeLong(n.nullIdx)
			return nil
		}
		w.writeLong(1 - n.nullIdx)
	} else if v == nil {
		return fmt.Errorf("%s: null for a required value", describe(n.path))
	}
	switch n.kind {
	case kindBool:
		x, ok := v.(bool)
		if !ok {
			return n.mismatch(v)
		}
		w.writeBool(x)
	case kindInt8:
		x, ok := v.(int8)
		if !ok {
			return n.mismatch(v)
		}
		w.writeInt(int32(x))
	case kindInt16:
		x, ok := v.(int16)
		if !ok {
			return n.mismatch(v)
		}
		w.writeInt(int32(x))
	case kindInt32:
		x, ok := v.(int32)
		if !ok {
			return n.mismatch(v)
		}
		w.writeInt(x)
	case kindInt64:
		x, ok := v.(int64)
		if !ok {
			return n.mismatch(v)
		}
		w.writeLong(x)
	case kindFloat32:
		x, ok := v.(float32)
		if !ok {
			return n.mismatch(v)
		}
		w.writeFloat(x)
	case kindFloat64:
		x, ok := v.(float64)
		if !ok {
			return n.mismatch(v)
		}
		w.writeDouble(x)
	case kindString:
		x, ok := v.(string)
		if !ok {
			return n.mismatch(v)
		}
		w.writeString(x)
	case kindBytes:
		x, ok := v.([]byte)
		if !ok {
			return n.mismatch(v)
		}
		w.writeBytes(x)
	case kindDecimal:
		x, ok := v.(event.Decimal)
		if !ok {
			return n.mismatch(v)
		}
		if x.Scale != n.scale {
			return fmt.Errorf("%s: decimal %s has scale %d, the schema's scale is %d", describe(n.path), x.String(), x.Scale, n.scale)
		}
		writeUnscaled(w, x)
	case kindVarDecimal:
		x, ok := v.(event.Decimal)
		if !ok {
			return n.mismatch(v)
		}
		w.writeInt(x.Scale)
		writeUnscaled(w, x)
	case kindArray:
		x, ok := v.([]any)
		if !ok {
			return n.mismatch(v)
		}
		if len(x) > 0 {
			w.writeLong(int64(len(x)))
			for _, e := range x {
				if err := n.elem.encode(w, e); err != nil {
					return err
				}
			}
		}
		w.writeLong(0)
	case kindStruct:
		switch x := v.(type) {
		case event.Row:
			return n.encodeFields(w, x)
		case []any:
			return n.encodeFields(w, x)
		}
		return n.mismatch(v)
	}
	return nil
}

// encodeFields writes the values of a struct, one per field.
func (n *node) encodeFields(w *avroWriter, vals []any) error {
	if len(vals) != len(n.fields) {
		return fmt.Errorf("%s: %d values for %d fields", describe(n.path), len(vals), len(n.fields))
	}
	for i, f := range n.fields {
		if err := f.encode(w, vals[i]); err != nil {
			return err
		}
	}
	return nil
}

// encodeRow writes an optional struct from a row, nil being null.
func (n *node) encodeRow(w *avroWriter, row event.Row) error {
	if row == nil {
		if !n.optional {
			return fmt.Errorf("%s: null for a required value", describe(n.path))
		}
		w.writeLong(n.nullIdx)
		return nil
	}
	if n.optional {
		w.writeLong(1 - n.nullIdx)
	}
	return n.encodeFields(w, row)
}

func (n *node) mismatch(v any) error {
	return fmt.Errorf("%s: want %s, got %s", describe(n.path), n.want, reflect.TypeOf(v))
}

// writeUnscaled writes a decimal's unscaled value as Avro bytes.
func writeUnscaled(w *avroWriter, d event.Decimal) {
	var buf [64]byte
	w.writeBytes(appendUnscaled(buf[:0], d.Unscaled))
}
