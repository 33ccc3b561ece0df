// Package postgres is the PostgreSQL source connector: it reads a logical
// replication slot with the built-in pgoutput plugin, snapshots the
// captured tables consistently with the slot, and emits every committed
// change in commit order. The slot's confirmed position moves only when the
// pipeline has made the changes before it durable in Kafka.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/sync/errgroup"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/cdc"
	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/connectors/metrics"
	"github.com/sluice-cdc/sluice/schema/logical"
)

// Source captures one Postgres database. It implements connectors.Source.
type Source struct {
	cfg      *Config
	env      connectors.Env
	logger   *slog.Logger
	types    *Mapper
	catalog  *pgx.Conn // catalog look-ups while streaming; owned by Run's goroutine
	spillDir string
	store    *cdc.Store[position]
	metrics  cdc.Metrics
	failures *cdc.Failures  // set by Run
	lag      *metrics.Gauge // WAL received but not yet confirmed, in bytes
}

var _ connectors.Source = (*Source)(nil)

func init() {
	connectors.Register(connectors.Class{
		Name:      "postgres",
		Aliases:   []string{"io.debezium.connector.postgresql.PostgresConnector", "postgresql"},
		Kind:      connectors.KindSource,
		Connector: "postgresql",
		Spec:      Spec,
		Output:    cdc.Output,
		NewSource: func(c *conf.Config, env connectors.Env) (connectors.Source, error) {
			cfg, err := ParseConfig(c)
			if err != nil {
				return nil, err
			}
			return New(cfg, env), nil
		},
		AlterOffset: alterOffset,
		Signals:     true,
	})
}

// New returns a source for cfg; nothing connects until Run.
func New(cfg *Config, env connectors.Env) *Source {
	logger := env.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger = logger.With("slot", cfg.Slot)
	reg := env.Metrics
	if reg == nil {
		reg = metrics.NewRegistry()
	}
	return &Source{cfg: cfg, env: env, logger: logger, spillDir: filepath.Join(env.StateDir, "spill"),
		store: cdc.NewStore[position](env.Offsets, cdc.OffsetKey(cfg.TopicPrefix)), metrics: cdc.NewMetrics(reg, env.Name),
		lag: reg.Gauge("sluice_postgres_slot_lag_bytes", "WAL received from the slot but not yet confirmed, in bytes.", []string{"connector"}, env.Name)}
}

