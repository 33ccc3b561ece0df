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
	metrics  sourceMetrics
}

// sourceMetrics are the source's series, labelled with the connector name.
type sourceMetrics struct {
	events  *metrics.Counter   // events made durable in Kafka
	lag     *metrics.Gauge     // WAL received but not yet confirmed, in bytes
	latency *metrics.Histogram // commit in Postgres to acknowledgement by Kafka
}

func newSourceMetrics(r *metrics.Registry, name string) sourceMetrics {
	if r == nil {
		r = metrics.NewRegistry()
	}
	l := []string{"connector"}
	return sourceMetrics{
		events:  r.Counter("sluice_source_events_total", "Change events made durable in Kafka.", l, name),
		lag:     r.Gauge("sluice_postgres_slot_lag_bytes", "WAL received from the slot but not yet confirmed, in bytes.", l, name),
		latency: r.Histogram("sluice_source_commit_to_ack_seconds", "Time from a change's commit in the database to Kafka acknowledging it (millisecond resolution).", metrics.LatencyBuckets, l, name),
	}
}

var _ connectors.Source = (*Source)(nil)

func init() {
	connectors.Register(connectors.Class{
		Name:      "postgres",
		Aliases:   []string{"io.debezium.connector.postgresql.PostgresConnector", "postgresql"},
		Kind:      connectors.KindSource,
		Connector: "postgresql",
		Spec:      Spec,
		NewSource: func(c *conf.Config, env connectors.Env) (connectors.Source, error) {
			cfg, err := ParseConfig(c)
			if err != nil {
				return nil, err
			}
			return New(cfg, env), nil
		},
	})
}

// New returns a source for cfg; nothing connects until Run.
func New(cfg *Config, env connectors.Env) *Source {
	logger := env.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger = logger.With("slot", cfg.Slot)
	return &Source{cfg: cfg, env: env, logger: logger, spillDir: filepath.Join(env.StateDir, "spill"), metrics: newSourceMetrics(env.Metrics, env.Name)}
}

