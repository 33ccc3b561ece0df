package pgdb

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-cdc/sluice/testenv"
)

// Create gives a database that connections reach by URL; Drop removes it
// with its slot, even while a connection to it is open.
func TestCreateAndDrop(t *testing.T) {
	ctx := context.Background()
	server := testenv.PostgresURL(t)
	name := testenv.Name(t, "pgdbtest")
	db, err := Create(ctx, server, name)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if db.Name != name || db.URL.Path != "/"+name {
		t.Fatalf("Create = name %q, URL path %q; want %q and %q", db.Name, db.URL.Path, name, "/"+name)
	}
	conn, err := pgx.Connect(ctx, db.URL.String())
	if err != nil {
		t.Fatalf("connect to the created database: %v", err)
	}
	defer conn.Close(ctx)
	var current string
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&current); err != nil || current != name {
		t.Fatalf("current_database() = %q, %v; want %q", current, err, name)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_create_logical_replication_slot($1, 'pgoutput')", name); err != nil {
		t.Fatalf("create slot: %v", err)
	}

	if err := db.Drop(ctx, name, name+"_none"); err != nil {
		t.Fatalf("Drop: %v", err)
	}

	check, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatalf("connect to the server: %v", err)
	}
	defer check.Close(ctx)
	var dbs, slots int
	if err := check.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&dbs); err != nil {
		t.Fatal(err)
	}
	if err := check.QueryRow(ctx, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", name).Scan(&slots); err != nil {
		t.Fatal(err)
	}
	if dbs != 0 || slots != 0 {
		t.Fatalf("after Drop: %d databases and %d slots named %s, want none", dbs, slots, name)
	}
}
