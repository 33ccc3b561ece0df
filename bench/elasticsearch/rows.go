package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/sluice-cdc/sluice/schema/event"
)

// table is the benchmark's source table: ten columns, keyed by id, about
// 300 bytes a row as JSON.
var table = &event.Table{
	ID: event.TableID{Database: "bench", Schema: "public", Table: "items"},
	Columns: []event.Column{
		{Name: "id", Schema: &event.Schema{Type: event.Int64}},
		{Name: "account", Schema: &event.Schema{Type: event.Int32, Optional: true}},
		{Name: "qty", Schema: &event.Schema{Type: event.Int32, Optional: true}},
		{Name: "price", Schema: &event.Schema{Type: event.Float64, Optional: true}},
		{Name: "active", Schema: &event.Schema{Type: event.Boolean, Optional: true}},
		{Name: "created_ms", Schema: &event.Schema{Type: event.Int64, Optional: true}},
		{Name: "status", Schema: &event.Schema{Type: event.String, Optional: true}},
		{Name: "sku", Schema: &event.Schema{Type: event.String, Optional: true}},
		{Name: "region", Schema: &event.Schema{Type: event.String, Optional: true}},
		{Name: "note", Schema: &event.Schema{Type: event.String, Optional: true}},
	},
	Key: []int{0},
}

// txRows is how many rows each source transaction commits.
const txRows = 10

var (
	statuses = []string{"new", "paid", "shipped", "returned", "cancelled"}
	regions  = []string{"eu-west", "eu-central", "us-east", "us-west", "ap-south"}
	words    = strings.Fields("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu")
)

// row returns the i-th row (id i+1), deterministic in seed and i.
func row(seed uint64, i int) event.Row {
	r := rand.New(rand.NewPCG(seed, uint64(i)))
	var note strings.Builder
	for note.Len() < 150 {
		if note.Len() > 0 {
			note.WriteByte(' ')
		}
		note.WriteString(words[r.IntN(len(words))])
	}
	return event.Row{
		int64(i + 1),
		int32(r.IntN(100000)),
		int32(r.IntN(1000)),
		float64(r.IntN(1000000)) / 100,
		r.IntN(2) == 1,
		int64(1_700_000_000_000 + r.IntN(100_000_000)),
		statuses[r.IntN(len(statuses))],
		fmt.Sprintf("SKU-%08d-%04d", r.IntN(100_000_000), r.IntN(10000)),
		regions[r.IntN(len(regions))],
		note.String(),
	}
}

// lsnOf is the commit LSN of the transaction holding the i-th row.
func lsnOf(i int) uint64 { return uint64(0x1000000 + (i/txRows)*0x1000) }

// insert is the change event of the i-th row: an insert committed in a
// transaction of txRows rows, as the Postgres source writes it (source.lsn
// the change's own LSN, before the commit LSN of the transaction id).
func insert(seed uint64, i int) *event.Event {
	lsn, index := lsnOf(i), int64(i%txRows)
	return &event.Event{
		Op: event.OpCreate, Table: table, After: row(seed, i),
		Source: event.Source{Connector: "postgresql", Name: "bench", DB: "bench", Schema: "public", Table: "items",
			Snapshot: event.SnapshotFalse, LSN: int64(lsn) - 0x800 + 8*index, TxID: int64(lsn), TsUs: 1_700_000_000_000_000},
		Transaction: &event.Transaction{ID: fmt.Sprintf("%d:%d", lsn, lsn), TotalOrder: index + 1, DataCollectionOrder: index + 1},
	}
}

// version is the external version the sink derives for the i-th row's event.
func version(i int) (int64, error) {
	return event.Position{Commit: lsnOf(i), Index: uint32(i % txRows)}.Version()
}

// document is the i-th row as the JSON document the sink writes for it.
func document(seed uint64, i int) ([]byte, error) {
	r := row(seed, i)
	m := make(map[string]any, len(r))
	for j, c := range table.Columns {
		m[c.Name] = r[j]
	}
	return json.Marshal(m)
}
