package elasticsearch

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/jackc/pgx/v5"
)

// workload makes random changes to table t in small transactions: inserts
// (some of deleted ids again), updates of v and n (leaving a TOASTed big
// unchanged, so the source writes the placeholder), updates of big,
// primary-key changes and deletes.
type workload struct {
	rng     *rand.Rand
	nextID  int
	deleted []int
	counts  map[string]int
}

func newWorkload(seed uint64) *workload {
	return &workload{rng: rand.New(rand.NewPCG(seed, seed)), nextID: 1, counts: map[string]int{}}
}

// bigText is a value of big: over 8 kB (TOASTed, out of line) or short.
func (w *workload) bigText(large bool) string {
	if !large {
		return fmt.Sprintf("short-%d", w.rng.IntN(1000))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "large-%d-", w.rng.Uint32())
	for b.Len() < 9000 {
		b.WriteByte(byte('a' + w.rng.IntN(26)))
	}
	return b.String()
}

// run makes ops changes on conn.
func (w *workload) run(ctx context.Context, conn *pgx.Conn, ops int) error {
	for ops > 0 {
		tx, err := conn.Begin(ctx)
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		for n := 1 + w.rng.IntN(4); n > 0 && ops > 0; n-- {
			if err := w.change(ctx, tx); err != nil {
				tx.Rollback(ctx)
				return err
			}
			ops--
		}
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
	}
	return nil
}

// change makes one random change.
func (w *workload) change(ctx context.Context, tx pgx.Tx) error {
	// A random row, and whether its big is TOASTed.
	var id int
	var toasted bool
	err := tx.QueryRow(ctx, "SELECT id, coalesce(length(big), 0) > 2000 FROM t ORDER BY random() LIMIT 1").Scan(&id, &toasted)
	empty := err == pgx.ErrNoRows
	if err != nil && !empty {
		return fmt.Errorf("pick a row: %w", err)
	}
	kind := w.rng.IntN(100)
	if empty {
		kind = 0
	}
	var sql string
	var args []any
	switch {
	case kind < 45: // insert, a third of them of a deleted id
		newID := w.nextID
		if len(w.deleted) > 0 && w.rng.IntN(3) == 0 {
			i := w.rng.IntN(len(w.deleted))
			newID = w.deleted[i]
			w.deleted = append(w.deleted[:i], w.deleted[i+1:]...)
			w.counts["reinsert"]++
		} else {
			w.nextID++
		}
		var n any = w.rng.IntN(1_000_000)
		if w.rng.IntN(10) == 0 {
			n = nil
		}
		sql, args = "INSERT INTO t (id, v, n, big) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING", []any{newID, fmt.Sprintf("v%d", w.rng.IntN(1000)), n, w.bigText(w.rng.IntN(3) == 0)}
		w.counts["insert"]++
	case kind < 70: // update v and n only
		sql, args = "UPDATE t SET v = $2, n = n + 1 WHERE id = $1", []any{id, fmt.Sprintf("u%d", w.rng.IntN(1000))}
		if toasted {
			w.counts["update with big unchanged and TOASTed"]++
		} else {
			w.counts["update"]++
		}
	case kind < 80: // update big
		sql, args = "UPDATE t SET big = $2 WHERE id = $1", []any{id, w.bigText(w.rng.IntN(2) == 0)}
		w.counts["update of big"]++
	case kind < 88 && !toasted:
		// A primary-key change. Rows with a TOASTed big are left out: the
		// new row's unchanged big is not in the WAL, and the new id has no
		// document yet to take it from.
		sql, args = "UPDATE t SET id = $2, v = v || '+' WHERE id = $1", []any{id, w.nextID}
		w.nextID++
		w.deleted = append(w.deleted, id)
		w.counts["primary-key change"]++
	default:
		sql, args = "DELETE FROM t WHERE id = $1", []any{id}
		w.deleted = append(w.deleted, id)
		w.counts["delete"]++
	}
	if _, err := tx.Exec(ctx, sql, args...); err != nil {
		return fmt.Errorf("%s %v: %w", sql, args[:1], err)
	}
	return nil
}
