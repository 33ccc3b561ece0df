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
// times it, to the Kafka append; with -debezium, the same load again
// through each of Debezium's connectors in turn.
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
	window := e.Measure(c, procstat.BeginListener(e.srv.addr()))
	start := time.Now()
	w, err := o.load(ctx, e, run, c.Failed, start)
	if err != nil {
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
	lat, err := e.Latencies(ctx, run, start, want, w.commitTime)
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
	if e.workers != nil {
		err = e.SteadyDebezium(ctx, run, e.workers, e.dbz, sourcebench.DebeziumLoad{
			Reset: func(context.Context) error {
				for _, q := range []string{"TRUNCATE TABLE `rows`", "TRUNCATE TABLE marker"} {
					if _, err := e.db.Execute(q); err != nil {
						return err
					}
				}
				return writeRows(e.db, 1, int64(o.Prefill)+1, 10_000)
			},
			Mark: func(n int) error {
				_, err := e.db.Execute(fmt.Sprintf("INSERT INTO marker VALUES (%d)", n))
				return err
			},
			Load: func(ctx context.Context, failed func() error, start time.Time) (sourcebench.Loaded, error) {
				w, err := o.load(ctx, e, run, failed, start)
				return sourcebench.Loaded{Changes: w.mix.Changes(), Records: w.mix.Records(), Commit: w.commitTime}, err
			},
		}, &r.Debezium, r.LatencyP99)
	}
	return r, err
}

// load commits run's steady load (the same changes in every call) from
// start on the run's database, checking failed before each transaction,
// and returns its writer, which holds the commit times.
func (o *options) load(ctx context.Context, e *runEnv, run int, failed func() error, start time.Time) (*writer, error) {
	w := &writer{db: e.db, mix: rowgen.NewMix(run, o.Prefill),
		inserted: map[int64]int64{}, updated: map[int64]int64{}, deleted: map[int64]int64{}}
	return w, o.Load(ctx, failed, start, w.transaction)
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

// commitTime returns the commit time w took for the change c
// (sourcebench.CommitTime), found by what identifies it: every change
// record must be one w made.
func (w *writer) commitTime(c *sourcebench.Change) (int64, error) {
	var m map[int64]int64
	key := c.ID
	switch c.Op {
	case event.OpCreate:
		m = w.inserted
	case event.OpUpdate:
		m, key = w.updated, c.B
	case event.OpDelete:
		m = w.deleted
	default:
		return 0, fmt.Errorf("unexpected %c record", c.Op)
	}
	commit, found := m[key]
	if !found {
		return 0, fmt.Errorf("a %c record the writer did not make (key %d)", c.Op, key)
	}
	return commit, nil
}
