// Package postgres_test runs the source acceptance suite against the
// Postgres source on the test PostgreSQL.
package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	_ "github.com/sluice-cdc/sluice/connectors/postgres"
	"github.com/sluice-cdc/sluice/testenv/pgtest"
	"github.com/sluice-cdc/sluice/testenv/sourcetest"
)

func TestMain(m *testing.M) { sourcetest.Main(m) }

func TestAcceptance(t *testing.T) { sourcetest.Run(t, driver{}) }

// driver gives each scenario a database of its own, captured through a
// slot and a publication named after it.
type driver struct{}

func (driver) Class() string { return "postgres" }

func (driver) RequiredKeys() []string {
	return []string{"connector.class", "database.hostname", "database.user", "database.dbname", "topic.prefix"}
}

func (driver) NewDatabase(t *testing.T) sourcetest.Database {
	pg := pgtest.NewDatabase(t, "accept")
	return &database{pg: pg, conn: pg.Connect(t)}
}

type database struct {
	pg   *pgtest.Database
	mu   sync.Mutex // serialises the use of conn
	conn *pgx.Conn
}

func (d *database) Config() map[string]string {
	u := d.pg.URL
	pw, _ := u.User.Password()
	return map[string]string{
		"connector.class":   "io.debezium.connector.postgresql.PostgresConnector",
		"database.hostname": u.Hostname(), "database.port": u.Port(),
		"database.user": u.User.Username(), "database.password": pw,
		"database.dbname": d.pg.Name, "database.sslmode": "disable",
		"topic.prefix": d.pg.Name, "slot.name": d.pg.Name, "publication.name": d.pg.Name,
		"producer.override.linger.ms": "1",
	}
}

func (d *database) Table(name string) string { return "public." + name }

func (d *database) Exec(stmts ...string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range stmts {
		if _, err := d.conn.Exec(context.Background(), s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

func (d *database) Tx(stmts ...string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return pgx.BeginFunc(context.Background(), d.conn, func(tx pgx.Tx) error {
		for _, s := range stmts {
			if _, err := tx.Exec(context.Background(), s); err != nil {
				return fmt.Errorf("%s: %w", s, err)
			}
		}
		return nil
	})
}
