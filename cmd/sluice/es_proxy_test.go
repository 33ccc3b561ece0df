package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// bulkAction is one action of a bulk request.
type bulkAction struct {
	op      string // index, create, update or delete
	id      string
	version int64 // 0 when the action carries none
}

// parseBulk reads the actions of a bulk request body (NDJSON: an action
// line, then a source line for every action but delete).
func parseBulk(body []byte) ([]bulkAction, error) {
	var out []bulkAction
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var line map[string]struct {
			ID      string `json:"_id"`
			Version int64  `json:"version"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil || len(line) != 1 {
			return nil, fmt.Errorf("bulk action line %q: want one object of one key (%v)", sc.Bytes(), err)
		}
		for op, meta := range line {
			out = append(out, bulkAction{op: op, id: meta.ID, version: meta.Version})
			if op != "delete" && !sc.Scan() {
				return nil, fmt.Errorf("bulk %s action of %q has no source line", op, meta.ID)
			}
		}
	}
	return out, sc.Err()
}

// heldBulk is a bulk request held back, and the highest version forwarded
// before it: its actions above that were never sent to Elasticsearch.
type heldBulk struct {
	actions []bulkAction
	maxSent int64
}

// fresh returns the held actions that were never sent before.
func (b heldBulk) fresh() []bulkAction {
	var out []bulkAction
	for _, a := range b.actions {
		if a.version > b.maxSent {
			out = append(out, a)
		}
	}
	return out
}

// bulkHolder is a reverse proxy to Elasticsearch that, when armed, holds
// back the next bulk request carrying a change never sent before (a version
// above every version it has forwarded) and never forwards it: the sink
// waits for an answer that does not come, so a crash at that moment leaves
// a write that Elasticsearch never acknowledged. Safe for concurrent use.
type bulkHolder struct {
	proxy    *httputil.ReverseProxy
	inflight atomic.Int64 // requests being forwarded
	bulks    atomic.Int64 // bulk requests forwarded

	mu      sync.Mutex
	maxSent int64 // highest version forwarded
	armed   bool
	held    chan heldBulk
	release chan struct{} // closed to end the held request
}

func newBulkHolder(target string) (*bulkHolder, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("parse Elasticsearch URL %q: %w", target, err)
	}
	p := httputil.NewSingleHostReverseProxy(u)
	p.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		if r.Context().Err() != nil {
			return // the client is gone: killed
		}
		http.Error(w, "proxy to Elasticsearch: "+err.Error(), http.StatusBadGateway)
	}
	p.ErrorLog = log.New(io.Discard, "", 0) // errors of killed clients
	return &bulkHolder{proxy: p}, nil
}

func (h *bulkHolder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.inflight.Add(1)
	defer h.inflight.Add(-1)
	if !strings.HasSuffix(r.URL.Path, "/_bulk") {
		h.proxy.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read bulk body: "+err.Error(), http.StatusBadGateway)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	plain := body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err == nil {
			plain, err = io.ReadAll(zr)
		}
		if err != nil {
			http.Error(w, "gunzip bulk body: "+err.Error(), http.StatusBadGateway)
			return
		}
	}
	actions, err := parseBulk(plain)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if release, ok := h.hold(actions); ok {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		http.Error(w, "held back by the test", http.StatusServiceUnavailable)
		return
	}
	h.bulks.Add(1)
	h.proxy.ServeHTTP(w, r)
}

// hold decides whether actions are held back: when armed and one of them
// is newer than everything forwarded. Otherwise it records them as sent.
func (h *bulkHolder) hold(actions []bulkAction) (<-chan struct{}, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var top int64
	for _, a := range actions {
		top = max(top, a.version)
	}
	if h.armed && top > h.maxSent {
		h.armed = false
		h.held <- heldBulk{actions: actions, maxSent: h.maxSent}
		return h.release, true
	}
	h.maxSent = max(h.maxSent, top)
	return nil, false
}

// arm makes the proxy hold the next bulk request with a new change; the
// returned channel receives it.
func (h *bulkHolder) arm() <-chan heldBulk {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.armed, h.held, h.release = true, make(chan heldBulk, 1), make(chan struct{})
	return h.held
}

// disarm ends a held request (its client is gone by then) and stops
// holding.
func (h *bulkHolder) disarm() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.armed = false
	if h.release != nil {
		close(h.release)
		h.release = nil
	}
}

// settle waits until no request is being forwarded, at most d.
func (h *bulkHolder) settle(d time.Duration) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if h.inflight.Load() == 0 {
			return true
		}
	}
	return false
}
