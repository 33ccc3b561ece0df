package daemon

import (
	"testing"
	"time"
)

func TestBackoffDelayDoublesWithJitterUpToMax(t *testing.T) {
	b := Backoff{Initial: 100 * time.Millisecond, Max: time.Second}.withDefaults()
	for attempt, full := range []time.Duration{100, 200, 400, 800, 1000, 1000, 1000} {
		full *= time.Millisecond
		for i := 0; i < 200; i++ {
			if d := b.delay(attempt); d < full/2 || d > full {
				t.Fatalf("attempt %d: delay %v outside [%v, %v]", attempt, d, full/2, full)
			}
		}
	}
	if d := (Backoff{}).withDefaults(); d.Initial != time.Second || d.Max != time.Minute {
		t.Fatalf("defaults = %+v", d)
	}
}
