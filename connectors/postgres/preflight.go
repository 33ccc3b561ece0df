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

// setup is what preflight found: the captured tables, and the statement
// that makes the publication carry them ("" when it already does).
type setup struct {
	tables      []capturedTable
	publication string
}

// preflight checks, before anything is created, that capture can work, and
// fails with an error that says what to change, naming the statements to
// run for the captured tables.
func (s *Source) preflight(ctx context.Context, conn *pgx.Conn) (setup, error) {
	var walLevel string
	if err := conn.QueryRow(ctx, "SHOW wal_level").Scan(&walLevel); err != nil {
		return setup{}, fmt.Errorf("read wal_level: %w", err)
	}
	if walLevel != "logical" {
		return setup{}, connectors.Permanent(fmt.Errorf("server %s has wal_level=%s: logical decoding needs wal_level=logical (set it in postgresql.conf and restart the server)", s.cfg.Redacted(), walLevel))
	}
	// Amazon RDS grants replication through membership in rds_replication
	// rather than the REPLICATION attribute.
	var canLogin, canReplicate, super bool
	err := conn.QueryRow(ctx, `SELECT rolcanlogin, rolreplication OR EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = 'rds_replication' AND pg_has_role(current_user, r.oid, 'MEMBER')), rolsuper
		FROM pg_roles WHERE rolname = current_user`).
		Scan(&canLogin, &canReplicate, &super)
	if err != nil {
		return setup{}, fmt.Errorf("read the attributes of role %q: %w", s.cfg.User, err)
	}
	if !canLogin || !(canReplicate || super) {
		role := pgx.Identifier{s.cfg.User}.Sanitize()
		return setup{}, connectors.Permanent(fmt.Errorf("role %q needs LOGIN and REPLICATION: ALTER ROLE %s WITH LOGIN REPLICATION (on Amazon RDS: GRANT rds_replication TO %s)", s.cfg.User, role, role))
	}
	tables, err := s.listTables(ctx, conn)
	if err != nil {
		return setup{}, err
	}
	var problems []string
	for _, t := range tables {
		var canSelect bool
		if err := conn.QueryRow(ctx, "SELECT has_table_privilege($1::oid, 'SELECT')", t.OID).Scan(&canSelect); err != nil {
			return setup{}, fmt.Errorf("check SELECT on %s: %w", t, err)
		}
		if !canSelect {
			problems = append(problems, fmt.Sprintf("role %q lacks SELECT on %s (GRANT SELECT ON %s TO %s)", s.cfg.User, t, pgx.Identifier{t.Schema, t.Name}.Sanitize(), pgx.Identifier{s.cfg.User}.Sanitize()))
			continue
		}
		info, err := loadTable(ctx, conn, t.OID)
		if err != nil {
			return setup{}, err
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
		return setup{}, connectors.Permanent(errors.New(strings.Join(problems, "; ")))
	}
	pub, err := s.planPublication(ctx, conn, tables, super)
	if err != nil {
		return setup{}, err
	}
	return setup{tables: tables, publication: pub}, nil
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