// Run captures changes until ctx ends or a failure. See connectors.Source.
// Errors that only a person can cure (see needsChange) are permanent,
// whether the preflight or a later step meets them.
func (s *Source) Run(ctx context.Context, out connectors.Emitter) (err error) {
	defer func() { err = needsChange(err) }()
	failures, err := cdc.NewFailures(s.cfg.Config, s.env.Name, out, s.metrics, s.logger)
	if err != nil {
		return err
	}
	s.failures = failures
	conn, err := s.connect(ctx, false)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	s.catalog = conn
	if s.types, err = s.newMapper(conn); err != nil {
		return err
	}

	ready, err := s.preflight(ctx, conn)
	if err != nil {
		return err
	}
	if err := s.ensurePublication(ctx, conn, ready.publication); err != nil {
		return err
	}
	tables := ready.tables
	slot, err := s.slotState(ctx, conn)
	if err != nil {
		return err
	}
	st, err := s.store.Load(ctx)
	if err != nil {
		return err
	}
	lost := ""
	if !slot.exists && st.SnapshotCompleted {
		lost = fmt.Sprintf("slot %q no longer exists although streaming had reached %s", s.cfg.Slot, pglogrepl.LSN(st.Position.LSN))
	}
	plan, err := cdc.Decide(s.cfg.SnapshotMode, slot.exists, lost, st)
	if err != nil {
		return err
	}
	if plan.Idle {
		s.logger.Info("snapshot already complete; snapshot.mode=initial_only, so nothing to do")
		s.env.ReportRunning()
		<-ctx.Done()
		return ctx.Err()
	}

	repl, err := s.connectReplication(ctx)
	if err != nil {
		return err
	}
	defer repl.Close(context.WithoutCancel(ctx))

	start, exported := slot.confirmedFlush, ""
	if plan.Fresh {
		created, err := pglogrepl.CreateReplicationSlot(ctx, repl, s.cfg.Slot, "pgoutput",
			pglogrepl.CreateReplicationSlotOptions{Mode: pglogrepl.LogicalReplication, SnapshotAction: "EXPORT_SNAPSHOT"})
		if err != nil {
			return fmt.Errorf("create replication slot %q: %w", s.cfg.Slot, err)
		}
		if start, err = pglogrepl.ParseLSN(created.ConsistentPoint); err != nil {
			return fmt.Errorf("parse the consistent point of slot %q: %w", s.cfg.Slot, err)
		}
		s.logger.Info("replication slot created", "consistent_point", created.ConsistentPoint)
		st, exported = &state{SignalOffset: st.SignalOffset}, created.SnapshotName
	} else if plan.Resume {
		s.logger.Info("snapshot resumes without the original exported snapshot; streaming from the slot then brings every row to its latest state")
	}
	// The slot exists from here on and holds every change after start: the
	// source is capturing, whatever happens to this run.
	s.env.ReportRunning()

	chunks := make(chan chunk, 8)
	chunkReader := newChunkReader(s, tables)
	defer chunkReader.close(context.WithoutCancel(ctx))
	kafkaSignals, err := cdc.OpenKafkaSignals(ctx, s.cfg.KafkaSignals, st.SignalOffset, s.logger)
	if err != nil {
		return err
	}
	defer kafkaSignals.Close()
	strm := &stream{src: s, out: chunks, relations: newRelations(),
		streams: map[uint32]*spill{}, streamRel: map[uint32]*relations{}}
	strm.inc = cdc.NewIncremental(cdc.IncrementalConfig[position]{Reader: chunkReader, ChunkSize: s.cfg.IncrementalChunkSize, Out: chunks,
		Resume: st.Incremental, Signals: s.env.Signals, Kafka: kafkaSignals, Stream: strm,
		Captured: tableNames(tables), Known: st.Captured, NewTables: s.cfg.SnapshotNewTables, Metrics: s.metrics, Logger: s.logger})
	defer strm.inc.Wait() // before chunkReader.close
	strm.confirmed.Store(uint64(start))
	acker := cdc.NewAcker(s.store, st, strm.confirm, s.metrics, s.logger)

	var streaming atomic.Bool
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return cdc.Batch(gctx, chunks, out, acker) })
	g.Go(func() error {
		if plan.Snapshot {
			sp := cdc.SnapshotPlan[position]{Start: *at(start), Tables: tableNames(tables)}
			if plan.Resume {
				sp.Start, sp.Resume = st.Snapshot.Start, st.Snapshot
			}
			if err := s.snapshot(gctx, sp, exported, tables, chunks); err != nil {
				return err
			}
			if s.cfg.SnapshotMode == cdc.SnapshotInitialOnly {
				s.logger.Info("snapshot complete; snapshot.mode=initial_only, so streaming does not start")
				<-gctx.Done()
				return gctx.Err()
			}
		}
		if err := resetSpillDir(s.spillDir); err != nil {
			return err
		}
		if err := s.startReplication(gctx, repl, start); err != nil {
			return err
		}
		strm.conn = repl
		streaming.Store(true)
		if s.cfg.HeartbeatInterval > 0 {
			g.Go(func() error { return s.heartbeat(gctx) })
		}
		return strm.run(gctx)
	})
	err = g.Wait()
	// Stopped, or failed for good, what Kafka acknowledged is saved and
	// confirmed to the slot, so that a restart replays as little as it can.
	// (A transient failure restarts at once rather than wait for a Kafka
	// that may be the cause.)
	if ctx.Err() != nil || errors.Is(err, connectors.ErrPermanent) {
		cdc.Drain(out, acker, s.logger, func(ctx context.Context) error {
			if !streaming.Load() {
				return nil
			}
			if err := strm.sendStatus(ctx, false); err != nil {
				return err
			}
			if err := strm.end(ctx); err != nil {
				return err
			}
			s.logger.Info("stopped", "confirmed_lsn", pglogrepl.LSN(strm.confirmed.Load()).String())
			return nil
		})
	}
	if s.cfg.SlotDropOnStop && errors.Is(err, context.Canceled) {
		repl.Close(context.WithoutCancel(ctx))
		if derr := s.dropSlot(context.WithoutCancel(ctx)); derr != nil {
			s.logger.Error("slot.drop.on.stop: dropping the slot failed", "error", derr)
		}
	}
	return err
}

// tableNames returns the names the snapshot knows tables by.
func tableNames(tables []capturedTable) []string {
	out := make([]string, len(tables))
	for i, t := range tables {
		out[i] = t.String()
	}
	return out
}

// connect opens a normal connection for catalog queries and snapshots.
func (s *Source) connect(ctx context.Context, replication bool) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, s.cfg.ConnString(replication))
	if err != nil {
		return nil, connectError(s.cfg, err)
	}
	return conn, nil
}

