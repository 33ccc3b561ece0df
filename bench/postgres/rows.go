package main

import (
	"context"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/sluice-cdc/sluice/bench/internal/rowgen"
)

// A shape is the benchmark table's columns and the rows written to it.
type shape struct {
	create  string   // CREATE TABLE public.rows (…)
	columns []string // in the table's order
	// values returns the column values of row id at version v, in
	// columns' order; ts is the timestamp the writer takes.
	values func(id int64, v int, ts time.Time) []any
}

// shapes are the table shapes -shape names: narrow, rows of about 200
// bytes (rowgen), which every workload uses; wide, 50 columns of about
// 2 KB, for the drain.
var shapes = map[string]shape{
	"narrow": {
		create: `CREATE TABLE public.rows (
	id  bigint PRIMARY KEY,
	a   integer NOT NULL,
	b   integer NOT NULL,
	c   bigint NOT NULL,
	d   integer NOT NULL,
	ts  timestamptz NOT NULL,
	txt text NOT NULL)`,
		columns: rowgen.Columns,
		values: func(id int64, v int, ts time.Time) []any {
			r := rowgen.Make(id, v)
			return []any{r.ID, r.A, r.B, r.C, r.D, ts, r.Txt}
		},
	},
	"wide": wide(),
}

// The wide shape's columns after id: wideText columns of wideTextLen
// characters (the bulk of a row), then integers, bigints, timestamps and
// numeric(12,2)s; 50 columns and about 2 KB a row in all.
const (
	wideText, wideTextLen = 19, 90
	wideInts, wideBigints = 10, 10
	wideTimes, wideNums   = 5, 5
)

// wide is the shape of 50 columns: id, then the columns the constants above
// count, named by their kind and number (t01, i01, b01, ts01, n01).
func wide() shape {
	cols := []string{"id"}
	defs := []string{"id bigint PRIMARY KEY"}
	add := func(prefix, typ string, n int) {
		for i := 1; i <= n; i++ {
			name := fmt.Sprintf("%s%02d", prefix, i)
			cols = append(cols, name)
			defs = append(defs, name+" "+typ+" NOT NULL")
		}
	}
	add("t", "text", wideText)
	add("i", "integer", wideInts)
	add("b", "bigint", wideBigints)
	add("ts", "timestamptz", wideTimes)
	add("n", "numeric(12,2)", wideNums)
	return shape{
		create:  "CREATE TABLE public.rows (\n\t" + strings.Join(defs, ",\n\t") + ")",
		columns: cols,
		values: func(id int64, v int, ts time.Time) []any {
			vals := make([]any, 0, len(cols))
			vals = append(vals, id)
			for i := range int64(wideText) {
				vals = append(vals, rowgen.Text(id*wideText+i, v)[:wideTextLen])
			}
			for i := range int32(wideInts) {
				vals = append(vals, int32(id%1000)+i+int32(v))
			}
			for i := range int64(wideBigints) {
				vals = append(vals, id*31+i)
			}
			for i := range wideTimes {
				vals = append(vals, ts.Add(time.Duration(i)*time.Second))
			}
			for i := range int64(wideNums) {
				vals = append(vals, pgtype.Numeric{Int: big.NewInt(id*100 + i), Exp: -2, Valid: true})
			}
			return vals
		},
	}
}

// writeRows inserts rows of shape s with ids [from, to) by COPY, batch
// rows per transaction.
func (s shape) writeRows(ctx context.Context, db *pgx.Conn, from, to int64, batch int) error {
	ts := time.Now()
	for lo := from; lo < to; lo += int64(batch) {
		hi := min(lo+int64(batch), to)
		id := lo
		_, err := db.CopyFrom(ctx, pgx.Identifier{"public", table}, s.columns, pgx.CopyFromFunc(func() ([]any, error) {
			if id >= hi {
				return nil, nil
			}
			v := s.values(id, 0, ts)
			id++
			return v, nil
		}))
		if err != nil {
			return fmt.Errorf("copy rows %d to %d into %s: %w", lo, hi, table, err)
		}
	}
	return nil
}