// Run captures changes until ctx ends or a failure. See connectors.Source.
func (s *Source) Run(ctx context.Context, out connectors.Emitter) error {
	conn, err := s.connect(ctx, false)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	s.catalog = conn
	if s.types, err = s.newMapper(conn); err != nil {
		return err
	}

	tables, err := s.preflight(ctx, conn)
	if err != nil {
		return err
	}
	if err := s.ensurePublication(ctx, conn, tables); err != nil {
		return err
	}
	slot, err := s.slotState(ctx, conn)
	if err != nil {
		return err
	}
	state, err := s.loadOffsets(ctx)
	if err != nil {
		return err
	}
	if !slot.exists && state.SnapshotCompleted && s.cfg.SnapshotMode != "when_needed" && s.cfg.SnapshotMode != "always" {
		return connectors.Permanent(fmt.Errorf("%w: slot %q no longer exists although streaming had reached %s; changes since may be lost. "+
			"To take a new snapshot, reset the connector's offsets or set snapshot.mode=when_needed", ErrSlotLost, s.cfg.Slot, pglogrepl.LSN(state.LSN)))
	}
	if state.SnapshotCompleted && s.cfg.SnapshotMode == "initial_only" {
		s.logger.Info("snapshot already complete; snapshot.mode=initial_only, so nothing to do")
		<-ctx.Done()
		return ctx.Err()
	}

	repl, err := s.connectReplication(ctx)
	if err != nil {
		return err
	}
	defer repl.Close(context.WithoutCancel(ctx))

	start := slot.confirmedFlush
	var snap *snapshotPlan
	if !slot.exists {
		created, err := pglogrepl.CreateReplicationSlot(ctx, repl, s.cfg.Slot, "pgoutput",
			pglogrepl.CreateReplicationSlotOptions{Mode: pglogrepl.LogicalReplication, SnapshotAction: "EXPORT_SNAPSHOT"})
		if err != nil {
			return fmt.Errorf("create replication slot %q: %w", s.cfg.Slot, err)
		}
		if start, err = pglogrepl.ParseLSN(created.ConsistentPoint); err != nil {
			return fmt.Errorf("parse the consistent point of slot %q: %w", s.cfg.Slot, err)
		}
		s.logger.Info("replication slot created", "consistent_point", created.ConsistentPoint)
		state = &offsetState{}
		if s.cfg.SnapshotMode != "no_data" {
			snap = &snapshotPlan{name: created.SnapshotName, lsn: start, tables: tables}
		}
	} else if snap = s.resumeSnapshot(state, start, tables); snap != nil {
		s.logger.Info("snapshot resumes without the original exported snapshot; streaming from the slot then brings every row to its latest state")
	}

	chunks := make(chan chunk, 8)
	st := &stream{src: s, out: chunks, relations: newRelations(),
		streams: map[uint32]*spill{}, streamRel: map[uint32]*relations{}}
	st.confirmed.Store(uint64(start))
	ack := &acker{src: s, stream: st, state: state}

	var streaming atomic.Bool
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.batch(gctx, chunks, out, ack) })
	g.Go(func() error {
		if snap != nil {
			if err := s.snapshot(gctx, snap, chunks); err != nil {
				return err
			}
			if err := sendChunk(gctx, chunks, chunk{snapshotDone: true}); err != nil {
				return err
			}
			if s.cfg.SnapshotMode == "initial_only" {
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
		st.conn = repl
		streaming.Store(true)
		if s.cfg.HeartbeatInterval > 0 {
			g.Go(func() error { return s.heartbeat(gctx) })
		}
		return st.run(gctx)
	})
	err = g.Wait()
	if ctx.Err() != nil {
		s.drain(out, st, streaming.Load())
	}
	if s.cfg.SlotDropOnStop && errors.Is(err, context.Canceled) {
		repl.Close(context.WithoutCancel(ctx))
		if derr := s.dropSlot(context.WithoutCancel(ctx)); derr != nil {
			s.logger.Error("slot.drop.on.stop: dropping the slot failed", "error", derr)
		}
	}
	return err
}

// drainTimeout bounds how long a stopping source waits for its in-flight
// batches before it reports its final position.
const drainTimeout = 10 * time.Second

// drain waits for the batches in flight to be acknowledged (saving snapshot
// progress) and, when streaming, reports the final confirmed position, so a
// restart replays as little as possible. Whatever is not acknowledged in
// time is simply replayed after restart.
func (s *Source) drain(out connectors.Emitter, st *stream, streaming bool) {
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	if err := out.Flush(ctx); err != nil {
		s.logger.Warn("stopping with batches not acknowledged; they will be replayed after restart", "error", err)
	}
	if !streaming {
		return
	}
	if err := st.sendStatus(ctx, false); err != nil {
		s.logger.Warn("final status update failed; the slot keeps its previous position", "error", err)
		return
	}
	s.logger.Info("stopped", "confirmed_lsn", pglogrepl.LSN(st.confirmed.Load()).String())
}

// resumeSnapshot decides whether an existing slot still needs a snapshot:
// always with snapshot.mode=always, and when a snapshot was under way or
// never taken (and the mode asks for one).
func (s *Source) resumeSnapshot(state *offsetState, lsn pglogrepl.LSN, tables []capturedTable) *snapshotPlan {
	switch {
	case s.cfg.SnapshotMode == "always":
		return &snapshotPlan{lsn: lsn, tables: tables}
	case s.cfg.SnapshotMode == "no_data":
		return nil
	case state.Snapshot != nil:
		return &snapshotPlan{lsn: pglogrepl.LSN(state.Snapshot.LSN), tables: tables, resume: state.Snapshot}
	case !state.SnapshotCompleted:
		return &snapshotPlan{lsn: lsn, tables: tables}
	}
	return nil
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
