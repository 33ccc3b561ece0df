package daemon

import (
	"math/rand/v2"
	"time"
)

// Backoff spaces the restarts of a connector that keeps failing: the n-th
// consecutive restart waits a random time between half and all of
// Initial·2ⁿ, capped at Max. A run that lasted longer than Max, or that
// was RUNNING for Healthy, resets n: a fault that comes back after the
// connector recovered waits as a first one does.
type Backoff struct {
	Initial time.Duration // default 1s
	Max     time.Duration // default 10s, Debezium's retriable.restart.connector.wait.ms
	Healthy time.Duration // default 10s
}

func (b Backoff) withDefaults() Backoff {
	if b.Initial <= 0 {
		b.Initial = time.Second
	}
	if b.Max < b.Initial {
		b.Max = max(10*time.Second, b.Initial)
	}
	if b.Healthy <= 0 {
		b.Healthy = 10 * time.Second
	}
	return b
}

// resets reports whether a run that lasted ran, RUNNING for running of it,
// starts the count of restarts again.
func (b Backoff) resets(ran, running time.Duration) bool {
	return ran > b.Max || running >= b.Healthy
}

// delay is the wait before restart number attempt (from 0).
func (b Backoff) delay(attempt int) time.Duration {
	d := b.Initial
	for i := 0; i < attempt && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	return d/2 + rand.N(d/2+1)
}
