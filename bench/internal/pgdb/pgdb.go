// Package pgdb gives a benchmark run a Postgres database of its own and
// removes it, with the run's replication slots, afterwards.
package pgdb

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
)

// DB is a database created for one run. It is not safe for concurrent use.
type DB struct {
	// Name is the database's name.
	Name string
	// URL is the server's URL with the path set to the database: what the
	// run's connections and connectors use.
	URL *url.URL

	admin *pgx.Conn // on the server URL's own database
}

// Create connects to serverURL (a superuser with REPLICATION) and creates
// database name, which must be a plain lower-case identifier.
func Create(ctx context.Context, serverURL, name string) (*DB, error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return nil, fmt.Errorf("parse the Postgres URL: %w", err)
	}
	admin, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return nil, fmt.Errorf("connect to Postgres: %w", err)
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		admin.Close(ctx)
		return nil, fmt.Errorf("create database %s: %w", name, err)
	}
	u.Path = "/" + name
	return &DB{Name: name, URL: u, admin: admin}, nil
}

// Drop drops the replication slots named (those that exist; each must be
// inactive: stop its reader first), then the database, closing its other
// connections, and closes the admin connection. It tries every step and
// returns every failure.
func (d *DB) Drop(ctx context.Context, slots ...string) error {
	var errs []error
	for _, s := range slots {
		if _, err := d.admin.Exec(ctx, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", s); err != nil {
			errs = append(errs, fmt.Errorf("drop replication slot %s: %w", s, err))
		}
	}
	if _, err := d.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{d.Name}.Sanitize()+" WITH (FORCE)"); err != nil {
		errs = append(errs, fmt.Errorf("drop database %s: %w", d.Name, err))
	}
	if err := d.admin.Close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("close the admin connection: %w", err))
	}
	return errors.Join(errs...)
}

// DropLeftovers drops what benchmark runs that were killed left on the
// server at serverURL: the inactive replication slots and the databases
// whose names start with prefix. A slot left behind retains WAL without
// end (a few killed drains once filled this machine's disk). It must run
// while no benchmark does: an inactive slot of a run under way is
// dropped too. It returns the slots and databases it dropped.
func DropLeftovers(ctx context.Context, serverURL, prefix string) (slots, dbs []string, err error) {
	admin, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to Postgres: %w", err)
	}
	defer admin.Close(ctx)
	like := strings.NewReplacer(`\`, `\\`, `_`, `\_`, `%`, `\%`).Replace(prefix) + "%"
	rows, err := admin.Query(ctx, "SELECT slot_name FROM pg_replication_slots WHERE NOT active AND slot_name LIKE $1", like)
	if err != nil {
		return nil, nil, fmt.Errorf("list replication slots: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, nil, fmt.Errorf("list replication slots: %w", err)
	}
	for _, s := range names {
		if _, err := admin.Exec(ctx, "SELECT pg_drop_replication_slot($1)", s); err != nil {
			return slots, dbs, fmt.Errorf("drop replication slot %s: %w", s, err)
		}
		slots = append(slots, s)
	}
	rows, err = admin.Query(ctx, "SELECT datname FROM pg_database WHERE datname LIKE $1", like)
	if err != nil {
		return slots, nil, fmt.Errorf("list databases: %w", err)
	}
	if names, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return slots, nil, fmt.Errorf("list databases: %w", err)
	}
	for _, d := range names {
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{d}.Sanitize()+" WITH (FORCE)"); err != nil {
			return slots, dbs, fmt.Errorf("drop database %s: %w", d, err)
		}
		dbs = append(dbs, d)
	}
	return slots, dbs, nil
}
