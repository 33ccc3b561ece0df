// Package faults is the fault suite's checker: a workload writer that
// stamps every row it writes with a sequence number and records what it
// committed, and a verifier that compares what a consumer saw (a Kafka
// topic read back, an Elasticsearch index) with that record, reporting
// changes missing, duplicated, out of order for their key, and wrong.
//
// The rule it enforces is Kafka Connect's for its own system tests:
// nothing committed may be missing; duplicates are allowed only after an
// unclean kill, never after a clean stop; per key, order holds.
package faults

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/jackc/pgx/v5"

	"github.com/sluice-cdc/sluice/schema/event"
)

// TableDDL creates a workload table (%s is its name) in Postgres and in
// MariaDB alike.
const TableDDL = "CREATE TABLE %s (id bigint PRIMARY KEY, seq bigint NOT NULL, v text NOT NULL)"

// Change is one row change the writer committed. Seq numbers every change
// of a writer, in commit order; an insert or update stores it in the
// row's seq column, so an event names the change it carries. A delete
// removes its key for good (keys are never reused), so its event is named
// by its key.
type Change struct {
	Seq int64
	Key int64
	Op  event.Op // create, update or delete
	V   string   // the v column after an insert or update
	Tx  int64    // the transaction that committed it, numbered from 1
}

// DB runs a transaction of statements, committing them all or none.
type DB interface {
	Tx(ctx context.Context, stmts []string) error
}

// Postgres runs a writer's transactions on one Postgres connection.
type Postgres struct{ Conn *pgx.Conn }

// Tx runs stmts in one transaction.
func (p Postgres) Tx(ctx context.Context, stmts []string) error {
	return pgx.BeginFunc(ctx, p.Conn, func(tx pgx.Tx) error {
		for _, s := range stmts {
			if _, err := tx.Exec(ctx, s); err != nil {
				return fmt.Errorf("%s: %w", s, err)
			}
		}
		return nil
	})
}

// MariaDB runs a writer's transactions on one MariaDB connection, whose
// default database holds the table.
type MariaDB struct{ Conn *client.Conn }

// Tx runs stmts in one transaction.
func (m MariaDB) Tx(_ context.Context, stmts []string) error {
	if err := m.Conn.Begin(); err != nil {
		return err
	}
	for _, s := range stmts {
		if _, err := m.Conn.Execute(s); err != nil {
			m.Conn.Rollback()
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return m.Conn.Commit()
}

// Writer commits transactions of inserts, updates and deletes to one
// table and records every change it committed. Its methods are safe for
// concurrent use, but it runs one transaction at a time.
type Writer struct {
	db    DB
	table string
	rows  int // most changes in one transaction

	step    sync.Mutex // held through each transaction
	mu      sync.Mutex
	rng     *rand.Rand
	seq     int64
	tx      int64
	nextKey int64
	live    []int64 // keys present in the table
	log     []Change
}

// NewWriter returns a writer of table through db whose transactions hold
// one to rows changes, chosen with seed.
func NewWriter(db DB, table string, rows int, seed uint64) *Writer {
	return &Writer{db: db, table: table, rows: max(rows, 1), rng: rand.New(rand.NewPCG(seed, 17))}
}

// Step commits one transaction of random changes: about half inserts, the
// rest updates and deletes of rows present. A failed transaction records
// nothing and is returned.
func (w *Writer) Step(ctx context.Context) error {
	w.step.Lock()
	defer w.step.Unlock()
	w.mu.Lock()
	n := 1 + w.rng.IntN(w.rows)
	seq, key := w.seq, w.nextKey
	live := append([]int64(nil), w.live...)
	var changes []Change
	var stmts []string
	for range n {
		seq++
		r := w.rng.IntN(100)
		pick := -1
		if r >= 50 && len(live) > 0 {
			pick = w.rng.IntN(len(live))
		}
		switch {
		case pick < 0:
			key++
			c := Change{Seq: seq, Key: key, Op: event.OpCreate, V: value(key, seq)}
			stmts = append(stmts, fmt.Sprintf("INSERT INTO %s (id, seq, v) VALUES (%d, %d, '%s')", w.table, c.Key, c.Seq, c.V))
			changes = append(changes, c)
			live = append(live, key)
		case r < 85:
			c := Change{Seq: seq, Key: live[pick], Op: event.OpUpdate, V: value(live[pick], seq)}
			stmts = append(stmts, fmt.Sprintf("UPDATE %s SET seq = %d, v = '%s' WHERE id = %d", w.table, c.Seq, c.V, c.Key))
			changes = append(changes, c)
		default:
			c := Change{Seq: seq, Key: live[pick], Op: event.OpDelete}
			stmts = append(stmts, fmt.Sprintf("DELETE FROM %s WHERE id = %d", w.table, c.Key))
			changes = append(changes, c)
			live = append(live[:pick], live[pick+1:]...)
		}
	}
	w.mu.Unlock()

	if err := w.db.Tx(ctx, stmts); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.tx++
	for i := range changes {
		changes[i].Tx = w.tx
	}
	w.seq, w.nextKey, w.live = seq, key, live
	w.log = append(w.log, changes...)
	return nil
}

// value is the v column of key after change seq: a change's value says
// which change it is, so a value delivered with the wrong row shows.
func value(key, seq int64) string { return fmt.Sprintf("k%d-s%d", key, seq) }

// Run commits transactions, about perSec a second, until ctx ends (then it
// returns nil) or one fails.
func (w *Writer) Run(ctx context.Context, perSec int) error {
	tick := time.NewTicker(time.Second / time.Duration(max(perSec, 1)))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		// A transaction begun runs to its end even when ctx ends meanwhile,
		// so that what the log says was committed is exactly what was.
		if err := w.Step(context.WithoutCancel(ctx)); err != nil {
			return err
		}
	}
}

// Start runs the writer in the background, as Run; the returned function
// stops it and returns Run's error.
func (w *Writer) Start(ctx context.Context, perSec int) (stop func() error) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, perSec) }()
	return func() error {
		cancel()
		return <-done
	}
}

// Use makes the writer run its next transactions through db: a new
// connection after the database restarted.
func (w *Writer) Use(db DB) {
	w.step.Lock()
	defer w.step.Unlock()
	w.db = db
}

// Log returns the changes committed so far, in commit order.
func (w *Writer) Log() []Change {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Change(nil), w.log...)
}

// Next waits for the transaction in flight, if any, and returns the
// sequence number of the first change of the next one: every change from
// it on is committed after Next was called.
func (w *Writer) Next() int64 {
	w.step.Lock()
	defer w.step.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seq + 1
}

// Transactions is how many transactions the writer committed.
func (w *Writer) Transactions() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.tx
}
