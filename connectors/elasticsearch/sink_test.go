package elasticsearch

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/testenv"
)

const placeholder = "__debezium_unavailable_value"

func TestSinkAppliesChangesByVersionAndReplaysHarmlessly(t *testing.T) {
	h := newHarness(t)
	// The update of 1 was made before the snapshot's consistent point (the
	// reads' LSN) and committed after it: it is newer than the read of 1.
	straddling := change(event.OpUpdate, 0x2000, 1, 1, "a2", placeholder) // unchanged TOAST: big stays big1
	straddling.Source.LSN = 0x800
	h.produce(
		change(event.OpRead, 0x1000, 0, 1, "a", "big1"),
		change(event.OpRead, 0x1000, 0, 2, "b", ""),
		change(event.OpCreate, 0x2000, 0, 3, "c", "X"),
		straddling,
		change(event.OpDelete, 0x3000, 0, 2, "b", ""),         // followed by a tombstone
		change(event.OpUpdate, 0x1800, 0, 3, "stale", "Y"),    // older than the create of 3
		change(event.OpCreate, 0x2800, 0, 2, "resurrect", ""), // older than the delete of 2
	)
	want := []string{
		fmt.Sprintf(`1 v%d {"big":"big1","id":1,"v":"a2"}`, version(0x2000, 1)),
		fmt.Sprintf(`3 v%d {"big":"X","id":3,"v":"c"}`, version(0x2000, 0)),
	}
	m := h.run("first", h.config(h.esURL, nil))
	if got := h.docs(); !slices.Equal(got, want) {
		t.Fatalf("index after the changes:\n got %q\nwant %q", got, want)
	}
	if n := counter(m, "sluice_es_version_conflicts_total"); n != 2 {
		t.Errorf("version conflicts = %d, want 2 (the stale update and the late create)", n)
	}
	// Kafka Connect's figures: the eight records (seven changes and the
	// delete's tombstone) were read, the five documents Elasticsearch took
	// were written, and the topic's one partition has no lag.
	if polled, written := counter(m, "sluice_connector_records_polled_total"), counter(m, "sluice_connector_records_written_total"); polled != 8 || written != 5 {
		t.Errorf("records polled %d, written %d; want 8 and 5", polled, written)
	}
	var text strings.Builder
	m.WritePrometheus(&text)
	if lag := `sluice_sink_consumer_lag_records{connector="first",partition="0",topic="` + h.topic + `"} 0`; !strings.Contains(text.String(), "\n"+lag+"\n") {
		t.Errorf("no %s in the metrics", lag)
	}

	// A new group replays the topic from the beginning; with upsert too.
	m = h.run("replay", h.config(h.esURL, map[string]string{"write.method": "upsert"}))
	if got := h.docs(); !slices.Equal(got, want) {
		t.Fatalf("index after a replay:\n got %q\nwant %q", got, want)
	}
	if n := counter(m, "sluice_es_version_conflicts_total"); n < 4 {
		t.Errorf("version conflicts on replay = %d, want at least 4", n)
	}

	// Later changes continue from there, and a truncate deletes what came before it.
	h.produce(
		change(event.OpCreate, 0x4000, 0, 4, "d", ""),
		change(event.OpTruncate, 0x5000, 0, 0, "", ""),
		change(event.OpCreate, 0x6000, 0, 5, "e", ""),
	)
	h.run("first", h.config(h.esURL, nil))
	want = []string{fmt.Sprintf(`5 v%d {"big":"","id":5,"v":"e"}`, version(0x6000, 0))}
	if got := h.docs(); !slices.Equal(got, want) {
		t.Fatalf("index after a truncate:\n got %q\nwant %q", got, want)
	}
}

func TestCompositeKeysBecomeJSONArrayIDs(t *testing.T) {
	h := newHarness(t)
	saved := table
	table = &event.Table{ID: saved.ID, Columns: saved.Columns, Key: []int{0, 1}}
	defer func() { table = saved }()
	h.produce(
		change(event.OpCreate, 0x1000, 0, 1, "x", "p"),
		change(event.OpCreate, 0x1000, 1, 1, "y", "q"),
		change(event.OpDelete, 0x2000, 0, 1, "x", "p"),
	)
	h.run("composite", h.config(h.esURL, nil))
	want := []string{fmt.Sprintf(`[1,"y"] v%d {"big":"q","id":1,"v":"y"}`, version(0x1000, 1))}
	if got := h.docs(); !slices.Equal(got, want) {
		t.Fatalf("index:\n got %q\nwant %q", got, want)
	}
}

