package schema

import (
	"math/big"
	"unsafe"

	"github.com/sluice-cdc/sluice/schema/event"
)

// arena hands out the memory that decoded values live in, a chunk at a time,
// so decoding a row costs a small fraction of an allocation per value
// instead of one allocation each.
//
// Values are boxed into interfaces that point straight into the chunks. That
// is sound because a piece of a chunk is handed out once and never written
// again after the value is stored, exactly like the memory the runtime
// allocates when it boxes a value itself. A decoded value keeps its chunks
// alive (a few kilobytes) for as long as it is referenced.
type arena struct {
	anys  slab[any]
	rows  slab[event.Row]
	lists slab[[]any]
	i16   slab[int16]
	i32   slab[int32]
	i64   slab[int64]
	f32   slab[float32]
	f64   slab[float64]
	strs  slab[string]
	blobs slab[[]byte]
	decs  slab[event.Decimal]
	bigs  slab[big.Int]
	words slab[big.Word]
	data  slab[byte]
}

// Chunk sizes, in elements.
const (
	chunkSmall = 128
	chunkAnys  = 1024
	chunkData  = 8 << 10
)

// slab is one chunked free list of T.
type slab[T any] struct{ free []T }

// take returns n zero elements with no spare capacity, so appending to them
// can never reach memory handed out later.
func (s *slab[T]) take(n, chunk int) []T {
	if n > len(s.free) {
		if n > chunk/4 {
			return make([]T, n)
		}
		s.free = make([]T, chunk)
	}
	p := s.free[:n:n]
	s.free = s.free[n:]
	return p
}

// put stores v in the slab and returns it boxed in an interface that points
// at the stored copy.
func put[T any](s *slab[T], chunk int, typ unsafe.Pointer, v T) any {
	p := &s.take(1, chunk)[0]
	*p = v
	var i any
	e := (*eface)(unsafe.Pointer(&i))
	e.typ, e.data = typ, unsafe.Pointer(p)
	return i
}

// eface is the layout of an interface{} value.
type eface struct {
	typ, data unsafe.Pointer
}

func typeWord(v any) unsafe.Pointer { return (*eface)(unsafe.Pointer(&v)).typ }

// Type words of the boxed types. None of these types is pointer-shaped, so an
// interface holding one points at the value, as put requires.
var (
	typeRow     = typeWord(event.Row(nil))
	typeList    = typeWord([]any(nil))
	typeInt16   = typeWord(int16(0))
	typeInt32   = typeWord(int32(0))
	typeInt64   = typeWord(int64(0))
	typeFloat32 = typeWord(float32(0))
	typeFloat64 = typeWord(float64(0))
	typeString  = typeWord("")
	typeBytes   = typeWord([]byte(nil))
	typeDecimal = typeWord(event.Decimal{})
)

func (a *arena) row(v event.Row) any   { return put(&a.rows, chunkSmall, typeRow, v) }
func (a *arena) list(v []any) any      { return put(&a.lists, chunkSmall, typeList, v) }
func (a *arena) int16(v int16) any     { return put(&a.i16, chunkSmall, typeInt16, v) }
func (a *arena) int32(v int32) any     { return put(&a.i32, chunkSmall, typeInt32, v) }
func (a *arena) int64(v int64) any     { return put(&a.i64, chunkSmall, typeInt64, v) }
func (a *arena) float32(v float32) any { return put(&a.f32, chunkSmall, typeFloat32, v) }
func (a *arena) float64(v float64) any { return put(&a.f64, chunkSmall, typeFloat64, v) }
func (a *arena) string(v string) any   { return put(&a.strs, chunkSmall, typeString, v) }
func (a *arena) bytes(v []byte) any    { return put(&a.blobs, chunkSmall, typeBytes, v) }
func (a *arena) decimal(v event.Decimal) any {
	return put(&a.decs, chunkSmall, typeDecimal, v)
}

// values returns room for n values.
func (a *arena) values(n int) []any { return a.anys.take(n, chunkAnys) }

// buffer returns n bytes to read a string or bytes value into.
func (a *arena) buffer(n int) []byte { return a.data.take(n, chunkData) }

// unscaled returns the big integer in two's complement bytes b.
func (a *arena) unscaled(b []byte) *big.Int {
	z := &a.bigs.take(1, chunkSmall)[0]
	return setUnscaled(z, a.words.take(unscaledWords(len(b)), chunkSmall), b)
}
