package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-cdc/sluice/connectors"
)

// capturedTable is a table the filters select, as the catalog lists it.
type capturedTable struct {
	OID          uint32
	Schema, Name string
}

func (t capturedTable) String() string { return t.Schema + "." + t.Name }

// preflight checks, before anything is created, that capture can work, and
// fails with an error that says what to change. It returns the captured
// tables.
func (s *Source) preflight(ctx context.Context, conn *pgx.Conn) ([]capturedTable, error) {
	var walLevel string
	if err := conn.QueryRow(ctx, "SHOW wal_level").Scan(&walLevel); err != nil {
		return nil, fmt.Errorf("read wal_level: %w", err)
	}
	if walLevel != "logical" {
		return nil, connectors.Permanent(fmt.Errorf("server %s has wal_level=%s: logical decoding needs wal_level=logical (set it in postgresql.conf and restart the server)", s.cfg.Redacted(), walLevel))
	}
	var canLogin, canReplicate, super bool
	err := conn.QueryRow(ctx, `SELECT rolcanlogin, rolreplication, rolsuper FROM pg_roles WHERE rolname = current_user`).
		Scan(&canLogin, &canReplicate, &super)
	if err != nil {
		return nil, fmt.Errorf("read the attributes of role %q: %w", s.cfg.User, err)
	}
	if !canLogin || !(canReplicate || super) {
		return nil, connectors.Permanent(fmt.Errorf("role %q needs LOGIN and REPLICATION: ALTER ROLE %s WITH LOGIN REPLICATION", s.cfg.User, pgx.Identifier{s.cfg.User}.Sanitize()))
	}
	tables, err := s.listTables(ctx, conn)
	if err != nil {
		return nil, err
	}
	var problems []string
	for _, t := range tables {
		var canSelect bool
		if err := conn.QueryRow(ctx, "SELECT has_table_privilege($1::oid, 'SELECT')", t.OID).Scan(&canSelect); err != nil {
			return nil, fmt.Errorf("check SELECT on %s: %w", t, err)
		}
		if !canSelect {
			problems = append(problems, fmt.Sprintf("role %q lacks SELECT on %s (GRANT SELECT ON %s TO %s)", s.cfg.User, t, pgx.Identifier{t.Schema, t.Name}.Sanitize(), pgx.Identifier{s.cfg.User}.Sanitize()))
			continue
		}
		info, err := loadTable(ctx, conn, t.OID)
		if err != nil {
			return nil, err
		}
		hasKey := len(info.PrimaryKey) > 0 || s.cfg.KeyColumns.For(t.String()) != nil
		switch {
		case info.ReplicaIdentity == 'n':
			problems = append(problems, fmt.Sprintf("table %s has REPLICA IDENTITY NOTHING: its updates and deletes fail on the primary once it is published; use ALTER TABLE %s REPLICA IDENTITY DEFAULT (with a primary key) or FULL", t, pgx.Identifier{t.Schema, t.Name}.Sanitize()))
		case info.ReplicaIdentity == 'd' && len(info.PrimaryKey) == 0:
			problems = append(problems, fmt.Sprintf("table %s has no primary key and REPLICA IDENTITY DEFAULT: its updates and deletes fail on the primary once it is published; add a primary key or ALTER TABLE %s REPLICA IDENTITY FULL", t, pgx.Identifier{t.Schema, t.Name}.Sanitize()))
		case !hasKey && info.ReplicaIdentity == 'f':
			s.logger.Warn("table has no primary key: its events have a null key; set message.key.columns to key them", "table", t.String())
		}
	}
	if len(problems) > 0 {
		return nil, connectors.Permanent(errors.New(strings.Join(problems, "; ")))
	}
	if err := s.checkPublication(ctx, conn); err != nil {
		return nil, err
	}
	return tables, nil
}

// listTables lists the ordinary and partitioned tables the filters capture.
func (s *Source) listTables(ctx context.Context, conn *pgx.Conn) ([]capturedTable, error) {
	rows, err := conn.Query(ctx, `SELECT c.oid, n.nspname, c.relname FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
		  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
		ORDER BY n.nspname, c.relname`)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	all, err := pgx.CollectRows(rows, pgx.RowToStructByPos[capturedTable])
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	var out []capturedTable
	for _, t := range all {
		if s.cfg.Filter.Table(t.Schema, t.Name) {
			out = append(out, t)
		}
	}
	return out, nil
}

// checkPublication fails when the publication is missing and may not be created.
func (s *Source) checkPublication(ctx context.Context, conn *pgx.Conn) error {
	if s.cfg.PublicationCreate != "disabled" {
		return nil
	}
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1)", s.cfg.Publication).Scan(&exists); err != nil {
		return fmt.Errorf("look up publication %q: %w", s.cfg.Publication, err)
	}
	if !exists {
		return connectors.Permanent(fmt.Errorf("publication %q does not exist and publication.autocreate.mode is disabled: create it (CREATE PUBLICATION %s FOR TABLE ...) or set publication.autocreate.mode", s.cfg.Publication, pgx.Identifier{s.cfg.Publication}.Sanitize()))
	}
	return nil
}

// publicationOptions publish a partitioned table's changes as changes of
// the table itself, as its snapshot reads it, not of its partitions.
const publicationOptions = " WITH (publish_via_partition_root = true)"

// ensurePublication creates the publication when missing, and in filtered
// mode keeps its table list equal to the captured tables.
func (s *Source) ensurePublication(ctx context.Context, conn *pgx.Conn, tables []capturedTable) error {
	if s.cfg.PublicationCreate == "disabled" {
		return nil
	}
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1)", s.cfg.Publication).Scan(&exists); err != nil {
		return fmt.Errorf("look up publication %q: %w", s.cfg.Publication, err)
	}
	pub := pgx.Identifier{s.cfg.Publication}.Sanitize()
	var sql string
	switch {
	case s.cfg.PublicationCreate == "all_tables" && !exists:
		sql = "CREATE PUBLICATION " + pub + " FOR ALL TABLES" + publicationOptions
	case s.cfg.PublicationCreate == "filtered":
		if len(tables) == 0 {
			return connectors.Permanent(fmt.Errorf("no table matches the filters, so publication %q would be empty: check table.include.list and schema.include.list", s.cfg.Publication))
		}
		names := make([]string, len(tables))
		for i, t := range tables {
			names[i] = pgx.Identifier{t.Schema, t.Name}.Sanitize()
		}
		sql = "CREATE PUBLICATION " + pub + " FOR TABLE " + strings.Join(names, ", ") + publicationOptions
		if exists {
			sql = "ALTER PUBLICATION " + pub + " SET TABLE " + strings.Join(names, ", ")
		}
	default:
		return nil
	}
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("create publication %q: %w", s.cfg.Publication, err)
	}
	s.logger.Info("publication ready", "publication", s.cfg.Publication, "mode", s.cfg.PublicationCreate)
	return nil
}
