package mysql_test

import (
	"testing"
)

// TestRowsOfUncapturedTablesAreNotDecoded writes, in the same transactions
// as a captured table's rows, rows of a table outside table.include.list
// with a column go-mysql cannot decode (MariaDB's COMPRESSED columns): the
// source never decodes them, so they cannot stop it, and the captured
// table's changes all arrive.
func TestRowsOfUncapturedTablesAreNotDecoded(t *testing.T) {
	h := newHarness(t, map[string]string{"tombstones.on.delete": "false"})
	h.extra["table.include.list"] = h.db + `\.t`
	h.exec("CREATE TABLE t (id int PRIMARY KEY, v int)",
		"CREATE TABLE z (id int PRIMARY KEY, doc varchar(200) COMPRESSED)")
	h.start()
	h.waitRunning()
	h.exec("BEGIN", "INSERT INTO z VALUES (1, REPEAT('x', 150))", "INSERT INTO t VALUES (1, 10)", "COMMIT",
		"INSERT INTO z VALUES (2, 'y')", "UPDATE t SET v = 11 WHERE id = 1")
	es := values(h.settle(h.topic("t"), 2))
	if got := ops(es); got != "cu" {
		t.Fatalf("ops = %s, want cu", got)
	}
	if v := field(es[1], es[1].After, "v"); v != int32(11) {
		t.Fatalf("v = %v, want 11", v)
	}
	h.checkRunning()
}