func TestMalformedDocumentGoesToDeadLetterTopic(t *testing.T) {
	h := newHarness(t)
	if status, body := h.es("PUT", "/"+h.topic, `{"mappings":{"properties":{"v":{"type":"integer"}}}}`); status != 200 {
		t.Fatalf("create index: %d %s", status, body)
	}
	dlq := testenv.Name(t, "dlq")
	h.produce(
		change(event.OpCreate, 0x1000, 0, 1, "5", ""),
		change(event.OpCreate, 0x1000, 1, 2, "not a number", ""),
		change(event.OpCreate, 0x1000, 2, 3, "7", ""),
	)
	m := h.run("dlq", h.config(h.esURL, map[string]string{
		"behavior.on.malformed.documents": "warn", "errors.deadletterqueue.topic.name": dlq,
	}))
	want := []string{
		fmt.Sprintf(`1 v%d {"big":"","id":1,"v":"5"}`, version(0x1000, 0)),
		fmt.Sprintf(`3 v%d {"big":"","id":3,"v":"7"}`, version(0x1000, 2)),
	}
	if got := h.docs(); !slices.Equal(got, want) {
		t.Fatalf("index:\n got %q\nwant %q", got, want)
	}
	if n := counter(m, "sluice_es_dead_letter_records_total"); n != 1 {
		t.Errorf("dead-letter records = %d, want 1", n)
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(h.brokers...), kgo.ConsumeTopics(dlq), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	fs := cl.PollRecords(ctx, 10)
	recs := fs.Records()
	if len(recs) != 1 {
		t.Fatalf("dead-letter topic has %d records (%v), want 1", len(recs), fs.Errors())
	}
	headers := map[string]string{}
	for _, hd := range recs[0].Headers {
		headers[hd.Key] = string(hd.Value)
	}
	if headers["__connect.errors.topic"] != h.topic || headers["__connect.errors.partition"] != "0" || headers["__connect.errors.offset"] != "1" ||
		headers["__connect.errors.stage"] != "TASK_PUT" || headers["__connect.errors.exception.class.name"] != "document_parsing_exception" ||
		!strings.Contains(headers["__connect.errors.exception.message"], "failed to parse field [v] of type [integer]") {
		t.Errorf("dead-letter headers = %q", headers)
	}
}

func TestRetriesThrough429And503WithoutLoss(t *testing.T) {
	h := newHarness(t)
	target, _ := url.Parse(h.esURL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var bulks atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/_bulk") {
			switch n := bulks.Add(1); {
			case n <= 3:
				w.Header().Set("X-Elastic-Product", "Elasticsearch")
				http.Error(w, `{"error":"too many requests"}`, http.StatusTooManyRequests)
				return
			case n <= 5:
				http.Error(w, "service unavailable", http.StatusServiceUnavailable)
				return
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	defer srv.Close()
	var evs []*event.Event
	var want []string
	for i := range 50 {
		evs = append(evs, change(event.OpCreate, 0x1000, int64(i), int32(i), fmt.Sprint("v", i), ""))
		want = append(want, fmt.Sprintf(`%d v%d {"big":"","id":%d,"v":"v%d"}`, i, version(0x1000, uint32(i)), i, i))
	}
	slices.Sort(want)
	h.produce(evs...)
	m := h.run("retry", h.config(srv.URL, map[string]string{"max.retries": "10", "retry.backoff.ms": "10", "max.in.flight.requests": "1"}))
	if got := h.docs(); !slices.Equal(got, want) {
		t.Fatalf("index:\n got %q\nwant %q", got, want)
	}
	if n := counter(m, "sluice_es_retries_total"); n != 5 {
		t.Errorf("retries = %d, want 5", n)
	}
}

// An index removed while a bulk request is under way makes Elasticsearch
// answer its actions with index_not_found_exception; sent again, they
// create the index anew. The sink retries them: nothing is lost, nothing
// goes to the dead-letter topic, the sink keeps running.
func TestRetriesActionsOfAnIndexRemovedMeanwhile(t *testing.T) {
	h := newHarness(t)
	target, _ := url.Parse(h.esURL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var bulks atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/_bulk") && bulks.Add(1) == 1 {
			body, _ := io.ReadAll(r.Body)
			var items []string
			for _, line := range strings.Split(strings.TrimSpace(string(body)), "\n") {
				for _, op := range []string{"index", "delete"} {
					if strings.HasPrefix(line, `{"`+op+`":`) {
						items = append(items, `{"`+op+`":{"_index":"`+h.topic+`","status":404,"error":{"type":"index_not_found_exception","reason":"no such index [`+h.topic+`]"}}}`)
					}
				}
			}
			w.Header().Set("X-Elastic-Product", "Elasticsearch")
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"errors":true,"items":[%s]}`, strings.Join(items, ","))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer srv.Close()
	h.produce(change(event.OpCreate, 0x1000, 0, 1, "a", ""), change(event.OpCreate, 0x1000, 1, 2, "b", ""), change(event.OpDelete, 0x2000, 0, 2, "b", ""))
	m := h.run("removed", h.config(srv.URL, map[string]string{"max.retries": "10", "retry.backoff.ms": "10", "max.in.flight.requests": "1", "linger.ms": "200"}))
	want := []string{fmt.Sprintf(`1 v%d {"big":"","id":1,"v":"a"}`, version(0x1000, 0))}
	if got := h.docs(); !slices.Equal(got, want) {
		t.Fatalf("index:\n got %q\nwant %q", got, want)
	}
	if n := counter(m, "sluice_es_retries_total"); n < 1 {
		t.Errorf("retries = %d, want at least 1", n)
	}
}
