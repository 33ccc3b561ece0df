package main

import (
	"context"
	"time"

	"github.com/sluice-cdc/sluice/internal/procstat"
)

const mb = 1 << 20

// runIdle measures the sink's memory with no subscriber (the baseline) and
// with o.subscribers idle ones.
func runIdle(ctx context.Context, o options) (result, error) {
	var r result
	e, err := newRunEnv(ctx, o)
	if err != nil {
		return r, err
	}
	defer e.close()
	if err := sleep(ctx, o.settle); err != nil {
		return r, err
	}
	base, _, err := procstat.Memory(e.pid())
	if err != nil {
		return r, err
	}
	logf(o, "baseline RSS %.1f MB; connecting %d subscribers", float64(base)/mb, o.subscribers)
	start := time.Now()
	subs, err := subscribe(ctx, o, e.addr, o.subscribers)
	if err != nil {
		return r, err
	}
	defer closeAll(subs)
	connect := time.Since(start)
	logf(o, "connected in %v", connect)
	if err := sleep(ctx, o.settle); err != nil {
		return r, err
	}
	rss, hwm, err := procstat.Memory(e.pid())
	if err != nil {
		return r, err
	}
	r.set("subscribers", float64(o.subscribers))
	r.set("source_ips", float64(o.sourceIPs))
	r.set("connect_s", connect.Seconds())
	r.set("baseline_rss_mb", float64(base)/mb)
	r.set("rss_mb", float64(rss)/mb)
	r.set("hwm_mb", float64(hwm)/mb)
	r.set("mb_per_1000", float64(rss-base)/mb/float64(o.subscribers)*1000)
	r.set("hwm_mb_per_1000", float64(hwm-base)/mb/float64(o.subscribers)*1000)
	return r, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
