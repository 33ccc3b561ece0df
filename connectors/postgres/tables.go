package postgres

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
)

// tableInfo is what the catalog says about a captured table: what pgoutput's
// Relation messages leave out (nullability, the primary key, the replica
// identity).
type tableInfo struct {
	OID             uint32
	Schema, Name    string
	Columns         []columnInfo
	PrimaryKey      []string // in key order
	ReplicaIdentity byte     // d default, f full, i index, n nothing
	IdentityIndex   []string // columns of the replica identity index, when 'i'
}

type columnInfo struct {
	Name     string
	TypeOID  uint32
	TypMod   int32
	NotNull  bool
	TypeName string // format_type(): "integer", "character varying(20)"
	// Default is the text of the column's default when it is a constant
	// literal ('abc'::text, 42, true); nil otherwise.
	Default *string
}

// defaultLiteral matches the constant defaults pg_get_expr renders: a
// quoted literal with an optional cast, a number, or a boolean.
var defaultLiteral = regexp.MustCompile(`^(?:'((?:[^']|'')*)'(?:::[a-z0-9_ ."\[\]()]+)?|\(?(-?[0-9]+(?:\.[0-9]+)?)\)?|(true|false))$`)

// constantDefault returns the value text of a default expression that is a
// constant, or nil for anything else (function calls, sequences, …).
func constantDefault(expr *string) *string {
	if expr == nil {
		return nil
	}
	m := defaultLiteral.FindStringSubmatch(*expr)
	if m == nil {
		return nil
	}
	v := strings.ReplaceAll(m[1], "''", "'") + m[2] + m[3]
	return &v
}

// querier is the part of pgx the catalog queries need.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// loadTable reads a table's columns, key and replica identity by OID.
func loadTable(ctx context.Context, q querier, oid uint32) (*tableInfo, error) {
	t := &tableInfo{OID: oid}
	var ident string
	err := q.QueryRow(ctx, `SELECT n.nspname, c.relname, c.relreplident::text
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1`, oid).
		Scan(&t.Schema, &t.Name, &ident)
	if err != nil {
		return nil, fmt.Errorf("read table %d from pg_class: %w", oid, err)
	}
	if ident != "" {
		t.ReplicaIdentity = ident[0]
	}
	rows, err := q.Query(ctx, `SELECT a.attname, a.atttypid, a.atttypmod, a.attnotnull, format_type(a.atttypid, a.atttypmod),
			pg_get_expr(d.adbin, d.adrelid)
		FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
		WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum`, oid)
	if err != nil {
		return nil, fmt.Errorf("read columns of %s.%s: %w", t.Schema, t.Name, err)
	}
	for rows.Next() {
		var c columnInfo
		var def *string
		if err := rows.Scan(&c.Name, &c.TypeOID, &c.TypMod, &c.NotNull, &c.TypeName, &def); err != nil {
			return nil, fmt.Errorf("read columns of %s.%s: %w", t.Schema, t.Name, err)
		}
		c.Default = constantDefault(def)
		t.Columns = append(t.Columns, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read columns of %s.%s: %w", t.Schema, t.Name, err)
	}
	if t.PrimaryKey, err = indexColumns(ctx, q, oid, "indisprimary"); err != nil {
		return nil, fmt.Errorf("read primary key of %s.%s: %w", t.Schema, t.Name, err)
	}
	if t.ReplicaIdentity == 'i' {
		if t.IdentityIndex, err = indexColumns(ctx, q, oid, "indisreplident"); err != nil {
			return nil, fmt.Errorf("read replica identity of %s.%s: %w", t.Schema, t.Name, err)
		}
	}
	return t, nil
}

// indexColumns lists, in index order, the columns of the table's index whose
// boolean pg_index flag is set (indisprimary or indisreplident).
func indexColumns(ctx context.Context, q querier, oid uint32, flag string) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT a.attname FROM pg_index i
		CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
		WHERE i.indrelid = $1 AND i.`+flag+` ORDER BY k.ord`, oid)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// column returns the catalog's description of a column, or false when the
// column is gone from the catalog (dropped since the WAL was written).
func (t *tableInfo) column(name string) (columnInfo, bool) {
	for _, c := range t.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return columnInfo{}, false
}
