package elasticsearch

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/testenv"
)

// A sink stopped while Elasticsearch answers slowly finishes the writes in
// flight and commits them before it returns: nothing is left in flight,
// and the group's committed offset covers every document written.
func TestStoppedSinkDrainsWritesInFlight(t *testing.T) {
	h := newHarness(t)
	var evs []*event.Event
	for id := range 2000 {
		evs = append(evs, change(event.OpCreate, uint64(0x1000+id*8), 0, int32(id), "v", ""))
	}
	h.produce(evs...)
	target, _ := url.Parse(h.esURL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/_bulk") {
			time.Sleep(300 * time.Millisecond)
		}
		proxy.ServeHTTP(rw, r)
	}))
	defer srv.Close()
	name := testenv.Name(t, "drain")
	s := h.start(name, h.config(srv.URL, map[string]string{"batch.size": "50", "max.buffered.records": "400", "max.in.flight.requests": "4"}))
	waitFor(t, 30*time.Second, "200 documents written", func() bool { return counter(s.metrics, "sluice_es_documents_total") >= 200 })
	if g := gauge(s.metrics, "sluice_es_records_in_flight"); g == 0 {
		t.Fatal("no record in flight when the sink is stopped")
	}
	s.stop(t)

	written := counter(s.metrics, "sluice_es_documents_total")
	if g := gauge(s.metrics, "sluice_es_records_in_flight"); g != 0 {
		t.Errorf("%v records still in flight after the sink returned, want 0", g)
	}
	committed, err := kadm.NewClient(h.cl).FetchOffsets(context.Background(), GroupID(name))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := committed.Lookup(h.topic, 0)
	docs := len(h.docs())
	if c.At != int64(written) || docs != int(written) || written >= 2000 {
		t.Errorf("committed offset %d, %d documents written, %d in the index; want all equal and below 2,000", c.At, written, docs)
	}
	t.Logf("stopped with %d of 2,000 documents written, all committed", written)
}
