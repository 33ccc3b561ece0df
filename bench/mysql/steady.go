package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/sluice-cdc/sluice/bench/internal/appended"
	"github.com/sluice-cdc/sluice/bench/internal/figures"
	"github.com/sluice-cdc/sluice/bench/internal/procstat"
	"github.com/sluice-cdc/sluice/bench/internal/schedule"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/registry"
)

// The steady load's mix, in percent of the rows changed.
const (
	insertPercent = 50
	updatePercent = 35 // the rest are deletes
)

// runSteady streams a fixed rate of inserts, updates and deletes through
// sluice and measures the latency from each commit, as the writing client
// times it, to the Kafka append.
func runSteady(ctx context.Context, o options, run int) (result, error) {
	var r result
	if o.rate <= 0 || o.txRows <= 0 || o.duration <= 0 {
		return r, fmt.Errorf("-rate, -tx-rows and -duration must be positive")
	}
	e, err := newRunEnv(ctx, o, "steady", run)
	if err != nil {
		return r, err
	}
	defer e.close()
	// Rows to update and delete; written before sluice's start position
	// (the binlog's end when it first starts), so not captured.
	if err := writeRows(e.db, 1, int64(o.prefill)+1, 10_000); err != nil {
		return r, err
	}
	c, err := e.startChild(ctx, o, figures.RunFile(o.cpuProfile, run))
	if err != nil {
		return r, err
	}
	if err := c.WaitRunning(ctx, 60*time.Second); err != nil {
		c.Kill()
		return r, err
	}

	logf(o, "run %d: %d rows/s for %s", run, o.rate, o.duration)
	w := &writer{db: e.db, lo: 1, hi: int64(o.prefill) + 1, rng: rand.New(rand.NewPCG(uint64(run), 7)),
		inserted: map[int64]int64{}, updated: map[int64]int64{}, deleted: map[int64]int64{}}
	server := procstat.Listener(e.srv.addr())
	serverBase := procstat.CPUSince(server, 0)
	broker := procstat.Listener(e.kafka.Brokers[0])
	brokerBase := procstat.CPUSince(broker, 0)
	start := time.Now()
	err = schedule.Run(ctx, start, schedule.Interval(o.rate, o.txRows), o.duration, func(time.Time) error {
		if err := c.Failed(); err != nil {
			return err
		}
		return w.transaction(o.txRows)
	})
	if err != nil {
		c.Kill()
		return r, err
	}
	r.WallSeconds = time.Since(start).Seconds()
	want := w.inserts + w.updates + 2*w.deletes // a tombstone follows each delete
	_, err = e.waitRecords(ctx, o, c, want, 30*time.Second)
	r.ServerCPU = procstat.CPUSince(server, serverBase).Seconds()
	r.BrokerCPU = procstat.CPUSince(broker, brokerBase).Seconds()
	if err != nil {
		c.Kill()
		return r, err
	}
	cpu, rss, err := c.Stop()
	if err != nil {
		return r, err
	}
	records, lat, err := e.latencies(ctx, w, start.Add(o.warmup))
	if err != nil {
		return r, err
	}
	if o.latencyFile != "" {
		if err := lat.WriteCSV(figures.RunFile(o.latencyFile, run)); err != nil {
			return r, err
		}
	}
	if records != want {
		return r, fmt.Errorf("topic %s holds %d records, want %d", e.topic, records, want)
	}
	r.TargetRate = float64(o.rate)
	r.Transactions = float64(len(w.rtt))
	slices.Sort(w.rtt)
	r.CommitRTTP50, r.CommitRTTP99 = quantile(w.rtt, 0.50), quantile(w.rtt, 0.99)
	r.Rows = float64(w.inserts + w.updates + w.deletes)
	r.Records = float64(want)
	r.CPUSeconds = cpu.Seconds()
	r.PeakRSSMB = float64(rss) / (1 << 20)
	r.LatencySamples = float64(lat.Len())
	r.LatencyP50, r.LatencyP99, r.LatencyMax = lat.Quantile(0.50), lat.Quantile(0.99), lat.Quantile(1)
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

// writer changes rows at a fixed rate: transactions of -tx-rows changes.
// Live ids are [lo, hi): inserts take hi, deletes take lo, updates pick one
// at random, so every change hits a row. It remembers when each change's
// transaction committed, by what identifies the change in its record: an
// inserted or deleted row's id (each id is inserted and deleted at most
// once), an update's new value of b (a sequence number, unique).
type writer struct {
	db     *client.Conn
	lo, hi int64
	rng    *rand.Rand

	inserts, updates, deletes int64
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
		p := w.rng.IntN(100)
		switch {
		case p < insertPercent || w.hi-w.lo < 2:
			if ins.Len() == 0 {
				ins.WriteString(";" + insertInto)
			} else {
				ins.WriteByte(',')
			}
			appendRow(&ins, w.hi, 0, ts)
			changes = append(changes, change{w.inserted, w.hi})
			w.hi++
			w.inserts++
		case p < insertPercent+updatePercent:
			id := w.lo + w.rng.Int64N(w.hi-w.lo)
			w.updates++
			v := int(w.updates) // unique: the key of the update's record
			fmt.Fprintf(&upd, ";UPDATE `rows` SET b = %d, ts = %s, txt = '%s' WHERE id = %d", v, ts, text(id, v), id)
			changes = append(changes, change{w.updated, int64(v)})
		default:
			if del.Len() == 0 {
				del.WriteString(";DELETE FROM `rows` WHERE id IN (")
			} else {
				del.WriteByte(',')
			}
			del.WriteString(strconv.FormatInt(w.lo, 10))
			changes = append(changes, change{w.deleted, w.lo})
			w.lo++
			w.deletes++
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

// latencies reads the run's topic from the start and returns how many
// records it read (tombstones included) and, for each change whose
// transaction committed at or after from, the broker's append time minus
// the commit time the writer took. Both are milliseconds. Every change
// record must be one the writer made.
func (e *runEnv) latencies(ctx context.Context, w *writer, from time.Time) (int64, *figures.Latencies, error) {
	out := &figures.Latencies{}
	end, err := e.kafka.Records(ctx)
	if err != nil {
		return 0, out, err
	}
	reg, err := registry.New(e.kafka.RegistryURL)
	if err != nil {
		return 0, out, err
	}
	fromMs := from.UnixMilli()
	var cols *event.Schema
	idCol, bCol := -1, -1
	records, err := appended.Each(ctx, e.kafka.Brokers, reg, e.topic, end, 5*time.Minute, func(ev *event.Event, envelope *event.Schema, at time.Time) error {
		if envelope != cols {
			cols, idCol, bCol = envelope, -1, -1
			if i := envelope.FieldIndex("after"); i >= 0 {
				value := envelope.Fields[i].Schema
				idCol, bCol = value.FieldIndex("id"), value.FieldIndex("b")
			}
			if idCol < 0 || bCol < 0 {
				return fmt.Errorf("records of %s have no id or b column", e.topic)
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
			return fmt.Errorf("unexpected %c record in %s", ev.Op, e.topic)
		}
		commit, found := m[key]
		if !ok || !found {
			return fmt.Errorf("a %c record in %s the writer did not make (key %d)", ev.Op, e.topic, key)
		}
		if commit >= fromMs {
			out.Add(commit, at.UnixMilli()-commit)
		}
		return nil
	})
	out.Sort()
	return records, out, err
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
