package postgres

import (
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pglogrepl"

	"github.com/sluice-cdc/sluice/connectors/cdc"
	"github.com/sluice-cdc/sluice/schema/event"
)

// events turns one row or truncate message of a transaction into events.
// A primary-key change becomes a delete of the old key and a create of the
// new one, as Debezium emits it.
func (s *Source) events(msg pglogrepl.Message, rels *relations, tx *txState) ([]*event.Event, error) {
	switch m := msg.(type) {
	case *pglogrepl.InsertMessageV2:
		rel, err := rels.get(m.RelationID)
		if err != nil || rel.table == nil {
			return nil, err
		}
		after, err := s.row(rel, m.Tuple, nil)
		if err != nil {
			return nil, err
		}
		return []*event.Event{s.change(tx, m.RelationID, rel, event.OpCreate, nil, after)}, nil
	case *pglogrepl.UpdateMessageV2:
		rel, err := rels.get(m.RelationID)
		if err != nil || rel.table == nil {
			return nil, err
		}
		var before event.Row
		if m.OldTuple != nil {
			if before, err = s.row(rel, m.OldTuple, nil); err != nil {
				return nil, err
			}
		}
		after, err := s.row(rel, m.NewTuple, before)
		if err != nil {
			return nil, err
		}
		if before != nil && !sameKey(rel.table, before, after) {
			return []*event.Event{
				s.change(tx, m.RelationID, rel, event.OpDelete, before, nil),
				s.change(tx, m.RelationID, rel, event.OpCreate, nil, after),
			}, nil
		}
		if m.OldTupleType == pglogrepl.UpdateMessageTupleTypeKey {
			before = nil // a key-only image of an unchanged key says nothing new
		}
		return []*event.Event{s.change(tx, m.RelationID, rel, event.OpUpdate, before, after)}, nil
	case *pglogrepl.DeleteMessageV2:
		rel, err := rels.get(m.RelationID)
		if err != nil || rel.table == nil {
			return nil, err
		}
		before, err := s.row(rel, m.OldTuple, nil)
		if err != nil {
			return nil, err
		}
		return []*event.Event{s.change(tx, m.RelationID, rel, event.OpDelete, before, nil)}, nil
	case *pglogrepl.TruncateMessageV2:
		var out []*event.Event
		for _, id := range m.RelationIDs {
			rel, err := rels.get(id)
			if err != nil {
				return nil, err
			}
			if rel.table != nil {
				out = append(out, s.change(tx, id, rel, event.OpTruncate, nil, nil))
			}
		}
		return out, nil
	}
	return nil, nil
}

// change builds one event of transaction tx. Its source.lsn is the LSN of
// the change itself, as Debezium writes it; its position, and its
// transaction id, are the transaction's commit.
func (s *Source) change(tx *txState, relID uint32, rel *relation, op event.Op, before, after event.Row) *event.Event {
	tx.perTable[relID]++
	e := &event.Event{
		Op: op, Table: rel.table, Before: before, After: after,
		Source: event.Source{
			Version: s.env.Version, Connector: "postgresql", Name: s.cfg.TopicPrefix,
			TsUs: tx.commitTime.UnixMicro(), Snapshot: event.SnapshotFalse,
			DB: s.cfg.DBName, Schema: rel.table.ID.Schema, Table: rel.table.ID.Table,
		},
		TsMs: time.Now().UnixMilli(),
		Transaction: &event.Transaction{
			ID: tx.id, TotalOrder: int64(tx.index) + 1,
			DataCollectionOrder: tx.perTable[relID],
		},
		Position: event.Position{Commit: uint64(tx.commit), Index: tx.index},
	}
	tx.place(&e.Source)
	tx.index++
	return e
}

// place sets the position fields of a source block to the change being
// read: txId, source.lsn (the change's own LSN) and sequence.
func (tx *txState) place(src *event.Source) {
	src.TxID, src.LSN, src.Sequence = int64(tx.xid), int64(tx.lsn), tx.sequence()
}

// sequence is Debezium's source.sequence of the change being read: the end
// of the transaction read before (null when none was, since the stream
// started) and the change's own LSN, as decimal strings in a JSON array.
func (tx *txState) sequence() string {
	b := make([]byte, 0, 48)
	b = append(b, '[')
	if tx.lastCommit == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, '"')
		b = strconv.AppendUint(b, uint64(tx.lastCommit), 10)
		b = append(b, '"')
	}
	b = append(b, ',', '"')
	b = strconv.AppendUint(b, uint64(tx.lsn), 10)
	b = append(b, '"', ']')
	return string(b)
}

