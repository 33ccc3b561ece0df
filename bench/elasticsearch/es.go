package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"sync/atomic"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esutil"
)

// esClient is the driver's Elasticsearch client.
type esClient struct {
	url string
	c   *elasticsearch.Client
}

func newES(url string) (*esClient, error) {
	c, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{url}})
	if err != nil {
		return nil, fmt.Errorf("create Elasticsearch client for %s: %w", url, err)
	}
	return &esClient{url: url, c: c}, nil
}

// do sends a request and returns the status and body.
func (e *esClient) do(ctx context.Context, method, path string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, e.url+path, nil)
	if err != nil {
		return 0, nil, err
	}
	res, err := e.c.Perform(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// count refreshes index and returns its document count; an index that does
// not exist yet counts 0.
func (e *esClient) count(ctx context.Context, index string) (int64, error) {
	status, body, err := e.do(ctx, "POST", "/"+index+"/_refresh")
	if err != nil {
		return 0, err
	}
	if status == http.StatusNotFound {
		return 0, nil
	}
	if status != http.StatusOK {
		return 0, fmt.Errorf("refresh index %s: %d %s", index, status, body)
	}
	status, body, err = e.do(ctx, "GET", "/"+index+"/_count")
	if err != nil {
		return 0, err
	}
	if status != http.StatusOK {
		return 0, fmt.Errorf("count index %s: %d %s", index, status, body)
	}
	var c struct {
		Count int64 `json:"count"`
	}
	if err := json.Unmarshal(body, &c); err != nil {
		return 0, fmt.Errorf("decode count of index %s: %w", index, err)
	}
	return c.Count, nil
}

// deleteIndex deletes index; a missing index is not an error.
func (e *esClient) deleteIndex(ctx context.Context, index string) error {
	status, body, err := e.do(ctx, "DELETE", "/"+index)
	if err != nil {
		return err
	}
	if status != http.StatusOK && status != http.StatusNotFound {
		return fmt.Errorf("delete index %s: %d %s", index, status, body)
	}
	return nil
}

// ceiling indexes docs into index with esutil.BulkIndexer (document i as id
// i+1, with the external version the sink gives row i) and returns the time
// until the indexer is closed and the index refreshed.
func ceiling(ctx context.Context, o options, es *esClient, index string, docs [][]byte) (time.Duration, error) {
	var failed atomic.Int64
	var firstErr atomic.Value
	bi, err := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{
		Client: es.c, Index: index, NumWorkers: o.workers,
		OnError: func(_ context.Context, err error) { firstErr.CompareAndSwap(nil, err.Error()) },
	})
	if err != nil {
		return 0, fmt.Errorf("create bulk indexer for %s: %w", index, err)
	}
	onFailure := func(_ context.Context, item esutil.BulkIndexerItem, res esutil.BulkIndexerResponseItem, err error) {
		failed.Add(1)
		msg := fmt.Sprintf("document %s: %s %s", item.DocumentID, res.Error.Type, res.Error.Reason)
		if err != nil {
			msg = fmt.Sprintf("document %s: %v", item.DocumentID, err)
		}
		firstErr.CompareAndSwap(nil, msg)
	}
	start := time.Now()
	for i, d := range docs {
		v, err := version(i)
		if err != nil {
			return 0, fmt.Errorf("version of row %d: %w", i, err)
		}
		err = bi.Add(ctx, esutil.BulkIndexerItem{
			Action: "index", DocumentID: fmt.Sprint(i + 1), Body: bytes.NewReader(d),
			Version: &v, VersionType: "external_gte", OnFailure: onFailure,
		})
		if err != nil {
			return 0, fmt.Errorf("add document %d to bulk indexer: %w", i+1, err)
		}
	}
	if err := bi.Close(ctx); err != nil {
		return 0, fmt.Errorf("close bulk indexer for %s: %w", index, err)
	}
	status, body, err := es.do(ctx, "POST", "/"+index+"/_refresh")
	if err != nil {
		return 0, err
	}
	took := time.Since(start)
	if status != http.StatusOK {
		return 0, fmt.Errorf("refresh index %s: %d %s", index, status, body)
	}
	if n := failed.Load(); n > 0 || firstErr.Load() != nil {
		return 0, fmt.Errorf("bulk indexer into %s: %d documents failed, first: %v", index, n, firstErr.Load())
	}
	n, err := es.count(ctx, index)
	if err != nil {
		return 0, err
	}
	if n != int64(len(docs)) {
		return 0, fmt.Errorf("index %s counts %d documents after the bulk indexer, want %d", index, n, len(docs))
	}
	return took, nil
}

// median returns the median of v (the mean of the middle two for even lengths).
func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// sameSource fails unless the document id has the same source (compared as
// decoded JSON) in indices a and b.
func (e *esClient) sameSource(ctx context.Context, a, b, id string) error {
	var srcs [2]any
	for i, index := range []string{a, b} {
		status, body, err := e.do(ctx, "GET", "/"+index+"/_source/"+id)
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			return fmt.Errorf("get document %s of index %s: %d %s", id, index, status, body)
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&srcs[i]); err != nil {
			return fmt.Errorf("decode document %s of index %s: %w", id, index, err)
		}
	}
	if !reflect.DeepEqual(srcs[0], srcs[1]) {
		return fmt.Errorf("document %s differs: %s has %v, %s has %v", id, a, srcs[0], b, srcs[1])
	}
	return nil
}

// waitSearchable waits, at most a minute, until a search of index finds
// the document id. failed is called before each search and ends the wait
// with its error.
func (e *esClient) waitSearchable(ctx context.Context, index string, id int64, failed func() error) error {
	query := fmt.Appendf(nil, `{"size":0,"track_total_hits":true,"query":{"ids":{"values":["%d"]}}}`, id)
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err := failed(); err != nil {
			return err
		}
		status, body, err := e.post(ctx, "/"+index+"/_search", query)
		if err != nil {
			return err
		}
		var r struct {
			Hits struct {
				Total struct {
					Value int `json:"value"`
				} `json:"total"`
			} `json:"hits"`
		}
		if status == http.StatusOK && json.Unmarshal(body, &r) == nil && r.Hits.Total.Value == 1 {
			return nil
		}
	}
	return fmt.Errorf("document %d was not searchable in index %s within a minute", id, index)
}
