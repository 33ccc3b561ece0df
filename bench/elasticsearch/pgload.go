package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-cdc/sluice/bench/internal/schedule"
)

// latencyDDL is the latency workload's table: the throughput workload's
// ten columns, and seq, the number of the change that last wrote the row.
const latencyDDL = `CREATE TABLE items (id bigint PRIMARY KEY, seq bigint NOT NULL, account int, qty int,
	price double precision, active boolean, created_ms bigint, status text, sku text, region text, note text)`

var latencyColumns = []string{"id", "seq", "account", "qty", "price", "active", "created_ms", "status", "sku", "region", "note"}

// loader commits the latency workload's changes to Postgres, in commit
// order (one connection).
type loader struct {
	conn *pgx.Conn
	*changes
	// commits holds, by seq, the time its transaction's COMMIT returned, in
	// nanoseconds since t0.
	commits []int64
	// sampled receives every sampleEvery-th change, once committed; it
	// must have room for all of them.
	sampled chan<- sample
}

// sampleEvery is how often a change is also followed by realtime gets.
const sampleEvery = 100

// sample is a committed change: its seq and the id of the row it wrote.
type sample struct{ seq, id int64 }

func newLoader(conn *pgx.Conn, seed uint64, prefill int64, sampled chan<- sample) *loader {
	return &loader{conn: conn, changes: newChanges(seed, prefill), commits: []int64{0}, sampled: sampled}
}

// rowArgs returns the values of row id with seq, in latencyColumns order.
func rowArgs(seed uint64, id, seq int64) []any {
	r := row(seed, int(id-1))
	return append([]any{id, seq}, r[1:]...)
}

// prefillRows creates the table and writes rows 1..n with COPY.
func prefillRows(ctx context.Context, conn *pgx.Conn, seed uint64, n int64) error {
	if _, err := conn.Exec(ctx, latencyDDL); err != nil {
		return fmt.Errorf("create table: %w", err)
	}
	next := int64(1)
	_, err := conn.CopyFrom(ctx, pgx.Identifier{"items"}, latencyColumns, pgx.CopyFromFunc(func() ([]any, error) {
		if next > n {
			return nil, nil
		}
		next++
		return rowArgs(seed, next-1, 0), nil
	}))
	if err != nil {
		return fmt.Errorf("prefill %d rows: %w", n, err)
	}
	return nil
}

// run commits transactions of txRows changes on the workload's schedule,
// rate changes a second, for d. check is called before each transaction
// and stops the load when it fails.
func (l *loader) run(ctx context.Context, t0 time.Time, rate, txRows int, d time.Duration, check func() error) error {
	return schedule.Run(ctx, t0, schedule.Interval(rate, txRows), d, func(time.Time) error {
		if err := check(); err != nil {
			return err
		}
		return l.transaction(ctx, t0, txRows)
	})
}

// transaction commits n changes as one pipelined batch (one implicit
// transaction) and records the commit time of each.
func (l *loader) transaction(ctx context.Context, t0 time.Time, n int) error {
	b := &pgx.Batch{}
	first := l.seq + 1
	var samples []sample
	for range n {
		ch := l.next()
		if ch.update {
			b.Queue("UPDATE items SET seq = $2, qty = $3, status = $4, note = note || '+' WHERE id = $1",
				ch.id, ch.seq, ch.qty, ch.status)
		} else {
			b.Queue("INSERT INTO items VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)", rowArgs(l.seed, ch.id, ch.seq)...)
		}
		if ch.seq%sampleEvery == 0 {
			samples = append(samples, sample{seq: ch.seq, id: ch.id})
		}
	}
	if err := l.conn.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("commit changes %d..%d: %w", first, l.seq, err)
	}
	at := time.Since(t0).Nanoseconds()
	for range n {
		l.commits = append(l.commits, at)
	}
	for _, s := range samples {
		select {
		case l.sampled <- s:
		default:
			return fmt.Errorf("the buffer of sampled changes is full at change %d", s.seq)
		}
	}
	return nil
}
