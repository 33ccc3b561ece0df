package sourcetest

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/schema/event"
)

// createTable is the table every scenario writes: n counts the updates of
// a row, so a missing or repeated update shows in the stream.
const createTable = `CREATE TABLE %s (id INT PRIMARY KEY, v VARCHAR(100), n INT)`

// row is one row of a scenario table.
type row struct {
	V string
	N int64
}

// model is what a scenario table holds, by id.
type model map[int64]row

// equal compares two tables and describes the first differences.
func (m model) diff(got model) string {
	var out []string
	for _, id := range slices.Sorted(maps.Keys(m)) {
		if g, ok := got[id]; !ok {
			out = append(out, fmt.Sprintf("id %d missing (want %+v)", id, m[id]))
		} else if g != m[id] {
			out = append(out, fmt.Sprintf("id %d is %+v, want %+v", id, g, m[id]))
		}
	}
	for _, id := range slices.Sorted(maps.Keys(got)) {
		if _, ok := m[id]; !ok {
			out = append(out, fmt.Sprintf("id %d is %+v, want no such row", id, got[id]))
		}
	}
	if len(out) == 0 {
		return ""
	}
	return fmt.Sprintf("%d differences, first: %v", len(out), out[:min(len(out), 10)])
}

// asInt reads an integer column's value whatever its Go integer type.
func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	}
	return 0, false
}

// change reads a record of a scenario table: its id from the key, and its
// after image (the zero row for a delete or tombstone).
func change(r Record) (id int64, after row, err error) {
	if len(r.Key) != 1 {
		return 0, row{}, fmt.Errorf("record at offset %d: key %v, want the one column id", r.Offset, r.Key)
	}
	id, ok := asInt(r.Key[0])
	if !ok {
		return 0, row{}, fmt.Errorf("record at offset %d: key id %T(%v), not an integer", r.Offset, r.Key[0], r.Key[0])
	}
	if r.Value == nil || r.Value.After == nil {
		return id, row{}, nil
	}
	v, _ := r.Field("v")
	n, _ := r.Field("n")
	after.V, _ = v.(string)
	if after.N, ok = asInt(n); !ok {
		return id, row{}, fmt.Errorf("record at offset %d: n is %T(%v), not an integer", r.Offset, n, n)
	}
	return id, after, nil
}

// replay rebuilds a table from its records in topic order. It reports every
// record that does not follow from those before it: a snapshot read or an
// insert of a row already there (an overlap), an update or delete of a row
// not there (a gap), an update whose n is not one more than the row's (an
// update lost or repeated), a tombstone not right after its delete.
func replay(rs []Record) (model, []string, error) {
	m := model{}
	var problems []string
	lastDelete := int64(-1)
	for _, r := range rs {
		id, after, err := change(r)
		if err != nil {
			return nil, nil, err
		}
		prev, present := m[id]
		bad := func(format string, args ...any) {
			problems = append(problems, fmt.Sprintf("offset %d, id %d: ", r.Offset, id)+fmt.Sprintf(format, args...))
		}
		if r.Value == nil {
			if lastDelete != id {
				bad("tombstone not right after the row's delete")
			}
			lastDelete = -1
			continue
		}
		lastDelete = -1
		switch r.Value.Op {
		case event.OpRead, event.OpCreate:
			if present {
				bad("%s of a row already there (%+v)", r.Value.Op, prev)
			}
			m[id] = after
		case event.OpUpdate:
			if !present {
				bad("update of a row not there")
			} else if after.N != prev.N+1 {
				bad("update to n=%d of a row at n=%d", after.N, prev.N)
			}
			m[id] = after
		case event.OpDelete:
			if !present {
				bad("delete of a row not there")
			}
			delete(m, id)
			lastDelete = id
		default:
			bad("unexpected op %s", r.Value.Op)
		}
	}
	return m, problems, nil
}

// rebuild applies a table's records in topic order, as a consumer that
// upserts by key does, tolerating the replays of at-least-once delivery.
func rebuild(rs []Record) (model, error) {
	m := model{}
	for _, r := range rs {
		id, after, err := change(r)
		if err != nil {
			return nil, err
		}
		switch {
		case r.Value == nil:
		case r.Value.Op == event.OpDelete:
			delete(m, id)
		default:
			m[id] = after
		}
	}
	return m, nil
}

