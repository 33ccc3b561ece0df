package mysql

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/cdc"
	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/schema/event"
)

// Source captures the tables of one MySQL or MariaDB server. It implements
// connectors.Source.
type Source struct {
	cfg    *Config
	env    connectors.Env
	logger *slog.Logger
	mapper *Mapper
	tables *tables

	// Learnt by preflight.
	flavor   string // go-mysql's mysql.MariaDBFlavor or mysql.MySQLFlavor
	serverID uint32 // the server's own @@server_id
}

var _ connectors.Source = (*Source)(nil)

func init() {
	connectors.Register(connectors.Class{
		Name:      "mysql",
		Aliases:   []string{"mariadb", "io.debezium.connector.mysql.MySqlConnector", "io.debezium.connector.mariadb.MariaDbConnector"},
		Kind:      connectors.KindSource,
		Connector: "mysql",
		Spec:      Spec,
		Output:    cdc.Output,
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
	s := &Source{cfg: cfg, env: env, logger: logger}
	s.mapper = NewMapper(WithDecimalMode(cfg.Decimal), WithTimeMode(cfg.TimeMode), WithBinaryMode(cfg.Binary),
		WithBigIntUnsignedMode(cfg.BigInt), WithLogger(logger))
	s.tables = newTables(s)
	return s
}

// Run captures changes until ctx ends or a failure. See connectors.Source.
// It checks the server, decides from snapshot.mode and the stored offsets
// where to start, stores that start position before reporting RUNNING,
// snapshots when needed, then streams from the snapshot's position.
func (s *Source) Run(ctx context.Context, out connectors.Emitter) error {
	catalog, err := s.connect(ctx)
	if err != nil {
		return err
	}
	defer catalog.Close()
	if err := s.preflight(ctx, catalog); err != nil {
		return err
	}
	store := cdc.NewStore[Position](s.env.Offsets, cdc.OffsetKey(s.cfg.TopicPrefix))
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
		if decision.Resume && state.Snapshot != nil {
			// The rows not yet read come from a newer snapshot; streaming
			// from the original start brings every row to its latest state.
			plan.Start, plan.Resume = state.Snapshot.Start, state.Snapshot
			start = state.Snapshot.Start
		} else {
			plan.Start, start = snapPos, snapPos
			state.Snapshot, state.SnapshotCompleted = nil, false
		}
		reader.start = plan.Start
	} else if !state.Positioned {
		if start, err = masterStatus(catalog); err != nil {
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
	acker := cdc.NewAcker(store, state, nil, cdc.NewMetrics(s.env.Metrics, s.env.Name), s.logger)
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
		st := &stream{src: s, catalog: catalog, out: chunks}
		return st.run(gctx, start)
	})
	err = g.Wait()
	if ctx.Err() != nil {
		cdc.Drain(out, acker, s.logger, nil)
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return ctx.Err()
		}
	}
	return err
}
