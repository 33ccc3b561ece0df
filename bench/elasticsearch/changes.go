package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
)

// changes generates the latency workload's changes, numbered from 1: half
// inserts of new rows (ids after prefill), half updates of prefilled rows,
// each row updated at most once, so every change is the last one of its
// document and is found by its seq. The same seed and prefill give the
// same changes, whichever phase writes them.
type changes struct {
	seed    uint64
	rng     *rand.Rand
	prefill int64 // rows 1..prefill exist before the load

	nextInsert, nextUpdate int64
	seq                    int64 // the last change made
	inserts, updates       int
}

// change is one change: the row it writes and, for an update, the new
// values of the columns it sets.
type change struct {
	seq, id int64
	update  bool
	qty     int32
	status  string
}

func newChanges(seed uint64, prefill int64) *changes {
	return &changes{seed: seed, rng: rand.New(rand.NewPCG(seed, 3)), prefill: prefill, nextInsert: prefill + 1, nextUpdate: 1}
}

// next returns the next change.
func (c *changes) next() change {
	c.seq++
	if c.rng.IntN(2) == 0 && c.nextUpdate < c.prefill {
		ch := change{seq: c.seq, id: c.nextUpdate, update: true, qty: int32(c.rng.IntN(1000)), status: statuses[c.rng.IntN(len(statuses))]}
		c.nextUpdate++
		c.updates++
		return ch
	}
	ch := change{seq: c.seq, id: c.nextInsert}
	c.nextInsert++
	c.inserts++
	return ch
}

// document returns the row ch leaves, as the JSON document the sink writes
// for it: the table's columns by name. An update sets seq, qty and status
// and appends "+" to note, as the Postgres load's UPDATE does.
func (ch change) document(seed uint64) ([]byte, error) {
	vals := rowArgs(seed, ch.id, ch.seq)
	doc := make(map[string]any, len(vals))
	for i, c := range latencyColumns {
		doc[c] = vals[i]
	}
	if ch.update {
		note, _ := doc["note"].(string)
		doc["qty"], doc["status"], doc["note"] = ch.qty, ch.status, note+"+"
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("render the document of change %d (row %d): %w", ch.seq, ch.id, err)
	}
	return b, nil
}
