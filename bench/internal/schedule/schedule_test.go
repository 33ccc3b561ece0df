package schedule

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestInterval(t *testing.T) {
	for _, c := range []struct {
		rate, perGroup int
		want           time.Duration
	}{
		{5000, 10, 2 * time.Millisecond},
		{200, 2, 10 * time.Millisecond},
		{1000, 10, 10 * time.Millisecond},
		{3, 1, 333333333 * time.Nanosecond},
	} {
		if got := Interval(c.rate, c.perGroup); got != c.want {
			t.Errorf("Interval(%d, %d) = %v, want %v", c.rate, c.perGroup, got, c.want)
		}
	}
}

// A late group is followed at once by the groups that fell due meanwhile;
// the ones after keep their times.
func TestRunKeepsTheScheduleAfterALateGroup(t *testing.T) {
	const interval = 50 * time.Millisecond
	t0 := time.Now()
	var at, dues []time.Duration
	err := Run(context.Background(), t0, interval, 5*interval, func(due time.Time) error {
		at = append(at, time.Since(t0))
		dues = append(dues, due.Sub(t0))
		if len(at) == 1 {
			time.Sleep(3 * interval)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(at) != 5 {
		t.Fatalf("group called %d times, want 5: at %v", len(at), at)
	}
	for k, a := range at {
		due := time.Duration(k) * interval
		if dues[k] != due {
			t.Errorf("group %d given due time %v, want %v", k, dues[k], due)
		}
		if a < due {
			t.Errorf("group %d called at %v, before it was due at %v", k, a, due)
		}
	}
	// Shifted by the late group, the last would be due at 7 intervals.
	if last := at[4]; last >= 6*interval {
		t.Errorf("last group called at %v, want before %v (due at %v)", last, 6*interval, 4*interval)
	}
}

func TestRunStopsAtTheFirstError(t *testing.T) {
	boom := errors.New("boom")
	calls := 0
	err := Run(context.Background(), time.Now(), time.Millisecond, time.Second, func(time.Time) error {
		calls++
		if calls == 2 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || calls != 2 {
		t.Fatalf("Run = %v after %d calls, want boom after 2", err, calls)
	}
}

func TestRunStopsWhenCtxEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := Run(ctx, time.Now(), time.Hour, 2*time.Hour, func(time.Time) error {
		calls++
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Fatalf("Run = %v after %d calls, want context.Canceled after 1", err, calls)
	}
}
