package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/sluice-cdc/sluice/bench/internal/daemon"
	"github.com/sluice-cdc/sluice/bench/internal/pgdb"
	"github.com/sluice-cdc/sluice/bench/internal/schedule"
)

// ticksDDL is benchTable in Postgres.
const ticksDDL = `CREATE TABLE ticks (id bigint PRIMARY KEY, ts_ns bigint, note text)`

// pgFeed commits the events as rows of a database of the run's own, which
// a `sluice run` daemon with the Postgres source connector (its defaults,
// streaming only) writes to the topic. An event's origin is when the COMMIT
// of its transaction returned to the writer, whose session uses
// synchronous_commit=on.
type pgFeed struct {
	e      *runEnv
	txRows int
	db     *pgdb.DB
	conn   *pgx.Conn // the writer
	dir    string    // the daemon's files
	source *daemon.Daemon
}

var (
	_ feed      = (*pgFeed)(nil)
	_ sourceCPU = (*pgFeed)(nil)
)

// newPGFeed creates the database and its table and starts the source
// daemon, returning once it streams. On error what was set up is removed.
func newPGFeed(ctx context.Context, o options, e *runEnv) (f *pgFeed, err error) {
	f = &pgFeed{e: e, txRows: o.txRows}
	if f.txRows == 0 {
		f.txRows = max(1, o.rate/100)
	}
	defer func() {
		if err != nil {
			f.close()
			f = nil
		}
	}()
	if f.db, err = pgdb.Create(ctx, o.pgURL, e.prefix); err != nil {
		return f, err
	}
	if f.conn, err = pgx.Connect(ctx, f.db.URL.String()); err != nil {
		return f, fmt.Errorf("connect to database %s: %w", f.db.Name, err)
	}
	if _, err := f.conn.Exec(ctx, ticksDDL); err != nil {
		return f, fmt.Errorf("create table ticks in %s: %w", f.db.Name, err)
	}
	// The test server runs with synchronous_commit=off, where a commit's
	// WAL is flushed (and so decoded) only at the WAL writer's next round.
	// Production commits flush: the writer does too.
	if _, err := f.conn.Exec(ctx, "SET synchronous_commit = on"); err != nil {
		return f, fmt.Errorf("set synchronous_commit: %w", err)
	}
	if f.dir, err = os.MkdirTemp("", "bench-sse-source-"); err != nil {
		return f, err
	}
	u := f.db.URL
	pw, _ := u.User.Password()
	f.source, err = daemon.Start(o.sluice, filepath.Join(f.dir, "source"), o.brokers, e.regSrv.URL, map[string]any{
		"name": "pg-" + e.prefix, "config": map[string]string{
			"connector.class": "postgres", "database.hostname": u.Hostname(), "database.port": u.Port(),
			"database.user": u.User.Username(), "database.password": pw, "database.dbname": f.db.Name,
			"database.sslmode": "disable", "slot.name": e.prefix, "publication.name": e.prefix,
			"topic.prefix": e.prefix, "table.include.list": "public.ticks", "snapshot.mode": "no_data",
		}}, "streaming started")
	if err != nil {
		return f, err
	}
	return f, f.source.WaitFor(ctx, "streaming started", time.Minute)
}

// first commits row 0 and waits until the topic holds its record.
func (f *pgFeed) first(ctx context.Context) error {
	if _, err := f.conn.Exec(ctx, "INSERT INTO ticks VALUES (0, $1, $2)", time.Now().UnixNano(), note); err != nil {
		return fmt.Errorf("insert the first row: %w", err)
	}
	adm := kadm.NewClient(f.e.cl)
	for deadline := time.Now().Add(time.Minute); ; {
		ends, err := adm.ListEndOffsets(ctx, f.e.topic)
		if err == nil {
			if end, ok := ends.Lookup(f.e.topic, 0); ok && end.Err == nil && end.Offset > 0 {
				return nil
			}
		}
		if err := f.source.Failed(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("topic %s has no record a minute after the first row was committed", f.e.topic)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// load commits transactions of txRows rows on a fixed schedule (a late
// one does not shift the later ones), each a pipelined batch of INSERTs,
// so one implicit transaction.
func (f *pgFeed) load(ctx context.Context, t0 time.Time, rate, n int, origins []int64) (int, error) {
	interval := schedule.Interval(rate, f.txRows)
	groups := (n + f.txRows - 1) / f.txRows
	written := 0
	err := schedule.Run(ctx, t0, interval, interval*time.Duration(groups), func(time.Time) error {
		if err := f.source.Failed(); err != nil {
			return err
		}
		k := min(f.txRows, n-written)
		b := &pgx.Batch{}
		for i := range k {
			b.Queue("INSERT INTO ticks VALUES ($1, $2, $3)", int64(written+1+i), time.Now().UnixNano(), note)
		}
		if err := f.conn.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("commit rows %d..%d: %w", written+1, written+k, err)
		}
		at := time.Since(t0).Nanoseconds()
		for i := range k {
			origins[written+1+i] = at
		}
		written += k
		return nil
	})
	return written, err
}

func (f *pgFeed) cpu() (time.Duration, error) { return f.source.CPU() }

// close stops the daemon, then drops the slot and the database.
func (f *pgFeed) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if f.conn != nil {
		f.conn.Close(ctx)
	}
	if f.source != nil {
		if err := f.source.Stop(); err != nil {
			slog.Warn("stop the source daemon", "error", err)
		}
	}
	if f.db != nil {
		if err := f.db.Drop(ctx, f.e.prefix); err != nil {
			slog.Warn("remove the database", "error", err)
		}
	}
	if f.dir != "" {
		os.RemoveAll(f.dir)
	}
}
