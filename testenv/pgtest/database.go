// Package pgtest gives integration tests a database of their own on the test
// PostgreSQL from testenv, and waits on its replication slots.
//
// Every function takes the test's testing.TB, fails the test on an error and
// registers its own cleanups. Like testenv.PostgresURL, NewDatabase skips the
// test when there is no PostgreSQL to test against, or fails it when
// testenv.EnvRequired is set.
package pgtest

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-cdc/sluice/testenv"
)

// slotReleaseWait bounds how long the cleanup waits for walsenders to
// release the database's replication slots.
const slotReleaseWait = 10 * time.Second

// Database is a database of one test's own on the test PostgreSQL.
type Database struct {
	// Name is the database's name, unique to the test and lower case: it
	// also suits a slot, a publication or a topic prefix.
	Name string
	// URL is the database's URL: testenv.PostgresURL with Name as its path,
	// as role sluice (LOGIN, REPLICATION, SUPERUSER).
	URL url.URL
}

// NewDatabase creates a database named testenv.Name(t, prefix) and, when
// the test ends, drops it: first the database's replication slots, waiting
// up to 10 s for their walsenders to release the active ones, then the
// database itself WITH (FORCE), which ends the connections still open to it.
// Cleanups run last-in first-out, so whatever the test registers afterwards
// (a source holding a slot, a connection) ends before the database is
// dropped. It holds one connection to the server's default database until
// then.
func NewDatabase(t testing.TB, prefix string) *Database {
	t.Helper()
	return NewNamedDatabase(t, testenv.Name(t, prefix))
}

// NewNamedDatabase is NewDatabase for a database of a given name, for tests
// that run configurations naming their database as users write them. A
// database of that name left by an earlier run is dropped first.
func NewNamedDatabase(t testing.TB, name string) *Database {
	t.Helper()
	rawURL := testenv.PostgresURL(t)
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("pgtest: parse %s: %v", testenv.EnvPostgresURL, err)
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, rawURL)
	if err != nil {
		t.Fatalf("pgtest: connect to PostgreSQL: %v", err)
	}
	db := &Database{Name: name, URL: *u}
	db.URL.Path = "/" + db.Name
	dropSlots(t, admin, db.Name)
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+db.Name+" WITH (FORCE)"); err != nil {
		admin.Close(ctx)
		t.Fatalf("pgtest: drop the earlier database %s: %v", db.Name, err)
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+db.Name); err != nil {
		admin.Close(ctx)
		t.Fatalf("pgtest: create database %s: %v", db.Name, err)
	}
	t.Cleanup(func() {
		defer admin.Close(ctx)
		dropSlots(t, admin, db.Name)
		if _, err := admin.Exec(ctx, "DROP DATABASE "+db.Name+" WITH (FORCE)"); err != nil {
			t.Logf("pgtest: drop database %s: %v", db.Name, err)
		}
	})
	return db
}

// dropSlots drops the replication slots of database name. A slot stays
// active until its walsender notices that the client left, and an active
// slot cannot be dropped, nor a database that has a slot: it drops the
// inactive ones until none is left or slotReleaseWait passed.
func dropSlots(t testing.TB, admin *pgx.Conn, name string) {
	ctx := context.Background()
	left := -1
	for deadline := time.Now().Add(slotReleaseWait); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		admin.Exec(ctx, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1 AND NOT active", name)
		if err := admin.QueryRow(ctx, "SELECT count(*) FROM pg_replication_slots WHERE database = $1", name).Scan(&left); err != nil {
			t.Logf("pgtest: count the replication slots of database %s: %v", name, err)
			return
		}
		if left == 0 {
			return
		}
	}
	t.Logf("pgtest: database %s still has %d replication slots after %s", name, left, slotReleaseWait)
}

// Connect opens a connection to the database, closed when the test ends.
func (db *Database) Connect(t testing.TB) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), db.URL.String())
	if err != nil {
		t.Fatalf("pgtest: connect to database %s: %v", db.Name, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// Exec runs each statement of sqls on conn in turn, failing the test with
// the statement that failed.
func Exec(t testing.TB, conn *pgx.Conn, sqls ...string) {
	t.Helper()
	for _, s := range sqls {
		if _, err := conn.Exec(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}
