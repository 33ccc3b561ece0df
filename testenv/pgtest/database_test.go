package pgtest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sluice-cdc/sluice/testenv"
	"github.com/sluice-cdc/sluice/testenv/pgtest"
)

// TestDatabase creates a database, writes to it, leaves an idle and an
// active replication slot in it, and proves that after the test the
// database and both slots are gone. WaitStreaming must wait while the
// active slot's client has not started replication yet.
func TestDatabase(t *testing.T) {
	var name string
	t.Run("test", func(t *testing.T) {
		db := pgtest.NewDatabase(t, "PgTest")
		name = db.Name
		if !strings.HasPrefix(name, "pgtest_") || len(name) != len("pgtest_")+12 {
			t.Errorf("name %q, want pgtest_ and 12 hex digits", name)
		}
		if db.URL.Path != "/"+name {
			t.Errorf("URL path %q, want /%s", db.URL.Path, name)
		}
		ctx := context.Background()
		conn := db.Connect(t)
		pgtest.Exec(t, conn, "CREATE TABLE t (id int PRIMARY KEY)", "INSERT INTO t VALUES (7)", "CREATE PUBLICATION p FOR ALL TABLES",
			"SELECT pg_create_logical_replication_slot('"+name+"_idle', 'pgoutput')")
		var cur string
		var id int
		if err := conn.QueryRow(ctx, "SELECT current_database(), id FROM t").Scan(&cur, &id); err != nil || cur != name || id != 7 {
			t.Fatalf("read back: %q %d %v, want %q 7", cur, id, err, name)
		}

		// Closed by a cleanup registered after the database's, so before
		// the database is dropped; its walsender may outlive it a little.
		u := db.URL
		u.RawQuery = "replication=database"
		repl, err := pgconn.Connect(ctx, u.String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { repl.Close(context.Background()) })
		busy := name + "_busy"
		created, err := pglogrepl.CreateReplicationSlot(ctx, repl, busy, "pgoutput", pglogrepl.CreateReplicationSlotOptions{})
		if err != nil {
			t.Fatal(err)
		}
		start, err := pglogrepl.ParseLSN(created.ConsistentPoint)
		if err != nil {
			t.Fatal(err)
		}
		checks := 0
		pgtest.WaitStreaming(t, conn, busy, func() {
			// The slot has its consistent point but no walsender holds
			// it until the third round.
			if checks++; checks == 3 {
				err := pglogrepl.StartReplication(ctx, repl, busy, start, pglogrepl.StartReplicationOptions{
					PluginArgs: []string{"proto_version '1'", "publication_names 'p'"}})
				if err != nil {
					t.Fatal(err)
				}
			}
		})
		if checks < 3 {
			t.Errorf("WaitStreaming returned after %d checks, before the slot was active", checks)
		}
	})

	ctx := context.Background()
	admin, err := pgx.Connect(ctx, testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var databases, slots int
	err = admin.QueryRow(ctx, `SELECT (SELECT count(*) FROM pg_database WHERE datname = $1),
		(SELECT count(*) FROM pg_replication_slots WHERE database = $1 OR slot_name LIKE $1 || '%')`, name).Scan(&databases, &slots)
	if err != nil || databases != 0 || slots != 0 {
		t.Errorf("after the test: %d databases and %d slots named %s (%v), want none", databases, slots, name, err)
	}
}
