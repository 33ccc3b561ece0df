package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// esIndex reads an index back from Elasticsearch directly.
type esIndex struct {
	url, name string
}

// esDoc is a stored document: its external version and its source.
type esDoc struct {
	version int64
	source  map[string]any
}

func (x esIndex) do(ctx context.Context, method, path, body string) (int, []byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, x.url+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// docs refreshes the index and returns every document by id, read in pages
// sorted by the numeric field sortField. A missing index has none.
func (x esIndex) docs(ctx context.Context, sortField string) (map[string]esDoc, error) {
	status, body, err := x.do(ctx, "POST", "/"+x.name+"/_refresh", "")
	if err != nil {
		return nil, err
	}
	if status == http.StatusNotFound {
		return map[string]esDoc{}, nil
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("refresh index %s: %d %s", x.name, status, body)
	}
	out := map[string]esDoc{}
	var after []json.RawMessage
	for {
		q := map[string]any{"size": 5000, "version": true, "track_total_hits": false, "sort": []any{map[string]string{sortField: "asc"}}}
		if after != nil {
			q["search_after"] = after
		}
		qb, _ := json.Marshal(q)
		status, body, err := x.do(ctx, "POST", "/"+x.name+"/_search", string(qb))
		if err != nil {
			return nil, err
		}
		if status != http.StatusOK {
			return nil, fmt.Errorf("search index %s: %d %s", x.name, status, body)
		}
		var page struct {
			Hits struct {
				Hits []struct {
					ID      string            `json:"_id"`
					Version int64             `json:"_version"`
					Source  json.RawMessage   `json:"_source"`
					Sort    []json.RawMessage `json:"sort"`
				} `json:"hits"`
			} `json:"hits"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return nil, fmt.Errorf("decode search of index %s: %w", x.name, err)
		}
		for _, h := range page.Hits.Hits {
			var src map[string]any
			if err := json.Unmarshal(h.Source, &src); err != nil {
				return nil, fmt.Errorf("decode document %s of index %s: %w", h.ID, x.name, err)
			}
			out[h.ID] = esDoc{version: h.Version, source: src}
			after = h.Sort
		}
		if len(page.Hits.Hits) < 5000 {
			return out, nil
		}
	}
}

// remove deletes the index; a missing one is no error.
func (x esIndex) remove(ctx context.Context) error {
	status, body, err := x.do(ctx, "DELETE", "/"+x.name, "")
	if err != nil {
		return err
	}
	if status != http.StatusOK && status != http.StatusNotFound {
		return fmt.Errorf("delete index %s: %d %s", x.name, status, body)
	}
	return nil
}
