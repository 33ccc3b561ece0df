// Package schedule runs a benchmark's load on a fixed schedule: groups of
// changes due at fixed times, so that a late group does not shift the ones
// after it and the rate holds on average.
package schedule

import (
	"context"
	"time"
)

// Interval is the time between two groups of perGroup changes at rate
// changes a second. Both must be positive.
func Interval(rate, perGroup int) time.Duration {
	return time.Duration(float64(time.Second) * float64(perGroup) / float64(rate))
}

// Run calls group with its due time at t0 and then every interval until d
// has passed since t0, in the calling goroutine: the calls are due at
// t0 + k·interval, and one that is late is made at once, without shifting
// the later ones. It returns group's first error, or ctx's once it ends.
func Run(ctx context.Context, t0 time.Time, interval, d time.Duration, group func(due time.Time) error) error {
	end := t0.Add(d)
	for next := t0; next.Before(end); next = next.Add(interval) {
		if wait := time.Until(next); wait > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
		}
		if err := group(next); err != nil {
			return err
		}
	}
	return nil
}
