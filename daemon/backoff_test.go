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
	if d := (Backoff{}).withDefaults(); d.Initial != time.Second || d.Max != 10*time.Second || d.Healthy != 10*time.Second {
		t.Fatalf("defaults = %+v", d)
	}
}

// A run that outlived the cap, or stayed RUNNING for Healthy, starts the
// count of restarts again; a run that kept failing before or soon after
// RUNNING does not.
func TestBackoffResetsAfterARecovery(t *testing.T) {
	b := Backoff{}.withDefaults()
	for _, tc := range []struct {
		ran, running time.Duration
		want         bool
	}{
		{ran: 2 * time.Second, running: 0, want: false},
		{ran: 9 * time.Second, running: 8 * time.Second, want: false},
		{ran: 9 * time.Second, running: 9 * time.Second, want: false},
		{ran: 11 * time.Second, running: 0, want: true},
		{ran: 61 * time.Second, running: 0, want: true},
	} {
		if got := b.resets(tc.ran, tc.running); got != tc.want {
			t.Errorf("a run of %v, RUNNING for %v: resets %v, want %v", tc.ran, tc.running, got, tc.want)
		}
	}
}
