package rowgen

import "math/rand/v2"

// The steady load's mix, in percent of the rows changed.
const (
	insertPercent = 50
	updatePercent = 35 // the rest are deletes
)

// Op is the kind of a change.
type Op int

const (
	Insert Op = iota
	Update
	Delete
)

// Mix picks the steady load's changes. Live ids are [Lo, Hi): inserts take
// Hi, deletes take Lo, updates pick one at random, so every change hits a
// row. It is not safe for concurrent use.
type Mix struct {
	Lo, Hi int64

	// Changes picked so far, by kind.
	Inserts, Updates, Deletes int64

	rng *rand.Rand
}

// NewMix returns the mix of run (its random choices are seeded by it)
// on a table holding ids [1, prefill].
func NewMix(run, prefill int) *Mix {
	return &Mix{Lo: 1, Hi: int64(prefill) + 1, rng: rand.New(rand.NewPCG(uint64(run), 7))}
}

// Next picks the next change and the id of the row it changes, and counts
// it.
func (m *Mix) Next() (Op, int64) {
	p := m.rng.IntN(100)
	switch {
	case p < insertPercent || m.Hi-m.Lo < 2:
		m.Hi++
		m.Inserts++
		return Insert, m.Hi - 1
	case p < insertPercent+updatePercent:
		m.Updates++
		return Update, m.Lo + m.rng.Int64N(m.Hi-m.Lo)
	default:
		m.Lo++
		m.Deletes++
		return Delete, m.Lo - 1
	}
}

// Changes is how many changes were picked.
func (m *Mix) Changes() int64 { return m.Inserts + m.Updates + m.Deletes }

// Records is how many Kafka records the changes make: a tombstone follows
// each delete.
func (m *Mix) Records() int64 { return m.Inserts + m.Updates + 2*m.Deletes }
