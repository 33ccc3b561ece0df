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

	"github.com/sluice-cdc/sluice/internal/procstat"
)

// idField starts the data line of every event: the row's id comes first
// (format=flat renders the row's columns in table order).
var idField = []byte(`data: {"id":`)

// runDeliver writes o.rate events per second for o.duration through the
// feed of o.source to o.subscribers subscribers and measures delivery and
// the sink's CPU.
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
	n := int(float64(o.rate) * o.duration.Seconds())
	origins := make([]int64, n+1) // by id, ns since start; set by the feed
	// receipts[i][id]: when subscriber i read event id, in µs since start
	// (at least 1); 0 until then. Each subscriber's goroutine writes its
	// own slice.
	receipts := make([][]int32, len(subs))
	var received, lastReceipt atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i, s := range subs {
		receipts[i] = make([]int32, n+1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := receipts[i]
			for {
				line, err := s.body.ReadSlice('\n')
				if err != nil {
					return
				}
				rest, ok := bytes.CutPrefix(line, idField)
				if !ok {
					continue
				}
				now := time.Since(start)
				k := bytes.IndexAny(rest, ",}")
				if k < 0 {
					continue
				}
				id, err := strconv.Atoi(string(rest[:k]))
				if err != nil || id < 1 || id > n {
					continue
				}
				received.Add(1)
				lastReceipt.Store(int64(now))
				rec[id] = int32(max(1, now.Microseconds()))
			}
		}()
	}
	src, hasSourceCPU := e.feed.(sourceCPU)
	var srcCPU0, srcCPU1 time.Duration
	if hasSourceCPU {
		if srcCPU0, err = src.cpu(); err != nil {
			closeAll(subs)
			wg.Wait()
			return r, err
		}
	}
	cpu0, err := procstat.CPU(e.pid())
	if err != nil {
		closeAll(subs)
		wg.Wait()
		return r, err
	}
	written, err := e.feed.load(ctx, start, o.rate, n, origins)
	if err == nil {
		want := int64(n) * int64(len(subs))
		deadline := time.Now().Add(30 * time.Second)
		for received.Load() < want && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
	}
	cpu1, cpuErr := procstat.CPU(e.pid())
	if hasSourceCPU && cpuErr == nil {
		srcCPU1, cpuErr = src.cpu()
	}
	closeAll(subs)
	wg.Wait()
	if err != nil {
		return r, fmt.Errorf("write event %d of %d: %w", written+1, n, err)
	}
	if cpuErr != nil {
		return r, cpuErr
	}
	// Latency of every delivery of an event whose origin is after the
	// warm-up; missing: deliveries never made.
	var missing int64
	var all []int32 // microseconds
	warm := o.warmup.Nanoseconds()
	for _, rec := range receipts {
		for id := 1; id <= n; id++ {
			switch {
			case rec[id] == 0:
				missing++
			case origins[id] >= warm:
				all = append(all, rec[id]-int32(origins[id]/1000))
			}
		}
	}
	if len(all) == 0 {
		return r, fmt.Errorf("no event received after the warm-up")
	}
	slices.Sort(all)
	q := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))]) / 1000 }
	wall := time.Duration(lastReceipt.Load())
	cpu := cpu1 - cpu0
	deliveries := float64(received.Load())
	r.label("source", o.source)
	r.set("subscribers", float64(len(subs)))
	r.set("events", float64(n))
	r.set("events_per_s", float64(n)/o.duration.Seconds())
	r.set("deliveries", deliveries)
	r.set("missing", float64(missing))
	r.set("wall_s", wall.Seconds())
	r.set("sink_cpu_s", cpu.Seconds())
	r.set("sink_cores", cpu.Seconds()/wall.Seconds())
	r.set("deliveries_per_s", deliveries/wall.Seconds())
	r.set("deliveries_per_core_s", deliveries/cpu.Seconds())
	r.set("events_per_core_s", float64(n)/cpu.Seconds())
	r.set("latency_p50_ms", q(0.50))
	r.set("latency_p99_ms", q(0.99))
	r.set("latency_max_ms", q(1))
	if hasSourceCPU {
		r.set("source_cpu_s", (srcCPU1 - srcCPU0).Seconds())
	}
	return r, nil
}
