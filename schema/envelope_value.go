package schema

import (
	"fmt"

	"github.com/sluice-cdc/sluice/schema/event"
)

// Value returns the envelope of e as a Struct value of the envelope schema
// (see Schema): what Append writes, as values instead of bytes, for
// transforms that work on records. Optional fields that are zero are null,
// as Append writes them. The rows are e's own, not copies.
func (c *EnvelopeCodec) Value(e *event.Event) (event.Row, error) {
	if c.cannotEncode != nil {
		return nil, c.cannotEncode
	}
	out := make(event.Row, len(c.fields))
	for i := range c.fields {
		f := &c.fields[i]
		switch f.part {
		case partBefore:
			out[i] = rowOrNil(e.Before)
		case partAfter:
			out[i] = rowOrNil(e.After)
		case partSource:
			src := make(event.Row, len(f.source))
			for j := range f.source {
				src[j] = f.source[j].value(&e.Source)
			}
			out[i] = src
		case partTransaction:
			if t := e.Transaction; t != nil {
				out[i] = event.Row{t.ID, t.TotalOrder, t.DataCollectionOrder}
			} else if !f.n.optional {
				return nil, fmt.Errorf("envelope of %s: %s: null for a required value", schemaLabel(c.codec.schema), describe(f.n.path))
			}
		case partOp:
			out[i] = e.Op.String()
		case partTsMs:
			out[i] = optionalLong(f.n, e.TsMs, 1)
		case partTsUs:
			out[i] = optionalLong(f.n, e.TsMs, 1e3)
		case partTsNs:
			out[i] = optionalLong(f.n, e.TsMs, 1e6)
		}
	}
	return out, nil
}

// rowOrNil keeps a nil row an untyped nil, the null of a Struct value.
func rowOrNil(r event.Row) any {
	if r == nil {
		return nil
	}
	return r
}

// value is the source field's value, as encode writes it.
func (f *sourceField) value(s *event.Source) any {
	n := f.n
	switch f.field {
	case srcVersion:
		return optionalString(n, s.Version)
	case srcConnector:
		return optionalString(n, s.Connector)
	case srcName:
		return optionalString(n, s.Name)
	case srcTsMs:
		return optionalLong(n, s.TsMs, 1)
	case srcTsUs:
		return optionalLong(n, s.TsMs, 1e3)
	case srcTsNs:
		return optionalLong(n, s.TsMs, 1e6)
	case srcSnapshot:
		return optionalString(n, string(s.Snapshot))
	case srcDB:
		return optionalString(n, s.DB)
	case srcSequence:
		return optionalString(n, s.Sequence)
	case srcSchema:
		return optionalString(n, s.Schema)
	case srcTable:
		return optionalString(n, s.Table)
	case srcTxID:
		return optionalLong(n, s.TxID, 1)
	case srcLSN:
		return optionalLong(n, s.LSN, 1)
	case srcXmin:
		return optionalLong(n, s.Xmin, 1)
	case srcServerID:
		return optionalLong(n, s.ServerID, 1)
	case srcGTID:
		return optionalString(n, s.GTID)
	case srcFile:
		return optionalString(n, s.File)
	case srcPos:
		return optionalLong(n, s.Pos, 1)
	case srcRow:
		return s.RowIndex
	case srcThread:
		return optionalLong(n, s.Thread, 1)
	case srcQuery:
		return optionalString(n, s.Query)
	}
	return nil
}

func optionalLong(n *node, v, unit int64) any {
	if n.optional && v == 0 {
		return nil
	}
	return v * unit
}

func optionalString(n *node, v string) any {
	if n.optional && v == "" {
		return nil
	}
	return v
}
