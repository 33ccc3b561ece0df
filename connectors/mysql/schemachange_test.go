package mysql_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/connectors/cdc"
	"github.com/sluice-cdc/sluice/connectors/mysql"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/testenv/topictest"
)

// TestSchemaChangeTopic runs CREATE TABLE, ALTER TABLE and DROP TABLE while
// streaming: each is a record on the topic named by the topic prefix, after
// the 6 of the snapshot of t, with Debezium's SchemaChangeKey and
// SchemaChangeValue schemas read back from the registry. With
// include.schema.changes=false no more are written.
func TestSchemaChangeTopic(t *testing.T) {
	h := newHarness(t, map[string]string{})
	h.exec("CREATE TABLE t (id int PRIMARY KEY, a varchar(10))")
	h.start()
	h.waitRunning()
	create := "CREATE TABLE n (id bigint unsigned NOT NULL AUTO_INCREMENT, s varchar(20) CHARACTER SET latin1 DEFAULT 'x' COMMENT 'the s', PRIMARY KEY (id))"
	alter := "ALTER TABLE n ADD COLUMN c int NOT NULL AFTER id"
	h.exec(create, alter, "DROP TABLE n")
	recs := h.reader.Read(t, h.db, 9, h.checkRunning)
	for i, r := range recs[:6] {
		if source := sub(r.ValueSchema.Fields[0].Schema, sub(r.ValueSchema, r.Value).get("source")); source.get("snapshot") != "true" {
			t.Fatalf("record %d is not the snapshot's: source %v", i, source.row)
		}
	}
	recs = recs[6:]

	type change struct{ ddl, kind, id, columns, pk string }
	want := []change{
		{create, "CREATE", `"` + h.db + `"."n"`, "id,s", "id"},
		{alter, "ALTER", `"` + h.db + `"."n"`, "id,c,s", "id"},
		{"DROP TABLE `n`", "DROP", `"` + h.db + `"."n"`, "", ""},
	}
	for i, r := range recs {
		key, value := sub(r.KeySchema, r.Key), sub(r.ValueSchema, r.Value)
		if fmt.Sprint(key.row) != "["+h.db+"]" {
			t.Errorf("record %d: key %v, want [%s]", i, key.row, h.db)
		}
		if key.schema.Name != "io.debezium.connector.mysql.SchemaChangeKey" || value.schema.Name != "io.debezium.connector.mysql.SchemaChangeValue" {
			t.Errorf("record %d: schemas %s and %s", i, key.schema.Name, value.schema.Name)
		}
		if got := value.get("databaseName"); got != h.db {
			t.Errorf("record %d: databaseName %v", i, got)
		}
		if got := value.get("ddl").(string); !strings.HasPrefix(got, want[i].ddl) {
			t.Errorf("record %d: ddl %q, want %q", i, got, want[i].ddl)
		}
		if ts := value.get("ts_ms").(int64); ts < time.Now().Add(-time.Minute).UnixMilli() {
			t.Errorf("record %d: ts_ms %d", i, ts)
		}
		source := sub(value.schema.Fields[value.schema.FieldIndex("source")].Schema, value.get("source"))
		if source.get("db") != h.db || source.get("table") != "n" || source.get("connector") != "mysql" || source.get("name") != h.db ||
			!strings.HasPrefix(source.get("file").(string), "mysql-bin.") || source.get("pos").(int64) <= 0 || source.get("gtid") == nil {
			t.Errorf("record %d: source %v", i, source.row)
		}
		changes := value.get("tableChanges").([]any)
		if len(changes) != 1 {
			t.Fatalf("record %d: %d table changes, want 1", i, len(changes))
		}
		changeSchema := value.schema.Fields[value.schema.FieldIndex("tableChanges")].Schema.Elem
		c := sub(changeSchema, changes[0])
		if c.get("type") != want[i].kind || c.get("id") != want[i].id {
			t.Errorf("record %d: change %v %v, want %s %s", i, c.get("type"), c.get("id"), want[i].kind, want[i].id)
		}
		if want[i].kind == "DROP" {
			if c.get("table") != nil {
				t.Errorf("record %d: a dropped table's definition %v", i, c.get("table"))
			}
			continue
		}
		table := sub(changeSchema.Fields[changeSchema.FieldIndex("table")].Schema, c.get("table"))
		if fmt.Sprint(table.get("primaryKeyColumnNames")) != "["+want[i].pk+"]" {
			t.Errorf("record %d: primary key %v", i, table.get("primaryKeyColumnNames"))
		}
		colSchema := table.schema.Fields[table.schema.FieldIndex("columns")].Schema.Elem
		var names []string
		for j, raw := range table.get("columns").([]any) {
			col := sub(colSchema, raw)
			names = append(names, col.get("name").(string))
			if col.get("position") != int32(j+1) {
				t.Errorf("record %d column %s: position %v", i, col.get("name"), col.get("position"))
			}
			switch col.get("name") {
			case "id":
				if col.get("typeName") != "BIGINT UNSIGNED" || col.get("autoIncremented") != true || col.get("optional") != false || col.get("jdbcType") != int32(-5) {
					t.Errorf("record %d: column id %v", i, col.row)
				}
			case "s":
				if col.get("typeName") != "VARCHAR" || col.get("charsetName") != "latin1" || col.get("length") != int32(20) ||
					col.get("defaultValueExpression") != "'x'" || col.get("comment") != "the s" || col.get("optional") != true {
					t.Errorf("record %d: column s %v", i, col.row)
				}
			}
		}
		if got := strings.Join(names, ","); got != want[i].columns {
			t.Errorf("record %d: columns %s, want %s", i, got, want[i].columns)
		}
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}

	// include.schema.changes=false: the DDL changes the table's events only.
	h.extra["include.schema.changes"] = "false"
	h.start()
	h.waitRunning()
	h.exec("ALTER TABLE t ADD COLUMN z int", "INSERT INTO t VALUES (1, 'a', 2)")
	if es := values(h.read(h.topic("t"), 1)); columnNames(es[0]) != "id,a,z" {
		t.Fatalf("columns %s", columnNames(es[0]))
	}
	if n := len(h.readQuiet(h.db)); n != 9 {
		t.Errorf("%d schema-change records, want the 9 written before", n)
	}
}

