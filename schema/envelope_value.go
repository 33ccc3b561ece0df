package schema

import (
	"fmt"

	"github.com/sluice-cdc/sluice/schema/event"
)

// EnvelopeValues builds envelopes of one EnvelopeCodec as Struct values of
// its schema (see Value), for transforms that work on records.
//
// Consecutive events mostly repeat their source's names, their table,
// their transaction's id and their times, and putting a value in an
// interface allocates. So it keeps each field's last value, boxed, and
// hands out the same box while the value does not change, and the same
// source block while the source does not change (events of one Postgres
// transaction share it): a typical event then allocates only its rows and
// the fields that move.
// An EnvelopeValues is not safe for concurrent use; a writer keeps one per
// codec.
type EnvelopeValues struct {
	c *EnvelopeCodec
	// boxes holds the last value of every envelope field, then of every
	// source field, then of the transaction's id, total and collection order.
	boxes []box
	// size is the number of values one envelope's rows hold; sourceSize
	// the number its source block holds.
	size, sourceSize int
	// source is the last source block, of lastSource.
	source     any
	lastSource event.Source
}

// required stands for the transaction block's fields, which are never null.
var required = &node{}

// box is a field's last value and that value boxed.
type box struct {
	s   string
	n   int64
	any any
}

// long returns v*unit boxed, or nil for an optional field's zero.
func (b *box) long(n *node, v, unit int64) any {
	if n.optional && v == 0 {
		return nil
	}
	if v *= unit; b.any == nil || b.n != v {
		b.n, b.any = v, v
	}
	return b.any
}

// str returns s boxed, or nil for an optional field's empty string.
func (b *box) str(n *node, s string) any {
	if n.optional && s == "" {
		return nil
	}
	if b.any == nil || b.s != s {
		b.s, b.any = s, s
	}
	return b.any
}

// Values returns a builder of c's envelopes as values.
func (c *EnvelopeCodec) Values() *EnvelopeValues {
	v := &EnvelopeValues{c: c, size: len(c.fields)}
	boxes := len(c.fields)
	for _, f := range c.fields {
		switch f.part {
		case partSource:
			boxes += len(f.source)
			v.size += len(f.source)
			v.sourceSize = len(f.source)
		case partTransaction:
			v.size += 3
		}
	}
	v.boxes = make([]box, boxes+3)
	return v
}

// Value returns the envelope of e as a Struct value of the envelope schema:
// what Append writes, as values instead of bytes. Optional fields that are
// zero are null, as Append writes them. The before and after rows are e's
// own, not copies; the rest is the caller's.
func (v *EnvelopeValues) Value(e *event.Event) (event.Row, error) {
	c := v.c
	if c.cannotEncode != nil {
		return nil, c.cannotEncode
	}
	// One allocation holds the envelope, its source (unless it is the
	// last one again) and its transaction.
	sameSource := v.source != nil && e.Source == v.lastSource
	size := v.size
	if sameSource {
		size -= v.sourceSize
	}
	values := make(event.Row, size)
	out, rest := values[:len(c.fields):len(c.fields)], values[len(c.fields):]
	next := len(c.fields) // the next source field's box
	txBoxes := v.boxes[len(v.boxes)-3:]
	for i := range c.fields {
		f, b := &c.fields[i], &v.boxes[i]
		switch f.part {
		case partBefore:
			out[i] = rowOrNil(e.Before)
		case partAfter:
			out[i] = rowOrNil(e.After)
		case partSource:
			if !sameSource {
				src := rest[:len(f.source):len(f.source)]
				rest = rest[len(f.source):]
				for j := range f.source {
					src[j] = f.source[j].value(&v.boxes[next+j], &e.Source)
				}
				v.source, v.lastSource = src, e.Source
			}
			next += len(f.source)
			out[i] = v.source
		case partTransaction:
			if t := e.Transaction; t != nil {
				tx := rest[:3:3]
				rest = rest[3:]
				tx[0] = txBoxes[0].str(required, t.ID)
				tx[1] = txBoxes[1].long(required, t.TotalOrder, 1)
				if t.DataCollectionOrder == t.TotalOrder {
					tx[2] = tx[1] // one table's transaction: one box serves both
				} else {
					tx[2] = txBoxes[2].long(required, t.DataCollectionOrder, 1)
				}
				out[i] = tx
			} else if !f.n.optional {
				return nil, fmt.Errorf("envelope of %s: %s: null for a required value", schemaLabel(c.codec.schema), describe(f.n.path))
			}
		case partOp:
			if b.any == nil || b.n != int64(e.Op) {
				b.n, b.any = int64(e.Op), e.Op.String()
			}
			out[i] = b.any
		case partTsMs:
			out[i] = b.long(f.n, e.TsMs, 1)
		case partTsUs:
			out[i] = b.long(f.n, e.TsMs, 1e3)
		case partTsNs:
			out[i] = b.long(f.n, e.TsMs, 1e6)
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

// value is the source field's value, as encode writes it, boxed in b.
func (f *sourceField) value(b *box, s *event.Source) any {
	n := f.n
	switch f.field {
	case srcVersion:
		return b.str(n, s.Version)
	case srcConnector:
		return b.str(n, s.Connector)
	case srcName:
		return b.str(n, s.Name)
	case srcTsMs:
		return b.long(n, s.TsMillis(), 1)
	case srcTsUs:
		return b.long(n, s.TsUs, 1)
	case srcTsNs:
		return b.long(n, s.TsUs, 1e3)
	case srcSnapshot:
		return b.str(n, string(s.Snapshot))
	case srcDB:
		return b.str(n, s.DB)
	case srcSequence:
		return b.str(n, s.Sequence)
	case srcSchema:
		return b.str(n, s.Schema)
	case srcTable:
		return b.str(n, s.Table)
	case srcTxID:
		return b.long(n, s.TxID, 1)
	case srcLSN:
		return b.long(n, s.LSN, 1)
	case srcXmin:
		return b.long(n, s.Xmin, 1)
	case srcServerID:
		return b.long(n, s.ServerID, 1)
	case srcGTID:
		return b.str(n, s.GTID)
	case srcFile:
		return b.str(n, s.File)
	case srcPos:
		return b.long(n, s.Pos, 1)
	case srcRow:
		return s.RowIndex
	case srcThread:
		return b.long(n, s.Thread, 1)
	case srcQuery:
		return b.str(n, s.Query)
	}
	return nil
}
