package elasticsearch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/metrics"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/testenv"
)

// A second sink joins the group while the first has bulk requests in
// flight (Elasticsearch answers slowly, behind a proxy). The first writes
// and commits what it read before it gives partitions up, so the two write
// every record exactly once between them — none lost, none written twice —
// and the index holds every id's last state.
func TestRebalanceMidBatchLosesAndDuplicatesNothing(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	adm := kadm.NewClient(h.cl)
	res, err := adm.CreateTopics(ctx, 4, 1, nil, h.topic)
	if err == nil {
		err = res[h.topic].Err
	}
	if err != nil {
		t.Fatal(err)
	}
	const ids, rounds = 300, 5
	var evs []*event.Event
	var want []string
	for r := range rounds {
		for id := range ids {
			lsn := uint64(0x1000 + (r*ids+id)*8)
			op := event.OpUpdate
			if r == 0 {
				op = event.OpCreate
			}
			evs = append(evs, change(op, lsn, 0, int32(id), fmt.Sprintf("v%d", r), ""))
			if r == rounds-1 {
				want = append(want, fmt.Sprintf(`%d v%d {"big":"","id":%d,"v":"v%d"}`, id, version(lsn, 0), id, r))
			}
		}
	}
	slices.Sort(want)
	h.produce(evs...)

	target, _ := url.Parse(h.esURL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/_bulk") {
			time.Sleep(150 * time.Millisecond)
		}
		proxy.ServeHTTP(rw, r)
	}))
	defer srv.Close()
	cfg := h.config(srv.URL, map[string]string{"batch.size": "20", "max.buffered.records": "200", "max.in.flight.requests": "2"})
	name := testenv.Name(t, "rebalance")

	first := h.start(name, cfg)
	waitFor(t, 30*time.Second, "the first sink to write 100 documents", func() bool {
		return counter(first.metrics, "sluice_es_documents_total") >= 100
	})
	second := h.start(name, cfg)
	waitFor(t, 60*time.Second, "the group to commit the whole topic", func() bool { return h.committedAll(GroupID(name)) })
	first.stop(t)
	second.stop(t)

	docs1, docs2 := counter(first.metrics, "sluice_es_documents_total"), counter(second.metrics, "sluice_es_documents_total")
	conflicts := counter(first.metrics, "sluice_es_version_conflicts_total") + counter(second.metrics, "sluice_es_version_conflicts_total")
	t.Logf("first sink wrote %d documents, the second %d, %d version conflicts", docs1, docs2, conflicts)
	if docs2 == 0 {
		t.Fatalf("the second sink wrote nothing: no rebalance gave it partitions")
	}
	if docs1+docs2 != uint64(len(evs)) || conflicts != 0 {
		t.Errorf("writes = %d + %d with %d version conflicts, want %d in all and none twice", docs1, docs2, conflicts, len(evs))
	}
	if got := h.docs(); !slices.Equal(got, want) {
		t.Errorf("index after the rebalance: %d documents, want %d; first difference: %s", len(got), len(want), firstDiff(got, want))
	}
}

// started is a sink running in the background.
type started struct {
	name    string
	metrics *metrics.Registry
	cancel  context.CancelFunc
	done    chan error
}

// start runs a sink named name with cfg until stopped.
func (h *harness) start(name string, cfg *Config) *started {
	ctx, cancel := context.WithCancel(context.Background())
	s := &started{name: name, metrics: metrics.NewRegistry(), cancel: cancel, done: make(chan error, 1)}
	go func() {
		s.done <- New(cfg, connectors.Env{Name: name, Metrics: s.metrics}).Run(ctx, connectors.Kafka{Brokers: h.brokers, Registry: h.reg})
	}()
	h.t.Cleanup(func() {
		cancel()
		<-s.done
		s.done <- context.Canceled
	})
	return s
}

// stop stops the sink and checks it ended only because it was stopped.
func (s *started) stop(t *testing.T) {
	t.Helper()
	s.cancel()
	err := <-s.done
	s.done <- err
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("sink %s returned %v, want context.Canceled", s.name, err)
	}
}

// committedAll reports whether group has committed every partition of the
// topic up to its end.
func (h *harness) committedAll(group string) bool {
	ctx := context.Background()
	adm := kadm.NewClient(h.cl)
	ends, err := adm.ListEndOffsets(ctx, h.topic)
	committed, cerr := adm.FetchOffsets(ctx, group)
	if err != nil || cerr != nil {
		return false
	}
	caught := true
	ends.Each(func(o kadm.ListedOffset) {
		c, ok := committed.Lookup(o.Topic, o.Partition)
		caught = caught && ok && c.At == o.Offset
	})
	return caught
}

// waitFor polls cond every 50 ms, failing after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
	}
}

// firstDiff describes the first difference between two sorted lists.
func firstDiff(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("got %q, want %q", got[i], want[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(got), len(want))
}
