package mysql

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/go-mysql-org/go-mysql/client"

	"golang.org/x/sync/errgroup"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/cdc"
	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/schema/event"
)

// Source captures the tables of one MySQL or MariaDB server. It implements
// connectors.Source.
type Source struct {
	cfg      *Config
	env      connectors.Env
	logger   *slog.Logger
	mapper   *Mapper
	tables   *tables
	failures *cdc.Failures // set by Run

	// Learnt by preflight.
	flavor       string // go-mysql's mysql.MariaDBFlavor or mysql.MySQLFlavor
	serverID     uint32 // the server's own @@server_id
	fullMetadata bool   // binlog_row_metadata=FULL: table maps name their columns

	// stripMetadata, set by tests only, removes from every table map what
	// binlog_row_metadata=NO_LOG leaves out, as if the server logged no
	// metadata.
	stripMetadata bool
}

var _ connectors.Source = (*Source)(nil)

// The source is registered twice, as Debezium's MySQL and MariaDB
// connectors: each class writes its connector's name in source.connector
// and its schema names (io.debezium.connector.mysql.Source,
// io.debezium.connector.mariadb.Source, …); either reads either server.
func init() {
	register("mysql", "io.debezium.connector.mysql.MySqlConnector")
	register("mariadb", "io.debezium.connector.mariadb.MariaDbConnector")
}

// register registers the class name, with its Java class name as alias,
// writing name as the connector.
func register(name, javaClass string) {
	connectors.Register(connectors.Class{
		Name:      name,
		Aliases:   []string{javaClass},
		Kind:      connectors.KindSource,
		Connector: name,
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
	s := &Source{cfg: cfg, env: env, logger: logger}
	s.mapper = NewMapper(WithDecimalMode(cfg.Decimal), WithTimeMode(cfg.TimeMode), WithBinaryMode(cfg.Binary),
		WithBigIntUnsignedMode(cfg.BigInt), WithLogger(logger))
	s.tables = newTables(s)
	return s
}

// Run captures changes until ctx ends or a failure. See connectors.Source.
// It checks the server, decides from snapshot.mode and the stored offsets
// where to start, stores that start position before reporting RUNNING,
// snapshots when needed, then streams from the snapshot's position. Errors
// only a person can cure (see needsChange) are permanent, whether the
// preflight or a later step meets them.
func (s *Source) Run(ctx context.Context, out connectors.Emitter) (err error) {
	defer func() { err = needsChange(err) }()
	metrics := cdc.NewMetrics(s.env.Metrics, s.env.Name)
	failures, err := cdc.NewFailures(s.cfg.Config, s.env.Name, out, metrics, s.logger)
	if err != nil {
		return err
	}
	s.failures = failures
	catalog, err := s.connect(ctx)
	if err != nil {
		return err
	}
	defer catalog.Close()
	if err := s.preflight(ctx, catalog); err != nil {
		return err
	}
	offsets := s.env.Offsets
	saved := &savedPosition{OffsetStore: offsets, key: cdc.OffsetKey(s.cfg.TopicPrefix)}
	if offsets != nil {
		offsets = saved
	}
	store := cdc.NewStore[Position](offsets, cdc.OffsetKey(s.cfg.TopicPrefix))
	state, err := store.Load(ctx)
	if err != nil {
		return err
	}
	usable, lost := false, ""
	if state.Positioned {
		files, err := binlogFiles(catalog)
		if err != nil {
			return err
		}
		if usable = slices.Contains(files, state.Position.File); !usable {
			lost = fmt.Sprintf("binlog file %s (position %d) is no longer on the server", state.Position.File, state.Position.Pos)
		}
	}
	decision, err := cdc.Decide(s.cfg.SnapshotMode, usable, lost, state)
	if err != nil {
		return err
	}
	if decision.Idle {
		s.logger.Info("snapshot already complete; snapshot.mode=initial_only, so nothing to do")
		s.env.ReportRunning()
		<-ctx.Done()
		return ctx.Err()
	}
	if decision.Fresh {
		state = &cdc.State[Position]{}
	}

	var plan *cdc.SnapshotPlan[Position]
	reader := &tableReader{src: s, ids: map[string]event.TableID{}}
	start := state.Position
	fresh := false // the schema history starts at start
	if decision.Snapshot {
		conn, snapPos, err := s.openSnapshot(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		reader.conn = conn
		ids, err := s.capturedTables(conn)
		if err != nil {
			return err
		}
		plan = &cdc.SnapshotPlan[Position]{}
		for _, id := range ids {
			plan.Tables = append(plan.Tables, id.String())
			reader.ids[id.String()] = id
		}
		start, fresh = snapshotStart(s.cfg.SnapshotMode, state, snapPos)
		plan.Start, plan.Resume = start, state.Snapshot
		if fresh {
			state.Snapshot, state.SnapshotCompleted = nil, false
			plan.Resume = nil
		}
		reader.start = plan.Start
	} else if !state.Positioned {
		if start, err = masterStatus(catalog); err != nil {
			return err
		}
		fresh = true
	}
	hist := newHistory(s.env.Offsets, s.cfg.TopicPrefix)
	hist.confirmed = saved.position
	schemaConn := catalog
	if reader.conn != nil {
		schemaConn = reader.conn
	}
	if err := s.startHistory(ctx, hist, schemaConn, catalog, start, fresh); err != nil {
		return err
	}
	if plan != nil && plan.Resume == nil && s.cfg.SchemaChanges {
		if plan.Schema, err = reader.schemaChanges(hist, plan.Tables); err != nil {
			return err
		}
	}
	state.Position, state.Positioned = start, true
	if err := store.Save(ctx, state); err != nil {
		return err
	}
	s.env.ReportRunning()
	s.logger.Info("start position stored", "file", start.File, "pos", start.Pos, "gtids", start.GTIDs, "snapshot", plan != nil)

	chunks := make(chan cdc.Chunk[Position], 8)
	resume, signalOffset, known := state.Incremental, state.SignalOffset, state.Captured // read before the acker, which changes state, runs
	ids, err := s.capturedTables(catalog)
	if err != nil {
		return err
	}
	captured := make([]string, len(ids))
	for i, id := range ids {
		captured[i] = id.String()
	}
	kafkaSignals, err := cdc.OpenKafkaSignals(ctx, s.cfg.KafkaSignals, signalOffset, s.logger)
	if err != nil {
		return err
	}
	defer kafkaSignals.Close()
	lag := &lagMeter{metrics: metrics}
	acker := cdc.NewAcker(store, state, lag.confirm, metrics, s.logger)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return cdc.Batch(gctx, chunks, out, acker) })
	g.Go(func() error {
		if plan != nil {
			if err := cdc.Snapshot(gctx, *plan, reader, chunks, s.logger); err != nil {
				return err
			}
			reader.conn.Close()
			if s.cfg.SnapshotMode == cdc.SnapshotInitialOnly {
				s.logger.Info("snapshot complete; snapshot.mode=initial_only, so streaming does not start")
				<-gctx.Done()
				return gctx.Err()
			}
		}
		chunkReader := &chunkReader{src: s, start: start}
		defer chunkReader.close()
		st := &stream{src: s, catalog: catalog, out: chunks, hist: hist, lag: lag}
		st.inc = cdc.NewIncremental(cdc.IncrementalConfig[Position]{Reader: chunkReader, ChunkSize: s.cfg.IncrementalChunkSize, Out: chunks,
			Resume: resume, Signals: s.env.Signals, Kafka: kafkaSignals, Stream: st,
			Captured: captured, Known: known, NewTables: s.cfg.SnapshotNewTables, Metrics: metrics, Logger: s.logger})
		defer st.inc.Wait() // before chunkReader.close
		return st.run(gctx, start)
	})
	err = g.Wait()
	// Stopped, or failed for good, what Kafka acknowledged is saved, so that
	// a restart replays as little as it can. (A transient failure restarts
	// at once rather than wait for a Kafka that may be the cause.)
	if ctx.Err() != nil || errors.Is(err, connectors.ErrPermanent) {
		cdc.Drain(out, acker, s.logger, nil)
	}
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return ctx.Err()
	}
	return err
}

