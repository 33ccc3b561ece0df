// Package offsetstest keeps a connector's offsets in memory for tests that
// run a connector, and run it again, within one test.
package offsetstest

import (
	"context"
	"slices"
	"sync"

	"github.com/sluice-cdc/sluice/connectors"
)

var _ connectors.OffsetStore = (*Memory)(nil)

// Memory is a connectors.OffsetStore in memory: what Save stored, Load
// returns for as long as the Memory lives. The zero value is empty and
// ready; it is safe for concurrent use.
type Memory struct {
	mu sync.Mutex
	m  map[string][]byte
}

// Load returns the value last saved under key, or nil when there is none.
func (o *Memory) Load(_ context.Context, key string) ([]byte, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.m[key], nil
}

// Save stores a copy of value under key.
func (o *Memory) Save(_ context.Context, key string, value []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil {
		o.m = map[string][]byte{}
	}
	o.m[key] = slices.Clone(value)
	return nil
}