// workload writes random transactions of inserts, updates (n = n + 1) and
// deletes to a scenario table and keeps the model of what it committed.
// Step is called from one goroutine at a time; Model from any.
type workload struct {
	db    Database
	table string
	rng   *rand.Rand
	size  func(r *rand.Rand) int // changes per transaction

	mu    sync.Mutex
	model model
	live  []int64 // ids of the rows there, in no order
	next  int64   // the next id to insert
	steps int     // transactions begun
}

func newWorkload(db Database, table string, size func(r *rand.Rand) int) *workload {
	return &workload{db: db, table: table, rng: rand.New(rand.NewPCG(rand.Uint64(), 1)), size: size, model: model{}, next: 1}
}

// preload inserts rows 1..n with n = 0 in transactions of up to 200 rows.
func (w *workload) preload(t testing.TB, rows int) {
	t.Helper()
	for rows > 0 {
		k := min(rows, 200)
		stmt := fmt.Sprintf("INSERT INTO %s (id, v, n) VALUES ", w.table)
		for i := range k {
			id := w.next + int64(i)
			if i > 0 {
				stmt += ", "
			}
			stmt += fmt.Sprintf("(%d, 'v%d', 0)", id, id)
		}
		mustTx(t, w.db, stmt)
		for i := range k {
			id := w.next + int64(i)
			w.commit(id, row{V: fmt.Sprintf("v%d", id)}, true)
		}
		w.next += int64(k)
		rows -= k
	}
}

func (w *workload) commit(id int64, r row, present bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, was := w.model[id]
	switch {
	case present:
		w.model[id] = r
		if !was {
			w.live = append(w.live, id)
		}
	case was:
		delete(w.model, id)
		i := slices.Index(w.live, id)
		w.live[i] = w.live[len(w.live)-1]
		w.live = w.live[:len(w.live)-1]
	}
}

// Step commits one transaction of changes to distinct rows and records it
// in the model once committed.
func (w *workload) Step() error {
	w.mu.Lock()
	live := slices.Clone(w.live)
	w.steps++
	step := w.steps
	w.mu.Unlock()
	type effect struct {
		id      int64
		r       row
		present bool
	}
	var stmts []string
	var effects []effect
	touched := map[int64]bool{}
	for range w.size(w.rng) {
		op := w.rng.IntN(10)
		var id int64
		if len(live) > 0 {
			id = live[w.rng.IntN(len(live))]
		}
		switch {
		case op < 4 || len(live) == 0 || touched[id]:
			id = w.next
			w.next++
			v := fmt.Sprintf("i%d.%d", id, step)
			stmts = append(stmts, fmt.Sprintf("INSERT INTO %s (id, v, n) VALUES (%d, '%s', 0)", w.table, id, v))
			effects = append(effects, effect{id, row{V: v}, true})
		case op < 8:
			w.mu.Lock()
			cur := w.model[id]
			w.mu.Unlock()
			v := fmt.Sprintf("u%d.%d", id, step)
			stmts = append(stmts, fmt.Sprintf("UPDATE %s SET n = n + 1, v = '%s' WHERE id = %d", w.table, v, id))
			effects = append(effects, effect{id, row{V: v, N: cur.N + 1}, true})
		default:
			stmts = append(stmts, fmt.Sprintf("DELETE FROM %s WHERE id = %d", w.table, id))
			effects = append(effects, effect{id: id})
		}
		touched[id] = true
	}
	if err := w.db.Tx(stmts...); err != nil {
		return err
	}
	for _, e := range effects {
		w.commit(e.id, e.r, e.present)
	}
	return nil
}

// Steps returns how many transactions Step began.
func (w *workload) Steps() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.steps
}

// Run commits transactions in a goroutine of its own, pausing between
// them, until stop is called or the test ends; stop waits for the
// goroutine and returns the error that ended it, if any.
func (w *workload) Run(t testing.TB, pause time.Duration) (stop func() error) {
	done, quit := make(chan struct{}), make(chan struct{})
	var err error
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			case <-time.After(pause):
			}
			if err = w.Step(); err != nil {
				return
			}
		}
	}()
	var once sync.Once
	stop = func() error {
		once.Do(func() { close(quit) })
		<-done
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

// Model returns a copy of what the workload committed.
func (w *workload) Model() model {
	w.mu.Lock()
	defer w.mu.Unlock()
	return maps.Clone(w.model)
}