// TestSnapshotSchemaChanges: a snapshot writes, before its rows, the
// records of Debezium's snapshot of the tables' structure — the server's
// character set, DROP TABLE of each table, DROP and CREATE DATABASE, USE,
// and each table's SHOW CREATE TABLE with its columns — at the snapshot's
// position. A snapshot resumed after its first progress was saved writes
// them no more; one that starts over writes them again. With
// include.schema.changes=false a snapshot writes none.
func TestSnapshotSchemaChanges(t *testing.T) {
	h := newHarness(t, map[string]string{})
	h.exec("CREATE TABLE b (id int PRIMARY KEY, e enum('x','y''z'), s set('p','q'), d datetime(3), f float, bl blob, n decimal(8,3))",
		"CREATE TABLE a (k varchar(5) PRIMARY KEY)", "INSERT INTO a VALUES ('one')", "INSERT INTO b (id) VALUES (1)")
	h.start()
	h.waitRunning()
	at := values(h.read(h.topic("a"), 1))[0].Source
	recs := h.reader.Read(t, h.db, 8, h.checkRunning)

	server := h.row("SELECT @@character_set_server, @@collation_server")
	database := h.row("SELECT @@character_set_database, @@collation_database")
	pos := fmt.Sprintf("%s:%d", at.File, at.Pos)
	q := func(name string) string { return "`" + name + "`" }
	want := []string{
		fmt.Sprintf(`key="" databaseName="" ddl="SET character_set_server=%s, collation_server=%s" source=true,"","",0,%s changes=`, server[0], server[1], pos),
		fmt.Sprintf(`key=%[1]q databaseName=%[1]q ddl="DROP TABLE IF EXISTS %[2]s.%[3]s" source=true,%[1]q,"a",0,%[4]s changes=DROP "%[1]s"."a"`, h.db, q(h.db), q("a"), pos),
		fmt.Sprintf(`key=%[1]q databaseName=%[1]q ddl="DROP TABLE IF EXISTS %[2]s.%[3]s" source=true,%[1]q,"b",0,%[4]s changes=DROP "%[1]s"."b"`, h.db, q(h.db), q("b"), pos),
		fmt.Sprintf(`key=%[1]q databaseName=%[1]q ddl="DROP DATABASE IF EXISTS %[2]s" source=true,%[1]q,"",0,%[3]s changes=`, h.db, q(h.db), pos),
		fmt.Sprintf(`key=%[1]q databaseName=%[1]q ddl="CREATE DATABASE %[2]s CHARSET %[3]s COLLATE %[4]s" source=true,%[1]q,"",0,%[5]s changes=`, h.db, q(h.db), database[0], database[1], pos),
		fmt.Sprintf(`key=%[1]q databaseName=%[1]q ddl="USE %[2]s" source=true,%[1]q,"",0,%[3]s changes=`, h.db, q(h.db), pos),
		fmt.Sprintf(`key=%[1]q databaseName=%[1]q ddl=%[2]q source=true,%[1]q,"a",0,%[3]s changes=CREATE "%[1]s"."a" k:12:5:-:<nil>`, h.db, h.row("SHOW CREATE TABLE a")[1], pos),
		fmt.Sprintf(`key=%[1]q databaseName=%[1]q ddl=%[2]q source=true,%[1]q,"b",0,%[3]s changes=CREATE "%[1]s"."b" `, h.db, h.row("SHOW CREATE TABLE b")[1], pos) +
			`id:4:11:-:<nil> e:1:1:-:['x' 'y''z'] s:1:3:-:['p' 'q'] d:93:3:-:<nil> f:6:-:-:<nil> bl:2004:-:-:<nil> n:3:8:3:<nil>`,
	}
	for i, r := range recs {
		if got := schemaChangeOf(r); got != want[i] {
			t.Errorf("record %d:\n got %s\nwant %s", i, got, want[i])
		}
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}

	// Resumed after its first progress was saved: the records are
	// durable, and not written again.
	start := mysql.Position{File: at.File, Pos: uint32(at.Pos)}
	h.saveState(cdc.State[mysql.Position]{Position: start, Positioned: true,
		Snapshot: &cdc.SnapshotProgress[mysql.Position]{Start: start, Done: []string{h.db + ".a"}}})
	h.start()
	h.waitRunning()
	if got := ops(values(h.read(h.topic("b"), 2))); got != "rr" {
		t.Fatalf("b: ops %s, want rr (read again by the resumed snapshot)", got)
	}
	if n := len(h.readQuiet(h.db)); n != 8 {
		t.Fatalf("%d schema-change records after the resumed snapshot, want the 8 written before", n)
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}

	// Started over (stopped before any progress was saved): written again.
	h.saveState(cdc.State[mysql.Position]{Position: start, Positioned: true})
	h.start()
	h.waitRunning()
	again := h.reader.Read(t, h.db, 16, h.checkRunning)[8:]
	for i, r := range again {
		if got := schemaChangeOf(r); got != want[i] {
			t.Errorf("record %d of the snapshot started over:\n got %s\nwant %s", i, got, want[i])
		}
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}

	// include.schema.changes=false: the snapshot of a new topic prefix
	// writes its rows and no schema-change record.
	h.extra["include.schema.changes"] = "false"
	h.extra["topic.prefix"] = h.db + "_quiet"
	h.start()
	h.waitRunning()
	if got := ops(values(h.read(h.db+"_quiet."+h.db+".b", 1))); got != "r" {
		t.Fatalf("b: ops %s, want r", got)
	}
	if n := len(h.readQuiet(h.db + "_quiet")); n != 0 {
		t.Errorf("%d schema-change records with include.schema.changes=false, want none", n)
	}
}

