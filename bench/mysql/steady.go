package main

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/sluice-cdc/sluice/bench/internal/figures"
	"github.com/sluice-cdc/sluice/bench/internal/rowgen"
	"github.com/sluice-cdc/sluice/bench/internal/sourcebench"
	"github.com/sluice-cdc/sluice/internal/procstat"
	"github.com/sluice-cdc/sluice/schema/event"
)

// runSteady streams a fixed rate of inserts, updates and deletes through
// sluice and measures the latency from each commit, as the writing client
// times it, to the Kafka append.
func (o *options) runSteady(ctx context.Context, run int) (result, error) {
	var r result
	if err := o.CheckSteady(); err != nil {
		return r, err
	}
	e, err := newRunEnv(ctx, o, "steady", run)
	if err != nil {
		return r, err
	}
	defer e.close()
	// Rows to update and delete; written before sluice's start position
	// (the binlog's end when it first starts), so not captured.
	if err := writeRows(e.db, 1, int64(o.Prefill)+1, 10_000); err != nil {
		return r, err
	}
	c, err := e.StartChild(ctx, figures.RunFile(o.CPUProfile, run))
	if err != nil {
		return r, err
	}
	if err := c.WaitRunning(ctx, 60*time.Second); err != nil {
		c.Kill()
		return r, err
	}

	o.Logf("run %d: %d rows/s for %s", run, o.Rate, o.Duration)
	w := &writer{db: e.db, mix: rowgen.NewMix(run, o.Prefill),
		inserted: map[int64]int64{}, updated: map[int64]int64{}, deleted: map[int64]int64{}}
	window := e.Measure(c, procstat.BeginListener(e.srv.addr()))
	start := time.Now()
	if err := o.Load(ctx, c, start, w.transaction); err != nil {
		c.Kill()
		return r, err
	}
	r.WallSeconds = time.Since(start).Seconds()
	want := w.mix.Records()
	cpu, err := window.Caught(ctx, &r.Figures, want)
	r.ServerCPU, r.BrokerCPU = cpu.Database, cpu.Broker
	if err != nil {
		return r, err
	}
	lat, err := e.Latencies(ctx, run, start, want, e.commitTime(w))
	if err != nil {
		return r, err
	}
	r.TargetRate = float64(o.Rate)
	r.Transactions = float64(len(w.rtt))
	slices.Sort(w.rtt)
	r.CommitRTTP50, r.CommitRTTP99 = quantile(w.rtt, 0.50), quantile(w.rtt, 0.99)
	r.Rows = float64(w.mix.Changes())
	r.Records = float64(want)
	r.Latency.Set(lat)
	r.derive()
	return r, nil
}

// quantile returns the q-quantile (nearest rank) of sorted values.
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	return sorted[max(int(math.Ceil(q*float64(len(sorted))))-1, 0)]
}

// writer commits the changes of a rowgen.Mix. It remembers when each change's
// transaction committed, by what identifies the change in its record: an
// inserted or deleted row's id (each id is inserted and deleted at most
// once), an update's new value of b (a sequence number, unique).
type writer struct {
	db  *client.Conn
	mix *rowgen.Mix

	// Commit times in Unix ms: by id, by id, by b.
	inserted, deleted, updated map[int64]int64
	rtt                        []float64 // each COMMIT's round trip, ms
}

// transaction commits n changes in one transaction: BEGIN and the changes
// in one multi-statement query (the inserts in one multi-row INSERT, then
// each update, then the deletes in one DELETE, so that an update never
// misses a row deleted in the same transaction), then COMMIT. The commit
// time is taken just before COMMIT is sent: the server commits, and writes
// the transaction to its binlog, within the COMMIT's round trip after that.
func (w *writer) transaction(n int) error {
	ts := tsLiteral(time.Now())
	type change struct {
		m   map[int64]int64
		key int64
	}
	changes := make([]change, 0, n)
	var ins, upd, del strings.Builder
	for range n {
		switch op, id := w.mix.Next(); op {
		case rowgen.Insert:
			if ins.Len() == 0 {
				ins.WriteString(";" + insertInto)
			} else {
				ins.WriteByte(',')
			}
			appendRow(&ins, id, 0, ts)
			changes = append(changes, change{w.inserted, id})
		case rowgen.Update:
			v := int(w.mix.Updates) // unique: the key of the update's record
			fmt.Fprintf(&upd, ";UPDATE `rows` SET b = %d, ts = %s, txt = '%s' WHERE id = %d", v, ts, rowgen.Text(id, v), id)
			changes = append(changes, change{w.updated, int64(v)})
		default:
			if del.Len() == 0 {
				del.WriteString(";DELETE FROM `rows` WHERE id IN (")
			} else {
				del.WriteByte(',')
			}
			del.WriteString(strconv.FormatInt(id, 10))
			changes = append(changes, change{w.deleted, id})
		}
	}
	if del.Len() > 0 {
		del.WriteByte(')')
	}
	var qerr error
	if _, err := w.db.ExecuteMultiple("BEGIN"+ins.String()+upd.String()+del.String(), func(_ *gomysql.Result, err error) {
		if err != nil && qerr == nil {
			qerr = err
		}
	}); err != nil || qerr != nil {
		return fmt.Errorf("write a transaction of %d changes: %v", n, errorsOr(err, qerr))
	}
	t0 := time.Now()
	if _, err := w.db.Execute("COMMIT"); err != nil {
		return fmt.Errorf("commit a transaction of %d changes: %w", n, err)
	}
	w.rtt = append(w.rtt, float64(time.Since(t0).Microseconds())/1000)
	at := t0.UnixMilli()
	for _, c := range changes {
		c.m[c.key] = at
	}
	return nil
}

func errorsOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// commitTime returns the commit time the writer w took for each change
// record (sourcebench.Latencies); every change record must be one w made.
func (e *runEnv) commitTime(w *writer) sourcebench.CommitTime {
	var cols *event.Schema
	idCol, bCol := -1, -1
	return func(ev *event.Event, envelope *event.Schema) (int64, error) {
		if envelope != cols {
			cols, idCol, bCol = envelope, -1, -1
			if i := envelope.FieldIndex("after"); i >= 0 {
				value := envelope.Fields[i].Schema
				idCol, bCol = value.FieldIndex("id"), value.FieldIndex("b")
			}
			if idCol < 0 || bCol < 0 {
				return 0, fmt.Errorf("records of %s have no id or b column", e.Topic)
			}
		}
		var m map[int64]int64
		var key int64
		var ok bool
		switch ev.Op {
		case event.OpCreate:
			m = w.inserted
			key, ok = integer(ev.After, idCol)
		case event.OpUpdate:
			m = w.updated
			key, ok = integer(ev.After, bCol)
		case event.OpDelete:
			m = w.deleted
			key, ok = integer(ev.Before, idCol)
		default:
			return 0, fmt.Errorf("unexpected %c record in %s", ev.Op, e.Topic)
		}
		commit, found := m[key]
		if !ok || !found {
			return 0, fmt.Errorf("a %c record in %s the writer did not make (key %d)", ev.Op, e.Topic, key)
		}
		return commit, nil
	}
}

// integer returns column i of row as an int64.
func integer(row event.Row, i int) (int64, bool) {
	if i < 0 || i >= len(row) {
		return 0, false
	}
	switch v := row[i].(type) {
	case int64:
		return v, true
	case int32:
		return int64(v), true
	case int:
		return int64(v), true
	}
	return 0, false
}
