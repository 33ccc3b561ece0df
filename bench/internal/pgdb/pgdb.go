// Package pgdb gives a benchmark run a Postgres database of its own and
// removes it, with the run's replication slots, afterwards.
package pgdb

import (
	"context"
	"errors"
	"fmt"
	"net/url"

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