// row decodes a tuple into a row of rel's table; a value that does not
// convert is a *cdc.ValueError. Unchanged TOASTed values,
// which the WAL does not carry, are taken from prev (the old image of the
// same update, when the table's replica identity is FULL) or else carry the
// unavailable-value placeholder. Columns absent from a key-only old image
// are null, or the zero value of their type when NOT NULL, as Debezium does.
func (s *Source) row(rel *relation, tuple *pglogrepl.TupleData, prev event.Row) (event.Row, error) {
	if tuple == nil {
		return nil, nil
	}
	t := rel.table
	row := make(event.Row, len(t.Columns))
	for i, col := range tuple.Columns {
		if i >= len(rel.columnOf) {
			return nil, fmt.Errorf("table %s: tuple has %d columns, relation %d", t.ID, len(tuple.Columns), len(rel.columnOf))
		}
		c := rel.columnOf[i]
		if c < 0 {
			continue
		}
		switch col.DataType {
		case pglogrepl.TupleDataTypeNull:
		case pglogrepl.TupleDataTypeToast:
			if prev != nil && prev[c] != nil {
				row[c] = prev[c]
			} else {
				row[c] = s.unavailable(t.Columns[c].Schema)
			}
		case pglogrepl.TupleDataTypeText:
			v, err := rel.decode[c](col.Data)
			if err != nil {
				return nil, &cdc.ValueError{Column: t.Columns[c].Name, Type: t.Columns[c].SourceType, Err: err}
			}
			row[c] = v
		default:
			return nil, fmt.Errorf("decode %s.%s: unexpected tuple data kind %q", t.ID, t.Columns[c].Name, col.DataType)
		}
	}
	for c, v := range row {
		if v == nil && !t.Columns[c].Schema.Optional {
			row[c] = zeroValue(t.Columns[c].Schema)
		}
	}
	return row, nil
}

// sameKey reports whether two images of a row have the same key.
func sameKey(t *event.Table, a, b event.Row) bool {
	for _, k := range t.Key {
		if fmt.Sprint(a[k]) != fmt.Sprint(b[k]) {
			return false
		}
	}
	return true
}

// failed describes the change of msg, in transaction tx, that verr stopped
// from converting, with the text of its row images.
func (s *Source) failed(msg pglogrepl.Message, rels *relations, tx *txState, verr *cdc.ValueError) *cdc.FailedChange {
	var id uint32
	var op event.Op
	var before, after *pglogrepl.TupleData
	switch m := msg.(type) {
	case *pglogrepl.InsertMessageV2:
		id, op, after = m.RelationID, event.OpCreate, m.Tuple
	case *pglogrepl.UpdateMessageV2:
		id, op, before, after = m.RelationID, event.OpUpdate, m.OldTuple, m.NewTuple
	case *pglogrepl.DeleteMessageV2:
		id, op, before = m.RelationID, event.OpDelete, m.OldTuple
	}
	rel := rels.byID[id]
	return &cdc.FailedChange{
		Table: rel.table.ID.String(), Op: op, Value: verr,
		Position: fmt.Sprintf("LSN %s (transaction %d)", tx.commit, tx.xid),
		Before:   s.imageText(rel, before), After: s.imageText(rel, after),
	}
}

// imageText is the text of a tuple's captured values by column: nil for
// NULL, the unavailable-value placeholder for an unchanged TOASTed value.
func (s *Source) imageText(rel *relation, tuple *pglogrepl.TupleData) map[string]any {
	if tuple == nil {
		return nil
	}
	out := make(map[string]any, len(rel.table.Columns))
	for i, col := range tuple.Columns {
		if i >= len(rel.columnOf) || rel.columnOf[i] < 0 {
			continue
		}
		name := rel.table.Columns[rel.columnOf[i]].Name
		switch col.DataType {
		case pglogrepl.TupleDataTypeNull:
			out[name] = nil
		case pglogrepl.TupleDataTypeToast:
			out[name] = s.cfg.Placeholder
		default:
			out[name] = string(col.Data)
		}
	}
	return out
}
