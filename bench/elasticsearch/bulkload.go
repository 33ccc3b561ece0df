package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/sluice-cdc/sluice/bench/internal/schedule"
)

// bulkSenders is how many bulk requests the bulk loader has in flight at
// most: a slow request holds the schedule back only when all of them are
// slow (the phase reports how late requests were sent).
const bulkSenders = 16

// bulkLoader writes the latency workload's changes straight to an index,
// as the sink would write them (whole documents, external_gte versions,
// here the seq), one bulk request per group of changes, each sent by one of
// bulkSenders senders as soon as it is due.
type bulkLoader struct {
	es    *esClient
	index string
	*changes
	// sampled receives every sampleEvery-th change once its request
	// succeeded; it must have room for all of them.
	sampled chan<- sample

	groups []*bulkGroup // in schedule order; read once run returned
	bulks  atomic.Int64 // requests answered
	bulkNS atomic.Int64 // their total round trip
}

// bulkGroup is one bulk request: changes first..last.
type bulkGroup struct {
	first, last int64
	body        []byte
	samples     []sample
	dueAt       int64 // ns since t0 when the schedule made it due
	sentAt      int64 // ns since t0 just before the request was sent; set by its sender
}

func newBulkLoader(es *esClient, index string, seed uint64, prefill int64, sampled chan<- sample) *bulkLoader {
	return &bulkLoader{es: es, index: index, changes: newChanges(seed, prefill), sampled: sampled}
}

// run sends groups of txRows changes on the workload's schedule, rate
// changes a second, for d, and returns once every request was answered.
// check is called before each group and stops the load when it fails.
func (b *bulkLoader) run(ctx context.Context, t0 time.Time, rate, txRows int, d time.Duration, check func() error) error {
	g, gctx := errgroup.WithContext(ctx)
	queue := make(chan *bulkGroup)
	for range bulkSenders {
		g.Go(func() error {
			for grp := range queue {
				if err := b.send(gctx, t0, grp); err != nil {
					return err
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		defer close(queue)
		return schedule.Run(gctx, t0, schedule.Interval(rate, txRows), d, func(due time.Time) error {
			if err := check(); err != nil {
				return err
			}
			grp, err := b.group(txRows)
			if err != nil {
				return err
			}
			grp.dueAt = due.Sub(t0).Nanoseconds()
			b.groups = append(b.groups, grp)
			select {
			case queue <- grp:
				return nil
			case <-gctx.Done():
				return gctx.Err()
			}
		})
	})
	return g.Wait()
}

// group renders the next n changes as one bulk request.
func (b *bulkLoader) group(n int) (*bulkGroup, error) {
	grp := &bulkGroup{first: b.seq + 1}
	for range n {
		ch := b.next()
		doc, err := ch.document(b.seed)
		if err != nil {
			return nil, err
		}
		grp.body = b.appendIndex(grp.body, ch, doc)
		if ch.seq%sampleEvery == 0 {
			grp.samples = append(grp.samples, sample{seq: ch.seq, id: ch.id})
		}
	}
	grp.last = b.seq
	return grp, nil
}

// appendIndex appends the bulk lines that index doc as the document of
// ch's row, with ch's seq as external_gte version.
func (b *bulkLoader) appendIndex(body []byte, ch change, doc []byte) []byte {
	body = fmt.Appendf(body, `{"index":{"_index":%q,"_id":"%d","version":%d,"version_type":"external_gte"}}`+"\n", b.index, ch.id, ch.seq)
	body = append(body, doc...)
	return append(body, '\n')
}

// send sends grp's request and hands its sampled changes to the probe.
func (b *bulkLoader) send(ctx context.Context, t0 time.Time, grp *bulkGroup) error {
	began := time.Now()
	grp.sentAt = began.Sub(t0).Nanoseconds()
	err := b.post(ctx, grp.body)
	b.bulks.Add(1)
	b.bulkNS.Add(time.Since(began).Nanoseconds())
	if err != nil {
		return fmt.Errorf("write changes %d..%d: %w", grp.first, grp.last, err)
	}
	for _, s := range grp.samples {
		select {
		case b.sampled <- s:
		default:
			return fmt.Errorf("the buffer of sampled changes is full at change %d", s.seq)
		}
	}
	return nil
}

// post sends one bulk request and fails unless it wrote every document.
func (b *bulkLoader) post(ctx context.Context, body []byte) error {
	status, resp, err := b.es.post(ctx, "/_bulk", body)
	if err != nil {
		return fmt.Errorf("bulk request to index %s: %w", b.index, err)
	}
	if status != http.StatusOK {
		return fmt.Errorf("bulk request to index %s: %d %s", b.index, status, resp)
	}
	if err := bulkFailure(resp); err != nil {
		return fmt.Errorf("bulk request to index %s: %w", b.index, err)
	}
	return nil
}

// bulkFailure returns the first item a bulk response reports as failed;
// nil when none did.
func bulkFailure(resp []byte) error {
	var r struct {
		Errors bool `json:"errors"`
		Items  []map[string]struct {
			ID     string          `json:"_id"`
			Status int             `json:"status"`
			Error  json.RawMessage `json:"error"`
		} `json:"items"`
	}
	if err := json.Unmarshal(resp, &r); err != nil {
		return fmt.Errorf("decode bulk response: %w", err)
	}
	if !r.Errors {
		return nil
	}
	for _, item := range r.Items {
		for op, res := range item {
			if res.Status >= 300 {
				return fmt.Errorf("%s of document %s: %d %s", op, res.ID, res.Status, res.Error)
			}
		}
	}
	return fmt.Errorf("the response reports errors but no failed item: %s", resp)
}

// sent returns, by seq (1..b.seq), when each change's request was about to
// be sent, in ns since t0; call it once run returned.
func (b *bulkLoader) sent() []int64 {
	out := make([]int64, b.seq+1)
	for _, grp := range b.groups {
		for s := grp.first; s <= grp.last; s++ {
			out[s] = grp.sentAt
		}
	}
	return out
}

// lags returns, in ms, how long after it was due each request due after
// warmup was sent; call it once run returned.
func (b *bulkLoader) lags(warmup time.Duration) []float64 {
	var out []float64
	for _, grp := range b.groups {
		if grp.dueAt >= warmup.Nanoseconds() {
			out = append(out, float64(grp.sentAt-grp.dueAt)/1e6)
		}
	}
	return out
}

// bulkMeanMS returns the mean round trip of the requests answered.
func (b *bulkLoader) bulkMeanMS() float64 {
	n := b.bulks.Load()
	if n == 0 {
		return 0
	}
	return float64(b.bulkNS.Load()) / float64(n) / 1e6
}
