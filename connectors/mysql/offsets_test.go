package mysql

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/testenv"
	"github.com/sluice-cdc/sluice/testenv/mysqltest"
)

// TestAlterOffsetChecksThePosition sets offsets as PATCH
// /connectors/{name}/offsets does: a position the server can stream from
// is stored, any other is refused with the reason.
func TestAlterOffsetChecksThePosition(t *testing.T) {
	srv := mysqltest.Lookup(t)
	conn := mysqltest.Connect(t)
	db := testenv.Name(t, "alteroffset")
	mysqltest.Exec(t, conn, "DROP DATABASE IF EXISTS "+db, "CREATE DATABASE "+db, "CREATE TABLE "+db+".t (id int PRIMARY KEY)")
	t.Cleanup(func() { conn.Execute("DROP DATABASE IF EXISTS " + db) })
	c, err := Spec.Parse(map[string]string{"connector.class": "mysql", "database.hostname": srv.Host(), "database.port": srv.Port(),
		"database.user": srv.User, "database.password": srv.Password, "database.server.id": "7401", "topic.prefix": "cdc"})
	if err != nil {
		t.Fatal(err)
	}
	start, err := masterStatus(conn)
	if err != nil {
		t.Fatal(err)
	}
	mysqltest.Exec(t, conn, "INSERT INTO "+db+".t VALUES (1)")
	// The transaction's events: its first one starts it, the next ones are
	// inside it.
	rows, err := query(conn, fmt.Sprintf("SHOW BINLOG EVENTS IN '%s' FROM %d", start.File, start.Pos))
	if err != nil {
		t.Fatal(err)
	}
	var first, inner string
	var innerType string
	for _, r := range rows {
		switch typ := str(r[2]); {
		case first == "" && !insideTransaction(typ):
			first = str(r[1])
		case first != "" && inner == "" && insideTransaction(typ):
			inner, innerType = str(r[1]), typ
		}
	}
	if first == "" || inner == "" {
		t.Fatalf("no transaction in the binlog after %s (%d events)", start, len(rows))
	}
	end, _ := masterStatus(conn)

	alter := func(key, offset string) (string, error) {
		t.Helper()
		out, err := alterOffset(context.Background(), c, key, json.RawMessage(offset))
		if err != nil && !errors.Is(err, connectors.ErrInvalidOffset) {
			t.Fatalf("alterOffset(%s): %v, not an invalid offset", offset, err)
		}
		return string(out), err
	}
	refused := func(key, offset, want string) {
		t.Helper()
		if _, err := alter(key, offset); err == nil || !strings.HasPrefix(err.Error(), "invalid offset: "+want) {
			t.Fatalf("alterOffset(%s):\n got %v\nwant %s", offset, err, want)
		}
	}
	at := func(file, pos string) string { return `{"file": "` + file + `", "pos": ` + pos + `}` }

	refused("server=other", at(start.File, first), `partition {"server": "other"} is not this connector's: a MySQL source keeps its offset under {"server": "cdc"} (its topic.prefix)`)
	refused("server=cdc", `{"file": "x", "pos": 4, "txId": 1}`, `a MySQL offset is {"file": <binlog file>, "pos": <position>} with, optionally, "gtids", "snapshot_completed" and the other fields GET shows ("incremental", "kafka_signal_offset", "captured_tables"): unknown field "txId"`)
	refused("server=cdc", `{"pos": 4}`, `a MySQL offset must hold "file" and "pos"`)
	refused("server=cdc", at("nope-bin.000001", "4"), "binlog file nope-bin.000001 is not on the server (it has ")
	refused("server=cdc", at(start.File, "3"), "pos 3 is not a position in "+start.File+": events start at 4")
	// Other tests write to the same server, so the file may have grown
	// since SHOW MASTER STATUS: the position is far beyond any growth, and
	// the size named must be at least what the status said. A binlog file
	// holds at most max_binlog_size (1 GiB) and a transaction.
	beyond := uint32(4_000_000_000)
	_, err = alter("server=cdc", at(end.File, fmt.Sprint(beyond)))
	var size uint64
	if n, _ := fmt.Sscanf(fmt.Sprint(err), fmt.Sprintf("invalid offset: pos %d is beyond the end of %s (%%d bytes)", beyond, end.File), &size); n != 1 || size < uint64(end.Pos) {
		t.Fatalf("alterOffset(pos %d of %s): got %v, want it beyond the end of a file of at least %d bytes", beyond, end.File, err, end.Pos)
	}
	refused("server=cdc", at(start.File, inner), "pos "+inner+" of "+start.File+" is inside a transaction (its event is "+innerType+")")
	var firstPos int
	fmt.Sscan(first, &firstPos)
	refused("server=cdc", at(start.File, fmt.Sprint(firstPos+1)), fmt.Sprintf("pos %d of %s is not where an event starts (", firstPos+1, start.File))
	refused("server=cdc", `{"file": "`+start.File+`", "pos": `+first+`, "gtids": "not a set"}`, "gtids is not a ")

	got, err := alter("server=cdc", `{"file": "`+start.File+`", "pos": `+first+`, "gtids": "`+start.GTIDs+`"}`)
	want := `{"file":"` + start.File + `","pos":` + first + `,"snapshot_completed":true}`
	if start.GTIDs != "" {
		want = `{"file":"` + start.File + `","pos":` + first + `,"gtids":"` + start.GTIDs + `","snapshot_completed":true}`
	}
	if err != nil || got != want {
		t.Fatalf("stored %s, %v; want %s", got, err, want)
	}
	// The end of the binlog is a position too.
	if got, err := alter("server=cdc", `{"file": "`+end.File+`", "pos": `+fmt.Sprint(end.Pos)+`, "snapshot_completed": false}`); err != nil ||
		got != fmt.Sprintf(`{"file":%q,"pos":%d,"snapshot_completed":false}`, end.File, end.Pos) {
		t.Fatalf("end of the binlog: %s, %v", got, err)
	}
	// What GET shows besides the position is kept as given: its answer
	// can be edited and sent back.
	carried := `"kafka_signal_offset":7,"captured_tables":["cdc.a","cdc.b"]`
	if got, err := alter("server=cdc", fmt.Sprintf(`{"file": %q, "pos": %d, "snapshot_completed": true, %s}`, end.File, end.Pos, carried)); err != nil ||
		got != fmt.Sprintf(`{"file":%q,"pos":%d,"snapshot_completed":true,%s}`, end.File, end.Pos, carried) {
		t.Fatalf("with the fields GET shows: %s, %v", got, err)
	}
}
