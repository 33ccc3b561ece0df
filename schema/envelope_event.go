package schema

import (
	"fmt"

	"github.com/sluice-cdc/sluice/schema/event"
)

// FromValue sets e from env, the envelope as a Struct value (what a Codec of
// the envelope schema decodes: one value per field, nested structs as
// []any), as Decode sets it from the Avro body: Op, Before, After, Source,
// TsMs and Transaction are replaced, Table is set to the codec's table and
// Position is left alone. Fields an event has no place for are ignored. The
// rows of e are env's own, not copies.
//
// A reader that needs the envelope as the record holds it (every field,
// including those an event.Event has no place for) decodes it once with a
// Codec and gets the event from the value with FromValue.
func (c *EnvelopeCodec) FromValue(env event.Row, e *event.Event) error {
	if len(env) != len(c.fields) {
		return fmt.Errorf("envelope value of %s: %d fields, the schema has %d", schemaLabel(c.codec.schema), len(env), len(c.fields))
	}
	var out event.Event
	out.Table, out.Position = c.table, e.Position
	for i := range c.fields {
		f := &c.fields[i]
		v := env[i]
		switch f.part {
		case partBefore:
			out.Before = structRow(v)
		case partAfter:
			out.After = structRow(v)
		case partSource:
			src := structRow(v)
			for j := range f.source {
				if j < len(src) {
					f.source[j].field.set(&out.Source, src[j])
				}
			}
		case partTransaction:
			if t := structRow(v); len(t) == 3 {
				tx := &event.Transaction{}
				tx.ID, _ = t[0].(string)
				tx.TotalOrder, _ = t[1].(int64)
				tx.DataCollectionOrder, _ = t[2].(int64)
				out.Transaction = tx
			}
		case partOp:
			op, _ := v.(string)
			var err error
			if out.Op, err = event.ParseOp(op); err != nil {
				return fmt.Errorf("envelope value of %s: field %q: %w", schemaLabel(c.codec.schema), f.n.path, err)
			}
		case partTsMs:
			out.TsMs, _ = v.(int64)
		}
	}
	*e = out
	return nil
}

// structRow returns a decoded struct value's fields, nil for null.
func structRow(v any) event.Row {
	switch x := v.(type) {
	case event.Row:
		return x
	case []any:
		return x
	}
	return nil
}

// set sets the event.Source field f stands for from v, the decoded value of
// the source block's field (nil for null). ts_us and ts_ns are derived from
// ts_ms and ignored, as Decode ignores them.
func (f srcField) set(s *event.Source, v any) {
	text, _ := v.(string)
	long, _ := v.(int64)
	switch f {
	case srcVersion:
		s.Version = text
	case srcConnector:
		s.Connector = text
	case srcName:
		s.Name = text
	case srcTsMs:
		s.TsUs = long * 1e3
	case srcTsUs:
		s.TsUs = long
	case srcSnapshot:
		s.Snapshot = event.Snapshot(text)
	case srcDB:
		s.DB = text
	case srcSequence:
		s.Sequence = text
	case srcSchema:
		s.Schema = text
	case srcTable:
		s.Table = text
	case srcTxID:
		s.TxID = long
	case srcLSN:
		s.LSN = long
	case srcXmin:
		s.Xmin = long
	case srcServerID:
		s.ServerID = long
	case srcGTID:
		s.GTID = text
	case srcFile:
		s.File = text
	case srcPos:
		s.Pos = long
	case srcRow:
		s.RowIndex, _ = v.(int32)
	case srcThread:
		s.Thread = long
	case srcQuery:
		s.Query = text
	}
}
