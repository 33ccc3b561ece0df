package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/sluice-cdc/sluice/connectors"
)

// truncate applies a TRUNCATE event: every document of the index is deleted
// with the event's version, so documents written by later events (a higher
// version) survive, and replays of earlier events cannot bring rows back
// while Elasticsearch remembers the deletes (index.gc_deletes, 60 s by
// default). The index itself stays, with its mappings. Every earlier action
// must have been applied, since the index is refreshed and scanned.
func (w *writer) truncate(ctx context.Context, t *action) ([]*rejection, error) {
	status, _, err := w.refresh(ctx, t.index)
	if err != nil {
		return nil, err
	}
	if status == 404 {
		return nil, nil
	}
	var resp []byte
	var rejected []*rejection
	scrollID := ""
	defer func() {
		if scrollID != "" {
			w.do(context.WithoutCancel(ctx), esapi.ClearScrollRequest{ScrollID: []string{scrollID}})
		}
	}()
	for {
		if scrollID == "" {
			status, resp, err = w.retryDo(ctx, "scan of index "+t.index, func() esapi.Request {
				return esapi.SearchRequest{Index: []string{t.index}, Scroll: time.Minute, Size: esapi.IntPtr(1000),
					Body: bytes.NewReader([]byte(`{"_source":false,"sort":["_doc"],"query":{"match_all":{}}}`))}
			})
		} else {
			id := scrollID
			status, resp, err = w.retryDo(ctx, "scan of index "+t.index, func() esapi.Request {
				return esapi.ScrollRequest{ScrollID: id, Scroll: time.Minute}
			})
		}
		if err != nil {
			return nil, err
		}
		if status != 200 {
			return nil, connectors.Permanent(fmt.Errorf("scan index %q to truncate it: HTTP %d: %s", t.index, status, snippet(resp)))
		}
		var sr struct {
			ScrollID string `json:"_scroll_id"`
			Hits     struct {
				Hits []struct {
					ID string `json:"_id"`
				} `json:"hits"`
			} `json:"hits"`
		}
		if err := json.Unmarshal(resp, &sr); err != nil {
			return nil, fmt.Errorf("scan index %q to truncate it: %w", t.index, err)
		}
		scrollID = sr.ScrollID
		if len(sr.Hits.Hits) == 0 {
			return rejected, nil
		}
		dels := make([]*action, len(sr.Hits.Hits))
		for i, h := range sr.Hits.Hits {
			dels[i] = &action{rec: t.rec, op: opDelete, index: t.index, id: h.ID, version: t.version, versioned: t.versioned}
		}
		rej, err := w.writeAll(ctx, dels)
		if err != nil {
			return nil, err
		}
		rejected = append(rejected, rej...)
	}
}

// refresh makes every write to index visible to search; 404 means there is no index.
func (w *writer) refresh(ctx context.Context, index string) (int, []byte, error) {
	return w.retryDo(ctx, "refresh of index "+index, func() esapi.Request {
		return esapi.IndicesRefreshRequest{Index: []string{index}}
	})
}

// retryDo performs the request made by mk, retrying transport failures,
// 429 and 5xx; it returns the final status and body.
func (w *writer) retryDo(ctx context.Context, what string, mk func() esapi.Request) (int, []byte, error) {
	var status int
	var body []byte
	err := w.retry(ctx, what, func() (string, error) {
		var err error
		status, body, err = w.do(ctx, mk())
		if err != nil || retryable(status) {
			return failure(status, body, err), ctx.Err()
		}
		return "", nil
	})
	return status, body, err
}
