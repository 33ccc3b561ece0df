package main

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-cdc/sluice/bench/internal/procstat"
)

// tsField precedes the produce time in every event's data.
var tsField = []byte(`"ts_ns":`)

// runDeliver produces o.rate events per second for o.duration to
// o.subscribers subscribers and measures delivery and the sink's CPU.
func runDeliver(ctx context.Context, o options) (result, error) {
	var r result
	e, err := newRunEnv(ctx, o)
	if err != nil {
		return r, err
	}
	defer e.close()
	subs, err := subscribe(ctx, o, e.addr, o.subscribers)
	if err != nil {
		return r, err
	}
	logf(o, "%d subscribers connected", len(subs))
	var received atomic.Int64
	var lastReceipt atomic.Int64
	lat := make([][]int32, len(subs)) // microseconds, after the warm-up
	var wg sync.WaitGroup
	start := time.Now()
	warmEnd := start.Add(o.warmup).UnixNano()
	for i, s := range subs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				line, err := s.body.ReadSlice('\n')
				if err != nil {
					return
				}
				j := bytes.Index(line, tsField)
				if j < 0 {
					continue
				}
				now := time.Now().UnixNano()
				rest := line[j+len(tsField):]
				k := bytes.IndexAny(rest, ",}")
				if k < 0 {
					continue
				}
				ts, err := strconv.ParseInt(string(rest[:k]), 10, 64)
				if err != nil {
					continue
				}
				received.Add(1)
				lastReceipt.Store(now)
				if ts >= warmEnd {
					lat[i] = append(lat[i], int32((now-ts)/1000))
				}
			}
		}()
	}
	cpu0, err := procstat.CPU(e.pid())
	if err != nil {
		closeAll(subs)
		return r, err
	}
	produced, err := produceAt(ctx, e, o.rate, o.duration, start)
	var missing int64
	if err == nil {
		want := int64(produced) * int64(len(subs))
		deadline := time.Now().Add(30 * time.Second)
		for received.Load() < want && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
		missing = want - received.Load()
	}
	cpu1, cpuErr := procstat.CPU(e.pid())
	closeAll(subs)
	wg.Wait()
	if err != nil {
		return r, err
	}
	if cpuErr != nil {
		return r, cpuErr
	}
	wall := time.Duration(lastReceipt.Load() - start.UnixNano())
	cpu := cpu1 - cpu0
	var all []int32
	for _, l := range lat {
		all = append(all, l...)
	}
	if len(all) == 0 {
		return r, fmt.Errorf("no event received after the warm-up")
	}
	slices.Sort(all)
	q := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))]) / 1000 }
	deliveries := float64(received.Load())
	r.set("subscribers", float64(len(subs)))
	r.set("events", float64(produced))
	r.set("events_per_s", float64(produced)/o.duration.Seconds())
	r.set("deliveries", deliveries)
	r.set("missing", float64(missing))
	r.set("wall_s", wall.Seconds())
	r.set("sink_cpu_s", cpu.Seconds())
	r.set("sink_cores", cpu.Seconds()/wall.Seconds())
	r.set("deliveries_per_s", deliveries/wall.Seconds())
	r.set("deliveries_per_core_s", deliveries/cpu.Seconds())
	r.set("events_per_core_s", float64(produced)/cpu.Seconds())
	r.set("latency_p50_ms", q(0.50))
	r.set("latency_p99_ms", q(0.99))
	r.set("latency_max_ms", q(1))
	return r, nil
}

// produceAt produces rate events per second for d from start, in batches
// every 10 ms, and returns how many it produced.
func produceAt(ctx context.Context, e *runEnv, rate int, d time.Duration, start time.Time) (int, error) {
	total := int(float64(rate) * d.Seconds())
	sent := 0
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for sent < total {
		select {
		case <-ctx.Done():
			return sent, ctx.Err()
		case <-tick.C:
		}
		due := min(total, int(float64(rate)*time.Since(start).Seconds()))
		if due <= sent {
			continue
		}
		if err := e.produce(ctx, due-sent); err != nil {
			return sent, err
		}
		sent = due
	}
	return sent, nil
}
