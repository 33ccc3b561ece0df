package schema

import (
	"github.com/sluice-cdc/sluice/schema/event"
)

// sourceField binds one field of a source block to its event.Source field.
type sourceField struct {
	field srcField
	n     *node
}

type srcField uint8

const (
	srcOther srcField = iota
	srcVersion
	srcConnector
	srcName
	srcTsMs
	srcTsUs
	srcTsNs
	srcSnapshot
	srcDB
	srcSequence
	srcSchema
	srcTable
	srcTxID
	srcLSN
	srcXmin
	srcServerID
	srcGTID
	srcFile
	srcPos
	srcRow
	srcThread
	srcQuery
)

// sourceFields maps Debezium's source field names to event.Source fields and
// the kind they must have.
var sourceFields = map[string]struct {
	field srcField
	kind  kind
}{
	"version":   {srcVersion, kindString},
	"connector": {srcConnector, kindString},
	"name":      {srcName, kindString},
	"ts_ms":     {srcTsMs, kindInt64},
	"ts_us":     {srcTsUs, kindInt64},
	"ts_ns":     {srcTsNs, kindInt64},
	"snapshot":  {srcSnapshot, kindString},
	"db":        {srcDB, kindString},
	"sequence":  {srcSequence, kindString},
	"schema":    {srcSchema, kindString},
	"table":     {srcTable, kindString},
	"txId":      {srcTxID, kindInt64},
	"lsn":       {srcLSN, kindInt64},
	"xmin":      {srcXmin, kindInt64},
	"server_id": {srcServerID, kindInt64},
	"gtid":      {srcGTID, kindString},
	"file":      {srcFile, kindString},
	"pos":       {srcPos, kindInt64},
	"row":       {srcRow, kindInt32},
	"thread":    {srcThread, kindInt64},
	"query":     {srcQuery, kindString},
}

// bindSource binds the fields of a source block schema; fields with an
// unknown name or an unexpected type stay srcOther.
func bindSource(s *event.Schema, n *node) []sourceField {
	out := make([]sourceField, len(s.Fields))
	for i, f := range s.Fields {
		out[i].n = n.fields[i]
		if b, ok := sourceFields[f.Name]; ok && b.kind == out[i].n.kind {
			out[i].field = b.field
		}
	}
	return out
}

func (f *sourceField) encode(w *avroWriter, s *event.Source) {
	n := f.n
	switch f.field {
	case srcVersion:
		writeString(w, n, s.Version)
	case srcConnector:
		writeString(w, n, s.Connector)
	case srcName:
		writeString(w, n, s.Name)
	case srcTsMs:
		writeLong(w, n, s.TsMillis(), 1)
	case srcTsUs:
		writeLong(w, n, s.TsUs, 1)
	case srcTsNs:
		writeLong(w, n, s.TsUs, 1e3)
	case srcSnapshot:
		writeString(w, n, string(s.Snapshot))
	case srcDB:
		writeString(w, n, s.DB)
	case srcSequence:
		writeString(w, n, s.Sequence)
	case srcSchema:
		writeString(w, n, s.Schema)
	case srcTable:
		writeString(w, n, s.Table)
	case srcTxID:
		writeLong(w, n, s.TxID, 1)
	case srcLSN:
		writeLong(w, n, s.LSN, 1)
	case srcXmin:
		writeLong(w, n, s.Xmin, 1)
	case srcServerID:
		writeLong(w, n, s.ServerID, 1)
	case srcGTID:
		writeString(w, n, s.GTID)
	case srcFile:
		writeString(w, n, s.File)
	case srcPos:
		writeLong(w, n, s.Pos, 1)
	case srcRow:
		if n.optional {
			w.writeLong(1 - n.nullIdx)
		}
		w.writeInt(s.RowIndex)
	case srcThread:
		writeLong(w, n, s.Thread, 1)
	case srcQuery:
		writeString(w, n, s.Query)
	default:
		w.writeLong(n.nullIdx) // optional, checked by NewEnvelopeCodec
	}
}

func (f *sourceField) decode(d *decoder, s *event.Source) {
	n := f.n
	switch f.field {
	case srcVersion:
		s.Version = readString(d, n)
	case srcConnector:
		s.Connector = readString(d, n)
	case srcName:
		s.Name = readString(d, n)
	case srcTsMs:
		s.TsUs = readLong(d, n) * 1e3
	case srcTsUs:
		s.TsUs = readLong(d, n)
	case srcSnapshot:
		s.Snapshot = event.Snapshot(readString(d, n))
	case srcDB:
		s.DB = readString(d, n)
	case srcSequence:
		s.Sequence = readString(d, n)
	case srcSchema:
		s.Schema = readString(d, n)
	case srcTable:
		s.Table = readString(d, n)
	case srcTxID:
		s.TxID = readLong(d, n)
	case srcLSN:
		s.LSN = readLong(d, n)
	case srcXmin:
		s.Xmin = readLong(d, n)
	case srcServerID:
		s.ServerID = readLong(d, n)
	case srcGTID:
		s.GTID = readString(d, n)
	case srcFile:
		s.File = readString(d, n)
	case srcPos:
		s.Pos = readLong(d, n)
	case srcRow:
		if n.optional && !d.present(n) {
			return
		}
		s.RowIndex = d.r.readInt()
	case srcThread:
		s.Thread = readLong(d, n)
	case srcQuery:
		s.Query = readString(d, n)
	default: // srcTsNs (derived from ts_us) and unknown fields
		d.value(n)
	}
}