// startHistory makes the schema history describe the captured tables as of
// start: read from information_schema when the history starts there
// (fresh), else loaded from the offset store as of start. Without a stored
// history the tables are read now; that is exact only when start is the
// server's current position, so otherwise it is an error unless the
// binlog names its columns (binlog_row_metadata=FULL), where the history
// only describes the schema-change records.
func (s *Source) startHistory(ctx context.Context, hist *history, conn, catalog *client.Conn, start Position, fresh bool) error {
	if !fresh {
		ok, err := hist.load(ctx, start)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		cur, err := masterStatus(catalog)
		if err != nil {
			return err
		}
		if cur.File != start.File || cur.Pos != start.Pos {
			if !s.fullMetadata {
				return connectors.Permanent(fmt.Errorf("no schema history at or before the stored position %s (offset-store key %s): binlog_row_metadata is not FULL, "+
					"so the columns of the row events since cannot be told. Set binlog_row_metadata=FULL, or reset the connector's offsets to take a new snapshot",
					start, historyKey(s.cfg.TopicPrefix)))
			}
			s.logger.Warn("no schema history at the stored position; recording the tables' current definitions, which the table changes of schema-change records replayed before them may not match",
				"file", start.File, "pos", start.Pos)
		}
	}
	ids, err := s.capturedTables(conn)
	if err != nil {
		return err
	}
	defs, err := catalogDefs(conn, ids)
	if err != nil {
		return err
	}
	charsets, err := databaseCharsets(conn)
	if err != nil {
		return err
	}
	return hist.reset(ctx, start, defs, charsets)
}

// databaseCharsets reads the default character set of every database.
func databaseCharsets(conn *client.Conn) (map[string]string, error) {
	rows, err := query(conn, "SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA")
	if err != nil {
		return nil, fmt.Errorf("read the databases' character sets: %w", err)
	}
	out := map[string]string{}
	for _, r := range rows {
		out[str(r[0])] = normCharset(str(r[1]))
	}
	return out, nil
}

// savedPosition is the offset store as the source's State is saved to it,
// noting the position last saved under key: the schema history compacts
// only what a restart from that position cannot need.
type savedPosition struct {
	connectors.OffsetStore
	key string

	mu    sync.Mutex
	pos   Position
	saved bool
}

// Save stores value and notes the position it holds.
func (o *savedPosition) Save(ctx context.Context, key string, value []byte) error {
	if err := o.OffsetStore.Save(ctx, key, value); err != nil {
		return err
	}
	if key != o.key {
		return nil
	}
	var p Position
	if json.Unmarshal(value, &p) == nil && p.File != "" {
		o.mu.Lock()
		o.pos, o.saved = p, true
		o.mu.Unlock()
	}
	return nil
}

// position returns the position last saved.
func (o *savedPosition) position() (Position, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.pos, o.saved
}
