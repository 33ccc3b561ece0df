package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"

	es "github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/schema/jsontext"
)

// writer sends requests to Elasticsearch: bulk requests, multi-gets and
// truncates, with retries. Safe for concurrent use.
type writer struct {
	es  *es.Client
	cfg *Config
	m   *sinkMetrics
	log *slog.Logger
}

type docKey struct{ index, id string }

// item is one action encoded as bulk request lines.
type item struct {
	a    *action
	body []byte
}

// writeAll sends index and delete actions (merged already, see
// mergeStored) in order, in bulk requests of at most batch.size actions
// and bulk.size.bytes one after the other, and returns the documents
// Elasticsearch rejected as malformed. Version conflicts are counted, not
// returned. An error is permanent (retries exhausted, a request
// Elasticsearch refuses) or ctx's.
func (w *writer) writeAll(ctx context.Context, acts []*action) ([]*rejection, error) {
	items := make([]*item, len(acts))
	for i, a := range acts {
		items[i] = &item{a: a, body: encode(a)}
	}
	var rejected []*rejection
	for len(items) > 0 {
		n, size := 0, 0
		for n < len(items) && n < w.cfg.BatchSize && (n == 0 || size+len(items[n].body) <= w.cfg.BulkBytes) {
			size += len(items[n].body)
			n++
		}
		rej, err := w.send(ctx, items[:n])
		if err != nil {
			return nil, err
		}
		rejected = append(rejected, rej...)
		items = items[n:]
	}
	return rejected, nil
}

// encode renders an action as its bulk request lines.
func encode(a *action) []byte {
	b := make([]byte, 0, 128)
	if a.op == opDelete {
		b = append(b, `{"delete":{"_index":`...)
	} else {
		b = append(b, `{"index":{"_index":`...)
	}
	b = jsontext.AppendString(b, a.index)
	b = append(b, `,"_id":`...)
	b = jsontext.AppendString(b, a.id)
	if a.versioned {
		b = append(b, `,"version":`...)
		b = strconv.AppendInt(b, a.version, 10)
		b = append(b, `,"version_type":"external_gte"`...)
	}
	b = append(b, "}}\n"...)
	if a.op == opIndex {
		b = appendObject(b, a.fields)
		b = append(b, '\n')
	}
	return b
}

type bulkResponse struct {
	Items []map[string]bulkItem `json:"items"`
}

type bulkItem struct {
	Status int        `json:"status"`
	Result string     `json:"result"`
	Error  *itemError `json:"error"`
}

type itemError struct {
	Type     string     `json:"type"`
	Reason   string     `json:"reason"`
	CausedBy *itemError `json:"caused_by"`
}

func (e *itemError) String() string {
	if e == nil {
		return "no reason given"
	}
	s := e.Type + ": " + e.Reason
	if e.CausedBy != nil {
		s += " (caused by " + e.CausedBy.String() + ")"
	}
	return s
}

