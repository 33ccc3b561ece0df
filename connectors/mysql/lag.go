package mysql

import (
	"sync"
	"sync/atomic"

	"github.com/sluice-cdc/sluice/connectors/cdc"
)

// lagMeter reports sluice_source_lag_bytes for a binlog stream: the bytes
// of binlog read since the position last confirmed durable in Kafka. The
// stream counts the bytes it reads and marks each end position it hands
// on with the count then; the acknowledgements, which come in order,
// confirm the marks up to their position.
type lagMeter struct {
	metrics cdc.Metrics
	read    atomic.Uint64 // bytes of binlog read since the stream started

	mu        sync.Mutex
	marks     []lagMark // ends handed on, not yet confirmed, in order
	confirmed uint64    // bytes read when the last confirmed end was reached
}

type lagMark struct {
	pos  Position
	read uint64
}

// readEvent counts an event of size bytes read.
func (m *lagMeter) readEvent(size uint32) { m.read.Add(uint64(size)) }

// bytesRead is the count of bytes read so far.
func (m *lagMeter) bytesRead() uint64 { return m.read.Load() }

// handedOn marks end, reached when read bytes had been read, as handed on.
func (m *lagMeter) handedOn(end Position, read uint64) {
	m.mu.Lock()
	m.marks = append(m.marks, lagMark{end, read})
	lag := m.read.Load() - m.confirmed
	m.mu.Unlock()
	m.metrics.SetLagBytes(lag)
}

// confirm takes the acknowledgement of every change up to p.
func (m *lagMeter) confirm(p Position) {
	m.mu.Lock()
	for i, mk := range m.marks {
		if mk.pos.File == p.File && mk.pos.Pos == p.Pos {
			m.confirmed, m.marks = mk.read, m.marks[i+1:]
			break
		}
	}
	lag := m.read.Load() - m.confirmed
	m.mu.Unlock()
	m.metrics.SetLagBytes(lag)
}
