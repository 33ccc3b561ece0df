package main

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
)

// textLen is the length of the text column: with the other columns a row
// is about 200 bytes.
const textLen = 150

// textPool is word-like random text (lower-case letters and spaces, so
// nothing to escape in SQL) that rows take their text from, so that values
// differ and compress like ordinary text rather than like zeros.
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

// tsLiteral is ts as a TIMESTAMP(6) literal of a UTC session.
func tsLiteral(ts time.Time) string { return ts.UTC().Format("'2006-01-02 15:04:05.000000'") }

// appendRow appends the VALUES tuple of row id at version v.
func appendRow(b *strings.Builder, id int64, v int, ts string) {
	b.WriteByte('(')
	b.WriteString(strconv.FormatInt(id, 10))
	fmt.Fprintf(b, ",%d,%d,%d,%d,%s,'%s')", id%1000, v, id*31, id%7, ts, text(id, v))
}

const insertInto = "INSERT INTO `rows` (id, a, b, c, d, ts, txt) VALUES "

// writeRows inserts rows with ids [from, to), batch rows per multi-row
// INSERT, each its own transaction (autocommit).
func writeRows(db *client.Conn, from, to int64, batch int) error {
	ts := tsLiteral(time.Now())
	var b strings.Builder
	for lo := from; lo < to; lo += int64(batch) {
		hi := min(lo+int64(batch), to)
		b.Reset()
		b.WriteString(insertInto)
		for id := lo; id < hi; id++ {
			if id > lo {
				b.WriteByte(',')
			}
			appendRow(&b, id, 0, ts)
		}
		if _, err := db.Execute(b.String()); err != nil {
			return fmt.Errorf("insert rows %d to %d into %s: %w", lo, hi, table, err)
		}
	}
	return nil
}
