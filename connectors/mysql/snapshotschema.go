package mysql

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"

	"github.com/sluice-cdc/sluice/schema/event"
)

// schemaChanges are the schema-change events the snapshot writes before
// its rows, as Debezium's MySQL and MariaDB connectors write them when
// their snapshot reads the tables' structure: the server's character set
// (SET character_set_server=…, collation_server=…), DROP TABLE IF EXISTS
// of every table, then for each database DROP DATABASE IF EXISTS, CREATE
// DATABASE with its character set and collation, USE, and each table's
// SHOW CREATE TABLE statement, all at the snapshot's position. The tables
// are those of tables (in the snapshot's order, by database) that the
// history describes; their table changes (DROP, then CREATE) are the
// history's definitions.
func (r *tableReader) schemaChanges(hist *history, tables []string) ([]*event.Event, error) {
	var ids []event.TableID
	for _, t := range tables {
		if id := r.ids[t]; hist.def(id) != nil {
			ids = append(ids, id)
		}
	}
	set, err := serverCharsets(r.conn)
	if err != nil {
		return nil, err
	}
	events := []*event.Event{r.schemaChange(set, "", nil)}
	for _, id := range ids {
		events = append(events, r.schemaChange("DROP TABLE IF EXISTS "+quoteIdent(id.Database)+"."+quoteIdent(id.Table), id.Database,
			[]tableChange{{Kind: changeDrop, ID: id}}))
	}
	for i, id := range ids {
		if db := id.Database; i == 0 || ids[i-1].Database != db {
			create, err := createDatabase(r.conn, db)
			if err != nil {
				return nil, err
			}
			events = append(events, r.schemaChange("DROP DATABASE IF EXISTS "+quoteIdent(db), db, nil),
				r.schemaChange(create, db, nil), r.schemaChange("USE "+quoteIdent(db), db, nil))
		}
		rows, err := query(r.conn, "SHOW CREATE TABLE "+quoteIdent(id.Database)+"."+quoteIdent(id.Table))
		if err != nil {
			return nil, err
		}
		if len(rows) == 0 || len(rows[0]) < 2 {
			return nil, fmt.Errorf("SHOW CREATE TABLE %s returned nothing", id)
		}
		events = append(events, r.schemaChange(str(rows[0][1]), id.Database, []tableChange{{Kind: changeCreate, ID: id, Def: hist.def(id)}}))
	}
	return events, nil
}

// schemaChange is the event of a DDL statement the snapshot writes.
func (r *tableReader) schemaChange(sql, database string, changes []tableChange) *event.Event {
	sc, tables := newSchemaChange(sql, database, changes)
	now := time.Now().UnixMilli()
	return &event.Event{SchemaChange: sc, TsMs: now, Source: r.source(database, tables, now)}
}

// serverCharsets is the SET statement of the server's default character
// set and collation.
func serverCharsets(conn *client.Conn) (string, error) {
	rows, err := query(conn, "SHOW VARIABLES WHERE Variable_name IN ('character_set_server', 'collation_server')")
	if err != nil {
		return "", fmt.Errorf("read the server's character set: %w", err)
	}
	vars := make([]string, len(rows))
	for i, r := range rows {
		vars[i] = str(r[0]) + "=" + str(r[1])
	}
	slices.Sort(vars)
	return "SET " + strings.Join(vars, ", "), nil
}

// createDatabase is the CREATE DATABASE statement of a database with its
// default character set and collation.
func createDatabase(conn *client.Conn, db string) (string, error) {
	rows, err := query(conn, "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", db)
	if err != nil {
		return "", fmt.Errorf("read the character set of database %s: %w", db, err)
	}
	sql := "CREATE DATABASE " + quoteIdent(db)
	if len(rows) > 0 {
		if cs := rows[0][0]; cs != nil {
			sql += " CHARSET " + *cs
		}
		if co := rows[0][1]; co != nil {
			sql += " COLLATE " + *co
		}
	}
	return sql, nil
}
