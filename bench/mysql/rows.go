package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"

	"github.com/sluice-cdc/sluice/bench/internal/rowgen"
)

// tsLiteral is ts as a TIMESTAMP(6) literal of a UTC session.
func tsLiteral(ts time.Time) string { return ts.UTC().Format("'2006-01-02 15:04:05.000000'") }

// appendRow appends the VALUES tuple of row id at version v. The text is
// lower-case letters and spaces: nothing to escape.
func appendRow(b *strings.Builder, id int64, v int, ts string) {
	r := rowgen.Make(id, v)
	b.WriteByte('(')
	b.WriteString(strconv.FormatInt(r.ID, 10))
	fmt.Fprintf(b, ",%d,%d,%d,%d,%s,'%s')", r.A, r.B, r.C, r.D, ts, r.Txt)
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
