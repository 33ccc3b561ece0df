package schema

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// Avro's binary encoding of primitive values: a long or int is a zig-zag varint (what
// encoding/binary's Varint functions read and write), a float or double its IEEE 754 bits
// little-endian, bytes and strings a long length and the bytes. The codecs of this package
// build on these; the schema-driven parts of Avro (records, unions, arrays) are theirs.

// avroWriter appends Avro's binary encoding of values to buf.
type avroWriter struct{ buf []byte }

func (w *avroWriter) writeLong(v int64) { w.buf = binary.AppendVarint(w.buf, v) }

func (w *avroWriter) writeInt(v int32) { w.buf = binary.AppendVarint(w.buf, int64(v)) }

func (w *avroWriter) writeBool(v bool) {
	var b byte
	if v {
		b = 1
	}
	w.buf = append(w.buf, b)
}

func (w *avroWriter) writeFloat(v float32) {
	w.buf = binary.LittleEndian.AppendUint32(w.buf, math.Float32bits(v))
}

func (w *avroWriter) writeDouble(v float64) {
	w.buf = binary.LittleEndian.AppendUint64(w.buf, math.Float64bits(v))
}

func (w *avroWriter) writeBytes(v []byte) {
	w.buf = append(binary.AppendVarint(w.buf, int64(len(v))), v...)
}

func (w *avroWriter) writeString(v string) {
	w.buf = append(binary.AppendVarint(w.buf, int64(len(v))), v...)
}

// avroReader reads Avro's binary encoding of values from buf. The first error is kept in err;
// after it every read returns a zero value, so a caller may check once after several reads.
type avroReader struct {
	buf []byte
	err error
}

func (r *avroReader) reset(buf []byte) { r.buf, r.err = buf, nil }

// atEnd reports whether every byte of the input was read.
func (r *avroReader) atEnd() bool { return len(r.buf) == 0 }

// errOverlong is a varint of more than ten bytes, or one whose value needs more than 64 bits.
var errOverlong = errors.New("varint is longer than 64 bits")

func (r *avroReader) readLong() int64 { return r.varint("long") }

// readInt reads a long and checks that it fits an int, as Avro's int must.
func (r *avroReader) readInt() int32 {
	v := r.varint("int")
	if v < math.MinInt32 || v > math.MaxInt32 {
		r.fail(fmt.Errorf("reading int: %d is out of range", v))
		return 0
	}
	return int32(v)
}

func (r *avroReader) varint(what string) int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.buf)
	switch {
	case n == 0:
		r.fail(fmt.Errorf("reading %s: %w", what, io.ErrUnexpectedEOF))
		return 0
	case n < 0:
		r.fail(fmt.Errorf("reading %s: %w", what, errOverlong))
		return 0
	}
	r.buf = r.buf[n:]
	return v
}

func (r *avroReader) readBool() bool {
	b := r.next(1, "boolean")
	if b == nil {
		return false
	}
	if b[0] > 1 {
		r.fail(fmt.Errorf("reading boolean: byte %d is neither 0 nor 1", b[0]))
	}
	return b[0] == 1
}

func (r *avroReader) readFloat() float32 {
	if b := r.next(4, "float"); b != nil {
		return math.Float32frombits(binary.LittleEndian.Uint32(b))
	}
	return 0
}

func (r *avroReader) readDouble() float64 {
	if b := r.next(8, "double"); b != nil {
		return math.Float64frombits(binary.LittleEndian.Uint64(b))
	}
	return 0
}

// read fills b from the input.
func (r *avroReader) read(b []byte) {
	if src := r.next(len(b), "bytes"); src != nil {
		copy(b, src)
	}
}

// next consumes n bytes and returns them, or nil when the input is shorter.
func (r *avroReader) next(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if len(r.buf) < n {
		r.fail(fmt.Errorf("reading %s: %w", what, io.ErrUnexpectedEOF))
		return nil
	}
	b := r.buf[:n:n]
	r.buf = r.buf[n:]
	return b
}

func (r *avroReader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}
