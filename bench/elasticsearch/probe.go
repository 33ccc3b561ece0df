package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// probeSize is the most hits one search returns (index.max_result_window).
const probeSize = 10000

// probe finds when each change becomes searchable. Every poll it searches
// for documents whose seq is above the highest seen (sorted by seq), and
// for the seqs below it not seen yet (a later change can become visible
// first); a change's time is when the first answer holding it arrived.
// It also reads the sampled changes with a realtime multi-get, which finds
// a change once Elasticsearch has indexed it, before any refresh. run is
// its only goroutine; seen, indexed and rtts are read once it returned.
type probe struct {
	es    *esClient
	index string
	t0    time.Time

	samples <-chan sample
	getting map[int64]int64 // sampled seq -> row id, not yet indexed
	indexed map[int64]int64 // sampled seq -> ns since t0 when a get found it

	seen    []int64 // by seq: ns since t0 when first found; 0 not yet
	maxSeen int64
	pending map[int64]bool // seqs below maxSeen not found yet
	found   atomic.Int64   // changes found
	rtts    []float64      // milliseconds of every search
}

func newProbe(es *esClient, index string, t0 time.Time, samples <-chan sample) *probe {
	return &probe{es: es, index: index, t0: t0, samples: samples, getting: map[int64]int64{}, indexed: map[int64]int64{},
		seen: []int64{0}, pending: map[int64]bool{}}
}

// run polls every interval until ctx ends; it returns nil then, or the
// first failed search.
func (p *probe) run(ctx context.Context, every time.Duration) error {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if err := p.poll(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

// poll runs one round of searches.
func (p *probe) poll(ctx context.Context) error {
	if err := p.getSamples(ctx); err != nil {
		return err
	}
	before, top := p.maxSeen, p.maxSeen
	after := p.maxSeen
	for {
		seqs, err := p.search(ctx, fmt.Sprintf(`{"range":{"seq":{"gt":%d}}}`, after))
		if err != nil {
			return err
		}
		for _, s := range seqs {
			p.mark(s)
			top = max(top, s)
		}
		if len(seqs) < probeSize {
			break
		}
		after = seqs[len(seqs)-1]
	}
	// Seqs start in order, so every seq below one found has started;
	// those not found yet are searched for by seq until they are.
	for s := before + 1; s < top; s++ {
		if p.seen[s] == 0 {
			p.pending[s] = true
		}
	}
	p.maxSeen = top
	if len(p.pending) == 0 {
		return nil
	}
	var terms []string
	for s := range p.pending {
		if len(terms) == probeSize {
			break
		}
		terms = append(terms, fmt.Sprint(s))
	}
	seqs, err := p.search(ctx, `{"terms":{"seq":[`+strings.Join(terms, ",")+`]}}`)
	if err != nil {
		return err
	}
	for _, s := range seqs {
		p.mark(s)
	}
	return nil
}

// getSamples reads the sampled changes not indexed yet with a realtime
// multi-get: a change is indexed once its document holds its seq or a
// later one.
func (p *probe) getSamples(ctx context.Context) error {
	for drained := false; !drained; {
		select {
		case s := <-p.samples:
			p.getting[s.seq] = s.id
		default:
			drained = true
		}
	}
	if len(p.getting) == 0 {
		return nil
	}
	var ids []string
	for _, id := range p.getting {
		ids = append(ids, fmt.Sprintf(`"%d"`, id))
	}
	body := `{"ids":[` + strings.Join(ids, ",") + `]}`
	began := time.Now()
	status, resp, err := p.es.post(ctx, "/"+p.index+"/_mget?realtime=true&_source_includes=seq", []byte(body))
	p.rtts = append(p.rtts, float64(time.Since(began).Microseconds())/1000)
	if err != nil {
		return err
	}
	if status == http.StatusNotFound {
		return nil
	}
	if status != http.StatusOK {
		return fmt.Errorf("multi-get from index %s: %d %s", p.index, status, resp)
	}
	var r struct {
		Docs []struct {
			ID     string `json:"_id"`
			Found  bool   `json:"found"`
			Source struct {
				Seq int64 `json:"seq"`
			} `json:"_source"`
		} `json:"docs"`
	}
	if err := json.Unmarshal(resp, &r); err != nil {
		return fmt.Errorf("decode multi-get from index %s: %w", p.index, err)
	}
	now := time.Since(p.t0).Nanoseconds()
	stored := map[string]int64{}
	for _, d := range r.Docs {
		if d.Found {
			stored[d.ID] = d.Source.Seq
		}
	}
	for seq, id := range p.getting {
		if got, ok := stored[fmt.Sprint(id)]; ok && got >= seq {
			p.indexed[seq] = now
			delete(p.getting, seq)
		}
	}
	return nil
}

// mark records that seq was found now.
func (p *probe) mark(seq int64) {
	if seq <= 0 {
		return
	}
	now := time.Since(p.t0).Nanoseconds()
	for int64(len(p.seen)) <= seq {
		p.seen = append(p.seen, 0)
	}
	if p.seen[seq] == 0 {
		p.seen[seq] = now
		p.found.Add(1)
	}
	delete(p.pending, seq)
}

// search returns the seqs of the documents query matches, in seq order,
// at most probeSize; none while the index does not exist.
func (p *probe) search(ctx context.Context, query string) ([]int64, error) {
	body := fmt.Sprintf(`{"size":%d,"_source":false,"track_total_hits":false,"query":%s,"sort":[{"seq":{"order":"asc","unmapped_type":"long"}}]}`, probeSize, query)
	began := time.Now()
	status, resp, err := p.es.post(ctx, "/"+p.index+"/_search", []byte(body))
	p.rtts = append(p.rtts, float64(time.Since(began).Microseconds())/1000)
	if err != nil {
		return nil, err
	}
	if status == http.StatusNotFound {
		return nil, nil
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("search index %s: %d %s", p.index, status, resp)
	}
	var r struct {
		Hits struct {
			Hits []struct {
				Sort []int64 `json:"sort"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(resp, &r); err != nil {
		return nil, fmt.Errorf("decode search of index %s: %w", p.index, err)
	}
	out := make([]int64, 0, len(r.Hits.Hits))
	for _, h := range r.Hits.Hits {
		if len(h.Sort) == 1 {
			out = append(out, h.Sort[0])
		}
	}
	return out, nil
}

// post sends a JSON body and returns the status and body.
func (e *esClient) post(ctx context.Context, path string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", e.url+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := e.c.Perform(req)
	if err != nil {
		return 0, nil, fmt.Errorf("POST %s: %w", path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}
