package schema

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"unsafe"

	"github.com/sluice-cdc/sluice/schema/event"
)

// maxEmptyItems bounds the items of an array whose items encode to no bytes
// at all (structs without fields), which the input length cannot bound.
const maxEmptyItems = 1 << 16

// decoder is the state of one decoding: the reader over the input, the arena
// values are stored in, and the first error met.
//
// Every length and count read from the input is checked against limit, the
// input's size, before anything is allocated for it, so hostile input costs
// at most a few times its own size in memory.
type decoder struct {
	r     avroReader
	a     arena
	limit int64
	err   error
}

var decoders = sync.Pool{New: func() any { return new(decoder) }}

// getDecoder returns a decoder reading body. Values decoded keep pointing
// into the arena's chunks, which are never handed out twice, so recycling a
// decoder never touches values it produced before.
func getDecoder(body []byte) *decoder {
	d := decoders.Get().(*decoder)
	d.r.reset(body)
	d.err = nil
	d.limit = int64(len(body))
	return d
}

func putDecoder(d *decoder) {
	d.r.reset(nil)
	decoders.Put(d)
}

// failed reports whether decoding has hit an error.
func (d *decoder) failed() bool { return d.err != nil || d.r.err != nil }

func (d *decoder) fail(n *node, format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%s: %s", describe(n.path), fmt.Sprintf(format, args...))
	}
}

// finish returns the decoding's error, if any, including unread input.
func (d *decoder) finish() error {
	if d.err != nil {
		return d.err
	}
	if err := d.r.err; err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("input ends early: %w", err)
		}
		return err
	}
	if !d.r.atEnd() {
		return errors.New("input has bytes left after the value")
	}
	return nil
}

// value decodes one value of n. After a failure (see failed) the value is
// meaningless and the caller must stop.
func (d *decoder) value(n *node) any {
	if n.optional && !d.present(n) {
		return nil
	}
	r := &d.r
	switch n.kind {
	case kindBool:
		return r.readBool()
	case kindInt8:
		x := r.readInt()
		if x < math.MinInt8 || x > math.MaxInt8 {
			d.fail(n, "%d is out of range for int8", x)
			return nil
		}
		return int8(x)
	case kindInt16:
		x := r.readInt()
		if x < math.MinInt16 || x > math.MaxInt16 {
			d.fail(n, "%d is out of range for int16", x)
			return nil
		}
		return d.a.int16(int16(x))
	case kindInt32:
		return d.a.int32(r.readInt())
	case kindInt64:
		return d.a.int64(r.readLong())
	case kindFloat32:
		return d.a.float32(r.readFloat())
	case kindFloat64:
		return d.a.float64(r.readDouble())
	case kindString:
		return d.a.string(unsafeString(d.bytes(n)))
	case kindBytes:
		return d.a.bytes(d.bytes(n))
	case kindDecimal, kindVarDecimal:
		return d.a.decimal(d.decimal(n))
	case kindArray:
		return d.a.list(d.array(n))
	case kindStruct:
		return d.a.list(d.fields(n))
	}
	return nil
}

// present reads the union branch of an optional value and reports whether
// the value is there.
func (d *decoder) present(n *node) bool {
	switch i := d.r.readLong(); i {
	case n.nullIdx:
		return false
	case 1 - n.nullIdx:
		return true
	default:
		if d.r.err == nil {
			d.fail(n, "union branch %d does not exist", i)
		}
		return false
	}
}

// emptyBytes is the value of empty bytes: not nil, which would read as null.
var emptyBytes = []byte{}

// bytes reads a length-prefixed string or bytes value.
func (d *decoder) bytes(n *node) []byte {
	size := d.r.readLong()
	if d.r.err != nil {
		return nil
	}
	if size < 0 || size > d.limit {
		d.fail(n, "length %d is impossible in a %d-byte input", size, d.limit)
		return nil
	}
	if size == 0 {
		return emptyBytes
	}
	b := d.a.buffer(int(size))
	d.r.read(b)
	if d.r.err != nil {
		return nil
	}
	return b
}

// decimal reads a Decimal, or a VariableScaleDecimal's scale and value.
func (d *decoder) decimal(n *node) event.Decimal {
	dec := event.Decimal{Scale: n.scale}
	if n.kind == kindVarDecimal {
		dec.Scale = d.r.readInt()
	}
	b := d.bytes(n)
	if d.failed() {
		return dec
	}
	dec.Unscaled = d.a.unscaled(b)
	return dec
}

// array reads the blocks of an array.
func (d *decoder) array(n *node) []any {
	maxItems := d.limit
	if n.elem.minSize == 0 {
		maxItems = maxEmptyItems
	}
	var list []any
	var total int64
	for {
		count := d.r.readLong()
		if d.r.err != nil {
			return nil
		}
		if count == 0 {
			break
		}
		if count < 0 {
			count = -count // a negative count is followed by the block's size in bytes
			d.r.readLong()
		}
		if count < 0 || count > maxItems-total {
			d.fail(n, "array of more than %d items is impossible in a %d-byte input", maxItems, d.limit)
			return nil
		}
		total += count
		if list == nil {
			list = d.a.values(int(min(count, chunkAnys/4)))[:0]
		}
		for range count {
			v := d.value(n.elem)
			if d.failed() {
				return nil
			}
			list = append(list, v)
		}
	}
	if list == nil {
		list = []any{}
	}
	return list
}

// fields reads the fields of a struct.
func (d *decoder) fields(n *node) []any {
	if len(n.fields) == 0 {
		return []any{}
	}
	vals := d.a.values(len(n.fields))
	for i, f := range n.fields {
		vals[i] = d.value(f)
		if d.failed() {
			return nil
		}
	}
	return vals
}

// unsafeString returns b as a string without copying; b must never change
// afterwards, which holds for the arena's buffers.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
