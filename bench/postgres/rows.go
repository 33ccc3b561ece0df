package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-cdc/sluice/bench/internal/rowgen"
)

// rowValues returns the column values of row id at version v, in the
// table's column order.
func rowValues(id int64, v int, ts time.Time) []any {
	r := rowgen.Make(id, v)
	return []any{r.ID, r.A, r.B, r.C, r.D, ts, r.Txt}
}

// writeRows inserts rows with ids [from, to) by COPY, batch rows per
// transaction.
func writeRows(ctx context.Context, db *pgx.Conn, from, to int64, batch int) error {
	ts := time.Now()
	for lo := from; lo < to; lo += int64(batch) {
		hi := min(lo+int64(batch), to)
		id := lo
		_, err := db.CopyFrom(ctx, pgx.Identifier{"public", table}, rowgen.Columns, pgx.CopyFromFunc(func() ([]any, error) {
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