// send sends one bulk request, retrying it — or the items of it that
// failed with 429 or 5xx — with backoff.
func (w *writer) send(ctx context.Context, items []*item) ([]*rejection, error) {
	var rejected []*rejection
	pending := items
	err := w.retry(ctx, fmt.Sprintf("bulk request of %d actions", len(items)), func() (string, error) {
		var body bytes.Buffer
		for _, it := range pending {
			body.Write(it.body)
		}
		start := time.Now()
		status, resp, err := w.do(ctx, esapi.BulkRequest{Body: &body})
		w.m.bulkLatency.Observe(time.Since(start).Seconds())
		if err != nil || retryable(status) {
			return failure(status, resp, err), ctx.Err()
		}
		if status != 200 {
			return "", connectors.Permanent(fmt.Errorf("bulk request: Elasticsearch answered HTTP %d: %s", status, snippet(resp)))
		}
		var br bulkResponse
		if err := json.Unmarshal(resp, &br); err != nil || len(br.Items) != len(pending) {
			return "", fmt.Errorf("bulk request: unexpected answer (%d items for %d actions, %v): %s", len(br.Items), len(pending), err, snippet(resp))
		}
		var again []*item
		var last string
		for i, m := range br.Items {
			for _, res := range m {
				switch {
				case res.Status >= 200 && res.Status < 300, res.Status == 404 && res.Result == "not_found":
					w.m.docs.Add(1)
					w.m.kafka.Written(1)
				case res.Status == 409:
					w.m.conflicts.Add(1)
				case retryable(res.Status), errType(res.Error) == "index_not_found_exception":
					// The index was removed while the request was under way
					// (to be rebuilt): sent again, the action creates it anew.
					again = append(again, pending[i])
					last = fmt.Sprintf("HTTP %d %s", res.Status, res.Error)
				default:
					rejected = append(rejected, &rejection{rec: pending[i].a.rec, malformed: true, stage: "TASK_PUT", class: errType(res.Error), reason: res.Error.String()})
				}
			}
		}
		pending = again
		if len(again) > 0 {
			return fmt.Sprintf("%d actions failed, the last with %s", len(again), last), nil
		}
		return "", nil
	})
	return rejected, err
}

func errType(e *itemError) string {
	if e == nil {
		return "unknown"
	}
	return e.Type
}

// retryable reports whether an HTTP status is worth retrying: 408, 429, 5xx.
func retryable(status int) bool { return status == 408 || status == 429 || status >= 500 }

// failure describes a failed request for logs and the final error.
func failure(status int, body []byte, err error) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("HTTP %d: %s", status, snippet(body))
}

func snippet(b []byte) string {
	const max = 300
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}

// do performs a request and reads the whole answer. err is set only when
// no answer came (connection refused, timeout, …).
func (w *writer) do(ctx context.Context, req esapi.Request) (int, []byte, error) {
	res, err := req.Do(ctx, w.es)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, nil, err
	}
	return res.StatusCode, body, nil
}

// maxBackoff caps the wait between retries: a sink retrying through a
// long outage or overload (max.retries set high) goes on within ten
// seconds of Elasticsearch's return.
const maxBackoff = 10 * time.Second

