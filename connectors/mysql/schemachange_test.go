package mysql_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/testenv/topictest"
)

// TestSchemaChangeTopic runs CREATE TABLE, ALTER TABLE and DROP TABLE while
// streaming: each is a record on the topic named by the topic prefix, with
// Debezium's SchemaChangeKey and SchemaChangeValue schemas read back from
// the registry. With include.schema.changes=false no more are written.
func TestSchemaChangeTopic(t *testing.T) {
	h := newHarness(t, map[string]string{})
	h.exec("CREATE TABLE t (id int PRIMARY KEY, a varchar(10))")
	h.start()
	h.waitRunning()
	create := "CREATE TABLE n (id bigint unsigned NOT NULL AUTO_INCREMENT, s varchar(20) CHARACTER SET latin1 DEFAULT 'x' COMMENT 'the s', PRIMARY KEY (id))"
	alter := "ALTER TABLE n ADD COLUMN c int NOT NULL AFTER id"
	h.exec(create, alter, "DROP TABLE n")
	recs := h.reader.Read(t, h.db, 3, h.checkRunning)

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
	if n := len(h.readQuiet(h.db)); n != 3 {
		t.Errorf("%d schema-change records, want the 3 written before", n)
	}
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
