package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// itemsDDL is the table the crash workload changes: a column of each kind
// the sink writes differently, a nullable one, and big, which is sometimes
// over 8 kB and so TOASTed: updates that leave it unchanged carry the
// unavailable-value placeholder, and the sink takes big from the stored
// document.
const itemsDDL = `CREATE TABLE items (id int PRIMARY KEY, n bigint NOT NULL, name text NOT NULL, flag boolean NOT NULL,
	score double precision NOT NULL, note text, big text, rev int NOT NULL)`

// itemsColumns are the columns of items, in order.
var itemsColumns = []string{"id", "n", "name", "flag", "score", "note", "big", "rev"}

// crashWorkload makes random changes to items in small transactions:
// inserts, updates of some columns (leaving big as it is), updates of big,
// primary-key changes and deletes. Ids are never reused. It is driven by
// one goroutine; freeze may be called from any other.
type crashWorkload struct {
	rng    *rand.Rand
	nextID int
	live   []int       // ids of the rows that exist
	pos    map[int]int // id -> index in live
	// toasted holds the live ids whose big is TOASTed: their primary key is
	// never changed, as the new row's unchanged big is not in the WAL and
	// the new id has no document to take it from.
	toasted map[int]bool
	counts  map[string]int

	mu     sync.Mutex
	frozen map[int]bool // ids no longer changed
}

func newCrashWorkload(seed uint64) *crashWorkload {
	return &crashWorkload{rng: rand.New(rand.NewPCG(seed, 1)), nextID: 1, pos: map[int]int{}, toasted: map[int]bool{},
		counts: map[string]int{}, frozen: map[int]bool{}}
}

// freeze stops the workload from changing ids from now on.
func (w *crashWorkload) freeze(ids []int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, id := range ids {
		w.frozen[id] = true
	}
}

func (w *crashWorkload) isFrozen(id int) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.frozen[id]
}

// pending is a change made in an open transaction, applied to the
// workload's view of the table once the transaction commits.
type pending func()

// run commits transactions of one to four changes, pacing them at txPerSec,
// until stop is closed or ctx ends. It returns the first error.
func (w *crashWorkload) run(ctx context.Context, conn *pgx.Conn, stop <-chan struct{}, txPerSec int) error {
	tick := time.NewTicker(time.Second / time.Duration(txPerSec))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-stop:
			return nil
		case <-tick.C:
		}
		if err := w.tx(ctx, conn, 1+w.rng.IntN(4), w.rng.IntN); err != nil {
			return err
		}
	}
}

// insert commits n inserts, in transactions of up to 100.
func (w *crashWorkload) insert(ctx context.Context, conn *pgx.Conn, n int) error {
	for ; n > 0; n -= 100 {
		if err := w.tx(ctx, conn, min(n, 100), func(int) int { return 0 }); err != nil {
			return err
		}
	}
	return nil
}

// tx commits one transaction of n changes; kind(100) picks each one's kind.
func (w *crashWorkload) tx(ctx context.Context, conn *pgx.Conn, n int, kind func(int) int) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(ctx)
	var done []pending
	touched := map[int]bool{}
	for range n {
		p, err := w.change(ctx, tx, touched, kind(100))
		if err != nil {
			return err
		}
		done = append(done, p)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	for _, p := range done {
		p()
	}
	return nil
}

// pick returns a live id that is not frozen nor touched by the open
// transaction, or 0 when a few tries find none.
func (w *crashWorkload) pick(touched map[int]bool) int {
	for range 8 {
		if len(w.live) == 0 {
			return 0
		}
		id := w.live[w.rng.IntN(len(w.live))]
		if !touched[id] && !w.isFrozen(id) {
			return id
		}
	}
	return 0
}

// change makes one change in tx and returns what it does to the workload's
// view of the table. kind, from 0 to 99, picks the change: an insert below
// 45, then an update, an update of big, a primary-key change or a delete.
func (w *crashWorkload) change(ctx context.Context, tx pgx.Tx, touched map[int]bool, kind int) (pending, error) {
	id := w.pick(touched)
	if id == 0 {
		kind = 0
	}
	touched[id] = true
	var (
		sql  string
		args []any
		p    pending
	)
	switch {
	case kind < 45:
		newID, large := w.nextID, w.rng.IntN(20) == 0
		w.nextID++
		var note any
		if w.rng.IntN(4) > 0 {
			note = fmt.Sprintf("note %d", w.rng.IntN(1000))
		}
		sql = "INSERT INTO items VALUES ($1, $2, $3, $4, $5, $6, $7, 0)"
		args = []any{newID, w.rng.Int64N(1 << 50), w.word(), w.rng.IntN(2) == 0, w.score(), note, w.big(large)}
		p = func() { w.add(newID, large); w.counts["insert"]++ }
	case kind < 75:
		sql = "UPDATE items SET n = n + 1, name = $2, flag = NOT flag, score = $3, rev = rev + 1 WHERE id = $1"
		args = []any{id, w.word(), w.score()}
		p = func() { w.counts["update"]++ }
		if w.toasted[id] {
			p = func() { w.counts["update leaving a TOASTed value"]++ }
		}
	case kind < 82:
		large := w.rng.IntN(3) == 0
		sql, args = "UPDATE items SET big = $2, note = NULL, rev = rev + 1 WHERE id = $1", []any{id, w.big(large)}
		p = func() { w.toasted[id] = large; w.counts["update of big"]++ }
	case kind < 91 && !w.toasted[id]:
		newID := w.nextID
		w.nextID++
		touched[newID] = true
		sql, args = "UPDATE items SET id = $2, name = name || '+', rev = rev + 1 WHERE id = $1", []any{id, newID}
		p = func() { w.remove(id); w.add(newID, false); w.counts["primary-key change"]++ }
	default:
		sql, args = "DELETE FROM items WHERE id = $1", []any{id}
		p = func() { w.remove(id); w.counts["delete"]++ }
	}
	if _, err := tx.Exec(ctx, sql, args...); err != nil {
		return nil, fmt.Errorf("%s (id %v): %w", sql, args[0], err)
	}
	return p, nil
}

func (w *crashWorkload) add(id int, toasted bool) {
	w.pos[id] = len(w.live)
	w.live = append(w.live, id)
	if toasted {
		w.toasted[id] = true
	}
}

func (w *crashWorkload) remove(id int) {
	i, last := w.pos[id], w.live[len(w.live)-1]
	w.live[i], w.pos[last] = last, i
	w.live = w.live[:len(w.live)-1]
	delete(w.pos, id)
	delete(w.toasted, id)
}

var crashWords = strings.Fields("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima")

func (w *crashWorkload) word() string {
	return crashWords[w.rng.IntN(len(crashWords))] + fmt.Sprint(w.rng.IntN(100))
}

// score is a double: mostly two decimals, sometimes a value with all 17
// significant digits or an exponent (within the range of float, the type
// Elasticsearch's dynamic mapping gives it).
func (w *crashWorkload) score() float64 {
	switch w.rng.IntN(10) {
	case 0:
		return w.rng.Float64() / 3
	case 1:
		return w.rng.NormFloat64() * 1e30
	default:
		return float64(w.rng.IntN(1_000_000)) / 100
	}
}

// big is a short text, or one of 9,000 characters that Postgres TOASTs.
func (w *crashWorkload) big(large bool) string {
	if !large {
		return fmt.Sprintf("short %d", w.rng.IntN(1000))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "large %d ", w.rng.Uint32())
	for b.Len() < 9000 {
		b.WriteByte(byte('a' + w.rng.IntN(26)))
	}
	return b.String()
}
