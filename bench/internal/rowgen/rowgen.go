// Package rowgen makes the rows and the steady load's changes of the
// source benchmarks' table (bench/postgres, bench/mysql): id, four
// integers, a timestamp and 150 characters of word-like text, about 200
// bytes a row. Each benchmark writes them in its database's own way.
package rowgen

import "math/rand/v2"

// TextLen is the length of the text column: with the other columns a row
// is about 200 bytes.
const TextLen = 150

// Columns are the table's columns, in order.
var Columns = []string{"id", "a", "b", "c", "d", "ts", "txt"}

// textPool is word-like random text (lower-case letters and spaces, so
// nothing to escape in SQL) that rows take their text from, so that values
// differ and compress like ordinary text rather than like zeros.
var textPool = func() string {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, 1<<16+TextLen)
	for i := range b {
		if r.IntN(6) == 0 {
			b[i] = ' '
		} else {
			b[i] = byte('a' + r.IntN(26))
		}
	}
	return string(b)
}()

// Text returns the text of row id at version v.
func Text(id int64, v int) string {
	off := int(uint64(id*7919+int64(v)*104729) % (1 << 16))
	return textPool[off : off+TextLen]
}

// Row is row id at version v, but for its timestamp, which the writer
// takes.
type Row struct {
	ID   int64
	A, B int32
	C    int64
	D    int32
	Txt  string
}

// Make returns row id at version v.
func Make(id int64, v int) Row {
	return Row{ID: id, A: int32(id % 1000), B: int32(v), C: id * 31, D: int32(id % 7), Txt: Text(id, v)}
}
