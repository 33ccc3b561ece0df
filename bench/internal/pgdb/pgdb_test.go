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

// DropLeftovers drops the inactive slots and the databases of its prefix,
// taken literally (its _ is no wildcard), and nothing else.
func TestDropLeftovers(t *testing.T) {
	ctx := context.Background()
	server := testenv.PostgresURL(t)
	base := testenv.Name(t, "pgdbleft")
	prefix := base + "_"
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	left, other := prefix+"run", base+"xrun" // other would match prefix were _ a wildcard
	for _, q := range []string{
		"CREATE DATABASE " + left, "CREATE DATABASE " + other,
		"SELECT pg_create_logical_replication_slot('" + left + "', 'pgoutput')",
		"SELECT pg_create_logical_replication_slot('" + other + "', 'pgoutput')",
	} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	defer func() {
		admin.Exec(ctx, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", other)
		admin.Exec(ctx, "DROP DATABASE IF EXISTS "+other)
	}()

	slots, dbs, err := DropLeftovers(ctx, server, prefix)
	if err != nil {
		t.Fatalf("DropLeftovers: %v", err)
	}
	if len(slots) != 1 || slots[0] != left || len(dbs) != 1 || dbs[0] != left {
		t.Fatalf("DropLeftovers dropped slots %v and databases %v; want [%s] and [%s]", slots, dbs, left, left)
	}
	var n int
	for _, c := range []struct{ q, name string }{
		{"SELECT count(*) FROM pg_database WHERE datname = $1", left},
		{"SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", left},
	} {
		if err := admin.QueryRow(ctx, c.q, c.name).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%s with %s: %d, %v; want 0", c.q, c.name, n, err)
		}
	}
	for _, c := range []string{"SELECT count(*) FROM pg_database WHERE datname = $1", "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1"} {
		if err := admin.QueryRow(ctx, c, other).Scan(&n); err != nil || n != 1 {
			t.Fatalf("%s with %s: %d, %v; want 1 (not of the prefix)", c, other, n, err)
		}
	}
}
