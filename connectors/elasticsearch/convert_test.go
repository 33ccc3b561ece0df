package elasticsearch

import (
	"testing"

	"github.com/sluice-cdc/sluice/schema/event"
)

// A Postgres event is versioned by the commit LSN of its transaction.id
// (and its total_order), not by source.lsn, the LSN of the change itself;
// an event without a transaction block, or with an id not of the form
// "<xid>:<commit LSN>", by source.lsn. A MySQL event by its binlog
// position.
func TestEnvelopeVersion(t *testing.T) {
	pg := func(lsn int64, tx *event.Transaction) *event.Event {
		return &event.Event{Source: event.Source{Connector: "postgresql", LSN: lsn}, Transaction: tx}
	}
	binlog, _ := event.BinlogCommit("mysql-bin.000003", 0x4000)
	for _, tc := range []struct {
		name string
		ev   *event.Event
		want int64
	}{
		{"streamed change", pg(0x1f00, &event.Transaction{ID: "766:8192", TotalOrder: 3}), version(0x2000, 2)},
		{"snapshot read", pg(0x1000, nil), version(0x1000, 0)},
		{"no commit LSN after the colon", pg(0x1f00, &event.Transaction{ID: "766:", TotalOrder: 3}), version(0x1f00, 2)},
		{"hexadecimal commit LSN", pg(0x1f00, &event.Transaction{ID: "766:0/2000", TotalOrder: 1}), version(0x1f00, 0)},
		{"no colon", pg(0x1f00, &event.Transaction{ID: "8192", TotalOrder: 1}), version(0x1f00, 0)},
		{"zero commit LSN", pg(0x1f00, &event.Transaction{ID: "766:0", TotalOrder: 1}), version(0x1f00, 0)},
		{"mysql", &event.Event{Source: event.Source{Connector: "mysql", File: "mysql-bin.000003", Pos: 0x4000},
			Transaction: &event.Transaction{ID: "3e11fa47-71ca-11e1-9e33-c80aa9429562:23", TotalOrder: 2}}, version(binlog, 1)},
	} {
		got, versioned, err := envelopeVersion(tc.ev)
		if err != nil || !versioned || got != tc.want {
			t.Errorf("%s: version %d (versioned %v, error %v), want %d", tc.name, got, versioned, err, tc.want)
		}
	}
	if _, versioned, err := envelopeVersion(&event.Event{Source: event.Source{Connector: "other"}}); versioned || err != nil {
		t.Errorf("an event without a source position: versioned %v (error %v), want unversioned", versioned, err)
	}
}

// A flattened row is versioned by the commit LSN of its __transaction_id or
// __id when it has one, else by its __source_lsn or __lsn; a transaction id
// without an LSN versions nothing.
func TestFlattenedRowVersion(t *testing.T) {
	field := func(name string, typ event.Type) event.Field {
		return event.Field{Name: name, Schema: &event.Schema{Type: typ, Optional: true}}
	}
	c := &converter{flat: map[*event.Schema]flatFields{}}
	withID := c.flatFields(&event.Schema{Type: event.Struct, Fields: []event.Field{
		field("id", event.Int32), field("__source_lsn", event.Int64), field("__transaction_id", event.String)}})
	lsnOnly := c.flatFields(&event.Schema{Type: event.Struct, Fields: []event.Field{field("id", event.Int32), field("__lsn", event.Int64)}})
	idOnly := c.flatFields(&event.Schema{Type: event.Struct, Fields: []event.Field{field("id", event.Int32), field("__id", event.String)}})
	for _, tc := range []struct {
		name      string
		ff        flatFields
		row       event.Row
		want      uint64
		versioned bool
	}{
		{"transaction id", withID, event.Row{int32(1), int64(0x1f00), "766:8192"}, 0x2000, true},
		{"null transaction id", withID, event.Row{int32(1), int64(0x1000), nil}, 0x1000, true},
		{"malformed transaction id", withID, event.Row{int32(1), int64(0x1f00), "766:x"}, 0x1f00, true},
		{"lsn only", lsnOnly, event.Row{int32(1), int64(0x1f00)}, 0x1f00, true},
		{"null lsn", lsnOnly, event.Row{int32(1), nil}, 0, false},
		{"transaction id only", idOnly, event.Row{int32(1), "766:8192"}, 0, false},
	} {
		if got, ok := tc.ff.commit(tc.row); got != tc.want || ok != tc.versioned {
			t.Errorf("%s: commit %#x (%v), want %#x (%v)", tc.name, got, ok, tc.want, tc.versioned)
		}
	}
}