// retry calls attempt until it succeeds, fails, or has been retried
// max.retries times; attempt returns a non-empty reason to be retried.
// Waits double from retry.backoff.ms, with jitter (between half and all of
// the doubled wait). Giving up is a permanent error naming the last reason.
func (w *writer) retry(ctx context.Context, what string, attempt func() (string, error)) error {
	for n := 0; ; n++ {
		reason, err := attempt()
		if err != nil || reason == "" {
			return err
		}
		if n >= w.cfg.MaxRetries {
			return connectors.Permanent(fmt.Errorf("%s to Elasticsearch failed after %d retries (max.retries): %s", what, n, reason))
		}
		w.m.retries.Add(1)
		wait := backoff(w.cfg.RetryBackoff, n)
		w.log.Warn("Elasticsearch request failed; retrying", "request", what, "reason", reason, "retry", n+1, "wait", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// backoff is the wait before retry n (from 0): base·2^n capped at ten
// seconds (or at base, when that is longer), of which a random half is
// taken off.
func backoff(base time.Duration, n int) time.Duration {
	limit := max(maxBackoff, base)
	d := limit
	if n < 30 && base<<n < limit {
		d = base << n
	}
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

// stored is a document as Elasticsearch holds it.
type stored struct {
	found   bool
	version int64
	source  map[string]json.RawMessage
}

// mergeStored completes the documents that must be merged with the stored
// ones (unchanged TOASTed fields, write.method=upsert). The base of each is
// the newest of the document in Elasticsearch and the latest earlier action
// on it in acts, which is applied before it (same lane, in order) unless
// its version is older than the stored one.
func (w *writer) mergeStored(ctx context.Context, acts []*action) error {
	var want []docKey
	seen := map[docKey]bool{}
	for _, a := range acts {
		k := docKey{a.index, a.id}
		if a.op == opIndex && a.merge && !seen[k] {
			seen[k] = true
			want = append(want, k)
		}
	}
	if len(want) == 0 {
		return nil
	}
	docs, err := w.get(ctx, want)
	if err != nil {
		return err
	}
	type state struct {
		action *action
		fields map[string]json.RawMessage
	}
	latest := map[docKey]state{}
	for _, a := range acts {
		k := docKey{a.index, a.id}
		if !seen[k] || (a.op != opIndex && a.op != opDelete) {
			continue
		}
		if a.op == opIndex && a.merge {
			base := docs[k].source
			if p, ok := latest[k]; ok && (!p.action.versioned || !docs[k].found || p.action.version >= docs[k].version) {
				base = p.fields
			}
			a.fields = merge(a.fields, base, w.cfg.Upsert)
		}
		fields := map[string]json.RawMessage{}
		if a.op == opIndex {
			for _, f := range a.fields {
				if !f.unavailable {
					fields[f.name] = f.raw
				}
			}
		}
		latest[k] = state{a, fields}
	}
	return nil
}

// merge fills the unavailable fields from base, and with keep also adds the
// fields of base the document does not have (sorted by name).
func merge(fields []field, base map[string]json.RawMessage, keep bool) []field {
	out := make([]field, 0, len(fields)+len(base))
	have := make(map[string]bool, len(fields))
	for _, f := range fields {
		have[f.name] = true
		if f.unavailable {
			if raw, ok := base[f.name]; ok {
				f = field{name: f.name, raw: raw}
			}
		}
		out = append(out, f)
	}
	if keep {
		var extra []string
		for name := range base {
			if !have[name] {
				extra = append(extra, name)
			}
		}
		sort.Strings(extra)
		for _, name := range extra {
			out = append(out, field{name: name, raw: base[name]})
		}
	}
	return out
}

// get reads documents with one multi-get, with retries.
func (w *writer) get(ctx context.Context, keys []docKey) (map[docKey]stored, error) {
	type ref struct {
		Index string `json:"_index"`
		ID    string `json:"_id"`
	}
	req := struct {
		Docs []ref `json:"docs"`
	}{make([]ref, len(keys))}
	for i, k := range keys {
		req.Docs[i] = ref{k.index, k.id}
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encode multi-get: %w", err)
	}
	out := make(map[docKey]stored, len(keys))
	err = w.retry(ctx, fmt.Sprintf("multi-get of %d documents", len(keys)), func() (string, error) {
		status, resp, err := w.do(ctx, esapi.MgetRequest{Body: bytes.NewReader(body)})
		if err != nil || retryable(status) {
			return failure(status, resp, err), ctx.Err()
		}
		if status != 200 {
			return "", connectors.Permanent(fmt.Errorf("multi-get: Elasticsearch answered HTTP %d: %s", status, snippet(resp)))
		}
		var mr struct {
			Docs []struct {
				Index   string                     `json:"_index"`
				ID      string                     `json:"_id"`
				Version int64                      `json:"_version"`
				Found   bool                       `json:"found"`
				Source  map[string]json.RawMessage `json:"_source"`
				Error   *itemError                 `json:"error"`
			} `json:"docs"`
		}
		if err := json.Unmarshal(resp, &mr); err != nil {
			return "", fmt.Errorf("multi-get: unexpected answer: %w", err)
		}
		for _, d := range mr.Docs {
			if d.Error != nil && d.Error.Type != "index_not_found_exception" {
				return "multi-get of " + d.Index + "/" + d.ID + ": " + d.Error.String(), nil
			}
			out[docKey{d.Index, d.ID}] = stored{found: d.Found, version: d.Version, source: d.Source}
		}
		return "", nil
	})
	return out, err
}
