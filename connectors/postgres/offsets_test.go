package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pglogrepl"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/testenv/pgtest"
)

// TestAlterOffsetAdvancesTheSlot sets offsets as PATCH
// /connectors/{name}/offsets does: a newer LSN moves the replication slot,
// anything the slot cannot do is refused with the reason.
func TestAlterOffsetAdvancesTheSlot(t *testing.T) {
	db := pgtest.NewDatabase(t, "alteroffset")
	conn := db.Connect(t)
	ctx := context.Background()
	password, _ := db.URL.User.Password()
	c, err := Spec.Parse(map[string]string{"connector.class": "postgres", "database.hostname": db.URL.Hostname(), "database.port": db.URL.Port(),
		"database.user": db.URL.User.Username(), "database.password": password, "database.dbname": db.Name, "database.sslmode": "disable",
		"slot.name": db.Name, "topic.prefix": "cdc"})
	if err != nil {
		t.Fatal(err)
	}
	alter := func(key, offset string) (string, error) {
		t.Helper()
		out, err := alterOffset(ctx, c, key, json.RawMessage(offset))
		if err != nil && !errors.Is(err, connectors.ErrInvalidOffset) {
			t.Fatalf("alterOffset(%s): %v, not an invalid offset", offset, err)
		}
		return string(out), err
	}
	refused := func(key, offset, want string) {
		t.Helper()
		if _, err := alter(key, offset); err == nil || err.Error() != "invalid offset: "+want {
			t.Fatalf("alterOffset(%s):\n got %v\nwant %s", offset, err, want)
		}
	}
	current := func() pglogrepl.LSN {
		var text string
		if err := conn.QueryRow(ctx, "SELECT pg_current_wal_flush_lsn()::text").Scan(&text); err != nil {
			t.Fatal(err)
		}
		lsn, _ := pglogrepl.ParseLSN(text)
		return lsn
	}
	confirmed := func() pglogrepl.LSN {
		var text string
		if err := conn.QueryRow(ctx, "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1", db.Name).Scan(&text); err != nil {
			t.Fatal(err)
		}
		lsn, _ := pglogrepl.ParseLSN(text)
		return lsn
	}

	refused("server=cdc", `{"lsn": 100}`, `replication slot "`+db.Name+`" does not exist, so there is no position to move: DELETE the offsets instead; `+
		`the connector creates the slot when resumed, and snapshots as snapshot.mode says`)
	pgtest.Exec(t, conn, "CREATE TABLE t (id int PRIMARY KEY)", "SELECT pg_create_logical_replication_slot('"+db.Name+"', 'pgoutput')")
	start := confirmed()
	// Commits wait for the WAL to be flushed: the slot moves only up to there.
	pgtest.Exec(t, conn, "SET synchronous_commit = on", "INSERT INTO t SELECT generate_series(1, 100)")
	target := current()
	pgtest.Exec(t, conn, "INSERT INTO t VALUES (101)")

	refused("server=other", `{"lsn": 1}`, `partition {"server": "other"} is not this connector's: a Postgres source keeps its offset under {"server": "cdc"} (its topic.prefix)`)
	refused("server=cdc", `{"lsn": 1, "txId": 5}`, `a Postgres offset is {"lsn": <LSN>} with, optionally, "snapshot_completed" and the other fields GET shows ("incremental", "kafka_signal_offset", "captured_tables"): unknown field "txId"`)
	refused("server=cdc", `{}`, `a Postgres offset must hold "lsn": the WAL position to stream from, as a number or in Postgres' X/Y form`)
	refused("server=cdc", `{"lsn": "soon"}`, `lsn "soon" is not a WAL position: give a positive number or Postgres' X/Y form (as pg_current_wal_lsn() shows it)`)
	// Other databases of the server write WAL meanwhile: the flushed
	// position named is at least the one read before.
	beyond := current() + 1<<30
	flushed := current()
	_, err = alter("server=cdc", `{"lsn": "`+beyond.String()+`"}`)
	prefix := "invalid offset: lsn " + beyond.String() + " is beyond the server's flushed WAL position "
	if err == nil || !strings.HasPrefix(err.Error(), prefix) {
		t.Fatalf("alterOffset(%s):\n got %v\nwant %s…", beyond, err, prefix)
	}
	if named, perr := pglogrepl.ParseLSN(strings.TrimPrefix(err.Error(), prefix)); perr != nil || named < flushed || named >= beyond {
		t.Errorf("the flushed position named, %s, is not the server's (%s or later)", strings.TrimPrefix(err.Error(), prefix), flushed)
	}

	got, err := alter("server=cdc", `{"lsn": "`+target.String()+`"}`)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"lsn":` + jsonNumber(target) + `,"snapshot_completed":true}`; got != want {
		t.Fatalf("stored %s, want %s", got, want)
	}
	if confirmed() != target {
		t.Fatalf("slot confirmed at %s, want %s (it was at %s)", confirmed(), target, start)
	}
	// The same position again changes nothing; an older one is refused.
	if got, err := alter("server=cdc", `{"lsn": `+jsonNumber(target)+`, "snapshot_completed": false}`); err != nil || got != `{"lsn":`+jsonNumber(target)+`,"snapshot_completed":false}` {
		t.Fatalf("same LSN: %s, %v", got, err)
	}
	refused("server=cdc", `{"lsn": `+jsonNumber(start)+`}`, "lsn "+start.String()+` is before replication slot "`+db.Name+`"'s confirmed position `+target.String()+
		": a slot never moves back, and the server may already have removed the WAL before that position. Give an LSN at or after "+target.String()+", or DELETE the offsets to take a new snapshot")
}

func jsonNumber(lsn pglogrepl.LSN) string { b, _ := json.Marshal(uint64(lsn)); return string(b) }