// row runs a query on the harness's connection and returns its first row.
func (h *harness) row(sql string) []string {
	h.t.Helper()
	res, err := h.conn.Execute(sql)
	if err != nil || len(res.Values) == 0 {
		h.t.Fatalf("%s: %v (%d rows)", sql, err, len(res.Values))
	}
	out := make([]string, len(res.Values[0]))
	for i := range out {
		out[i], _ = res.GetString(0, i)
	}
	return out
}

// saveState stores the source's offsets as st.
func (h *harness) saveState(st cdc.State[mysql.Position]) {
	h.t.Helper()
	raw, err := json.Marshal(st)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.offsets.Save(context.Background(), cdc.OffsetKey(h.db), raw); err != nil {
		h.t.Fatal(err)
	}
}

// schemaChangeOf renders a schema-change record: its key, databaseName and
// ddl, its source's snapshot, db, table, server_id, file and pos, and its
// table changes, each with its columns as
// name:jdbcType:length:scale:enumValues ("-" for a null length or scale).
func schemaChangeOf(r topictest.Record) string {
	key, value := sub(r.KeySchema, r.Key), sub(r.ValueSchema, r.Value)
	source := sub(value.schema.Fields[value.schema.FieldIndex("source")].Schema, value.get("source"))
	b := fmt.Sprintf("key=%q databaseName=%q ddl=%q source=%v,%q,%q,%v,%v:%v changes=", key.get("databaseName"), value.get("databaseName"), value.get("ddl"),
		source.get("snapshot"), source.get("db"), orEmpty(source.get("table")), source.get("server_id"), source.get("file"), source.get("pos"))
	changeSchema := value.schema.Fields[value.schema.FieldIndex("tableChanges")].Schema.Elem
	for _, raw := range value.get("tableChanges").([]any) {
		c := sub(changeSchema, raw)
		b += fmt.Sprintf("%v %v", c.get("type"), c.get("id"))
		if c.get("table") == nil {
			continue
		}
		table := sub(changeSchema.Fields[changeSchema.FieldIndex("table")].Schema, c.get("table"))
		colSchema := table.schema.Fields[table.schema.FieldIndex("columns")].Schema.Elem
		for _, raw := range table.get("columns").([]any) {
			col := sub(colSchema, raw)
			b += fmt.Sprintf(" %v:%v:%v:%v:%v", col.get("name"), col.get("jdbcType"), orDash(col.get("length")), orDash(col.get("scale")), col.get("enumValues"))
		}
	}
	return b
}

func orEmpty(v any) any {
	if v == nil {
		return ""
	}
	return v
}

func orDash(v any) any {
	if v == nil {
		return "-"
	}
	return v
}

// readQuiet consumes a topic from the start until no record arrived for 2 s.
func (h *harness) readQuiet(topic string) []topictest.Record {
	h.t.Helper()
	seen, since := 0, time.Now()
	recs, _ := h.reader.ReadUntil(h.t, topic, nil, func(rs []topictest.Record) bool {
		if len(rs) != seen {
			seen, since = len(rs), time.Now()
		}
		return time.Since(since) >= 2*time.Second
	})
	return recs
}

// structValue is a decoded struct and its schema.
type structValue struct {
	schema *event.Schema
	row    []any
}

func (v structValue) get(field string) any {
	i := v.schema.FieldIndex(field)
	if i < 0 {
		return fmt.Sprintf("<no field %s>", field)
	}
	return v.row[i]
}

func sub(s *event.Schema, v any) structValue {
	switch x := v.(type) {
	case event.Row:
		return structValue{s, x}
	case []any:
		return structValue{s, x}
	}
	return structValue{s, nil}
}
