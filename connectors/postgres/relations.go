package postgres

import (
	"context"
	"fmt"
	"reflect"
	"slices"

	"github.com/jackc/pglogrepl"

	"github.com/sluice-cdc/sluice/schema/event"
)

// relation is one version of a table as pgoutput describes it, with what is
// needed to turn its tuples into rows.
type relation struct {
	// table is nil for a relation that is not captured; its rows are skipped.
	table *event.Table
	// columnOf maps a pgoutput column position to a column of table, or -1
	// for a column the filters drop.
	columnOf []int
	// decode parses a column's text value, per column of table.
	decode []decodeFunc
	// identity is the replica identity ('d', 'f', 'i', 'n').
	identity byte
	// signalColumns are the column names of the signal table (whose
	// inserts are signals), by pgoutput position; nil for other tables.
	signalColumns []string
}

// decodeFunc parses one column value in Postgres text format.
type decodeFunc func(text []byte) (any, error)

// relations holds the current version of every relation a stream has seen.
type relations struct {
	byID map[uint32]*relation
}

func newRelations() *relations { return &relations{byID: map[uint32]*relation{}} }

// get returns the relation with the given id, or an error when pgoutput has
// not described it (a protocol violation).
func (r *relations) get(id uint32) (*relation, error) {
	rel, ok := r.byID[id]
	if !ok {
		return nil, fmt.Errorf("row for relation %d before its description", id)
	}
	return rel, nil
}

// describe records a Relation message. A table whose columns did not change
// keeps its *event.Table, so its schemas stay registered as they are.
func (r *relations) describe(ctx context.Context, src *Source, m *pglogrepl.RelationMessage) error {
	prev := r.byID[m.RelationID]
	var signalColumns []string
	if src.cfg.SignalTable != "" && m.Namespace+"."+m.RelationName == src.cfg.SignalTable {
		for _, c := range m.Columns {
			signalColumns = append(signalColumns, c.Name)
		}
	}
	if !src.cfg.Filter.Table(m.Namespace, m.RelationName) {
		r.byID[m.RelationID] = &relation{signalColumns: signalColumns}
		return nil
	}
	info, err := src.tableInfo(ctx, m.RelationID)
	if err != nil {
		return err
	}
	cols := make([]wireColumn, len(m.Columns))
	for i, c := range m.Columns {
		cols[i] = wireColumn{Name: c.Name, TypeOID: c.DataType, TypMod: c.TypeModifier}
	}
	rel, err := src.buildRelation(ctx, info, m.Namespace, m.RelationName, cols)
	if err != nil {
		return err
	}
	rel.identity, rel.signalColumns = m.ReplicaIdentity, signalColumns
	if prev != nil && prev.table != nil && sameTable(prev.table, rel.table) {
		rel.table = prev.table
	}
	r.byID[m.RelationID] = rel
	return nil
}

// wireColumn is a column as the WAL (or the snapshot query) presents it.
type wireColumn struct {
	Name    string
	TypeOID uint32
	TypMod  int32
}

// buildRelation maps a table's columns to an event.Table. Nullability and
// the key come from the catalog; a column the catalog no longer has (dropped
// since the WAL was written) is taken as nullable.
func (s *Source) buildRelation(ctx context.Context, info *tableInfo, schema, name string, cols []wireColumn) (*relation, error) {
	rel := &relation{columnOf: make([]int, len(cols))}
	t := &event.Table{ID: event.TableID{Database: s.cfg.DBName, Schema: schema, Table: name}}
	for i, c := range cols {
		rel.columnOf[i] = -1
		if !s.cfg.Filter.Column(schema, name, c.Name) {
			continue
		}
		ci, known := info.column(c.Name)
		ct, err := s.types.Column(ctx, schema+"."+name+"."+c.Name, c.TypeOID, c.TypMod, !known || !ci.NotNull)
		if err != nil {
			return nil, err
		}
		if known && ci.Default != nil {
			// A constant default travels in the schema, as Debezium writes
			// it, so adding a NOT NULL column with a default stays
			// backward compatible in the registry.
			if v, err := ct.Value(*ci.Default); err == nil {
				ct.Schema.Default = v
			}
		}
		rel.columnOf[i] = len(t.Columns)
		t.Columns = append(t.Columns, event.Column{Name: c.Name, Schema: ct.Schema, SourceType: ct.SourceType})
		rel.decode = append(rel.decode, func(text []byte) (any, error) { return ct.Value(string(text)) })
	}
	keyNames := s.cfg.KeyColumns.For(schema + "." + name)
	if keyNames == nil {
		keyNames = info.PrimaryKey
	}
	for _, k := range keyNames {
		idx := slices.IndexFunc(t.Columns, func(c event.Column) bool { return c.Name == k })
		if idx < 0 {
			return nil, fmt.Errorf("key column %q of %s.%s is not captured: check column.include.list / column.exclude.list and message.key.columns", k, schema, name)
		}
		t.Key = append(t.Key, idx)
	}
	rel.table = t
	return rel, nil
}

// sameTable reports whether two table versions have identical columns and key.
func sameTable(a, b *event.Table) bool {
	return a.ID == b.ID && slices.Equal(a.Key, b.Key) && reflect.DeepEqual(a.Columns, b.Columns)
}