// connectReplication opens a replication connection.
func (s *Source) connectReplication(ctx context.Context) (*pgconn.PgConn, error) {
	conn, err := pgconn.Connect(ctx, s.cfg.ConnString(true))
	if err != nil {
		return nil, connectError(s.cfg, err)
	}
	return conn, nil
}

// needsChange marks permanent a server error that retrying cannot cure: a
// privilege the role lacks (SQLSTATE 42501), met after the preflight (a
// right revoked while running, a statement the preflight does not foresee).
func needsChange(err error) error {
	var pgErr *pgconn.PgError
	if err != nil && !errors.Is(err, connectors.ErrPermanent) && errors.As(err, &pgErr) && pgErr.Code == "42501" {
		return connectors.Permanent(err)
	}
	return err
}

// connectError names the server without the password and marks
// authentication failures permanent, so they do not retry in a loop.
func connectError(cfg *Config, err error) error {
	err = fmt.Errorf("connect to %s: %w", cfg.Redacted(), err)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "28P01", "28000", "3D000": // invalid password, invalid authorization, unknown database
			return connectors.Permanent(err)
		}
	}
	return err
}

// startReplication starts streaming from lsn with pgoutput: protocol 2 with
// streaming of large in-progress transactions on Postgres 14 and later.
func (s *Source) startReplication(ctx context.Context, conn *pgconn.PgConn, lsn pglogrepl.LSN) error {
	args := []string{"proto_version '1'", fmt.Sprintf("publication_names '%s'", s.cfg.Publication), "messages 'true'"}
	if serverVersion(conn) >= 140000 {
		args = []string{"proto_version '2'", fmt.Sprintf("publication_names '%s'", s.cfg.Publication), "messages 'true'", "streaming 'true'"}
	}
	err := pglogrepl.StartReplication(ctx, conn, s.cfg.Slot, lsn, pglogrepl.StartReplicationOptions{Mode: pglogrepl.LogicalReplication, PluginArgs: args})
	if err != nil {
		return fmt.Errorf("start replication on slot %q at %s: %w", s.cfg.Slot, lsn, err)
	}
	s.logger.Info("streaming started", "lsn", lsn.String())
	return nil
}

// serverVersion reads server_version_num from the connection's parameters.
func serverVersion(conn *pgconn.PgConn) int {
	var v int
	fmt.Sscan(conn.ParameterStatus("server_version_num"), &v)
	if v == 0 {
		var major, minor int
		fmt.Sscanf(conn.ParameterStatus("server_version"), "%d.%d", &major, &minor)
		v = major * 10000
	}
	return v
}

// newMapper builds the column mapper for the configured handling modes,
// resolving types through the catalog connection.
func (s *Source) newMapper(conn *pgx.Conn) (*Mapper, error) {
	dec, err := logical.ParseDecimalMode(s.cfg.DecimalMode)
	if err != nil {
		return nil, connectors.Permanent(err)
	}
	tm, err := logical.ParseTimeMode(s.cfg.TimePrecisionMode)
	if err != nil {
		return nil, connectors.Permanent(err)
	}
	bin, err := logical.ParseBinaryMode(s.cfg.BinaryMode)
	if err != nil {
		return nil, connectors.Permanent(err)
	}
	iv, err := logical.ParseIntervalMode(s.cfg.IntervalMode)
	if err != nil {
		return nil, connectors.Permanent(err)
	}
	return NewMapper(NewTypeResolver(conn), WithDecimalMode(dec), WithTimeMode(tm), WithBinaryMode(bin),
		WithIntervalMode(iv), WithLogger(s.logger)), nil
}

// tableInfo reads a table's description from the catalog.
func (s *Source) tableInfo(ctx context.Context, oid uint32) (*tableInfo, error) {
	return loadTable(ctx, s.catalog, oid)
}

// heartbeat emits a logical message every heartbeat.interval.ms (or runs
// heartbeat.action.query), so the slot advances even when the captured
// tables are idle while others are busy.
func (s *Source) heartbeat(ctx context.Context) error {
	conn, err := s.connect(ctx, false)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	query := "SELECT pg_logical_emit_message(false, 'sluice_heartbeat', '')"
	if s.cfg.HeartbeatQuery != "" {
		query = s.cfg.HeartbeatQuery
	}
	t := time.NewTicker(s.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			if _, err := conn.Exec(ctx, query); err != nil {
				return fmt.Errorf("heartbeat: %w", err)
			}
		}
	}
}
