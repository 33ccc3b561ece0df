package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
)

// textLen is the length of the text column: with the other columns and the
// tuple header a row is about 200 bytes.
const textLen = 150

// textPool is word-like random text that rows take their text from, so that
// values differ and compress like ordinary text rather than like zeros.
var textPool = func() string {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, 1<<16+textLen)
	for i := range b {
		if r.IntN(6) == 0 {
			b[i] = ' '
		} else {
			b[i] = byte('a' + r.IntN(26))
		}
	}
	return string(b)
}()

// text returns the text of row id at version v.
func text(id int64, v int) string {
	off := int(uint64(id*7919+int64(v)*104729) % (1 << 16))
	return textPool[off : off+textLen]
}

// rowValues returns the column values of row id at version v, in the
// table's column order.
func rowValues(id int64, v int, ts time.Time) []any {
	return []any{id, int32(id % 1000), int32(v), id * 31, int32(id % 7), ts, text(id, v)}
}

var columns = []string{"id", "a", "b", "c", "d", "ts", "txt"}

// writeRows inserts rows with ids [from, to) by COPY, batch rows per
// transaction.
func writeRows(ctx context.Context, db *pgx.Conn, from, to int64, batch int) error {
	ts := time.Now()
	for lo := from; lo < to; lo += int64(batch) {
		hi := min(lo+int64(batch), to)
		id := lo
		_, err := db.CopyFrom(ctx, pgx.Identifier{"public", table}, columns, pgx.CopyFromFunc(func() ([]any, error) {
			if id >= hi {
				return nil, nil
			}
			v := rowValues(id, 0, ts)
			id++
			return v, nil
		}))
		if err != nil {
			return fmt.Errorf("copy rows %d to %d into %s: %w", lo, hi, table, err)
		}
	}
	return nil
}
