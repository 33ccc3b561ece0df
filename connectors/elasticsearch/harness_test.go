package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/kafka"
	"github.com/sluice-cdc/sluice/connectors/metrics"
	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/registry"
	"github.com/sluice-cdc/sluice/testenv"
	"github.com/sluice-cdc/sluice/testenv/kafkatest"
	"github.com/sluice-cdc/sluice/testenv/registrytest"
	"github.com/sluice-cdc/sluice/transforms"
)

// harness produces Debezium envelopes to a topic of the real Kafka (schemas
// in an embedded registry kept in that Kafka) and runs sinks from it into
// the real Elasticsearch.
type harness struct {
	t       *testing.T
	brokers []string
	esURL   string
	cl      *kgo.Client
	reg     *registry.Client
	topic   string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, brokers: testenv.KafkaBrokers(t), esURL: testenv.ElasticsearchURL(t), topic: testenv.Name(t, "es.public.t")}
	h.reg = registrytest.Start(t, h.brokers, testenv.Name(t, "_schemas")).Client
	h.cl = kafkatest.NewClient(t, h.brokers)
	t.Cleanup(func() { h.es("DELETE", "/"+h.topic, "") })
	return h
}

// produce writes events to the topic with sluice's Kafka writer (deletes
// followed by tombstones).
func (h *harness) produce(evs ...*event.Event) {
	h.t.Helper()
	ctx := context.Background()
	w := kafka.NewWriter(h.cl, h.reg, kafka.NewTopics(kadm.NewClient(h.cl), 1, -1, nil), schema.Options{Prefix: "es", Connector: "postgresql"},
		kafka.WithTopicFunc(func(*event.Event) string { return h.topic }))
	if err := w.Emit(ctx, connectors.Batch{Events: evs}); err != nil {
		h.t.Fatal(err)
	}
	if err := w.Flush(ctx); err != nil {
		h.t.Fatal(err)
	}
}

// config is a sink configuration for the harness's topic, with overrides.
func (h *harness) config(esURL string, over map[string]string) *Config {
	h.t.Helper()
	return sinkConfig(h.t, h.topic, esURL, over)
}

// sinkConfig is the configuration of a sink from topic to esURL that
// deletes documents on tombstones and lingers 20 ms, with overrides.
func sinkConfig(t testing.TB, topic, esURL string, over map[string]string) *Config {
	t.Helper()
	raw := map[string]string{
		"connector.class": "elasticsearch", "connection.url": esURL, "topics": topic,
		"behavior.on.null.values": "delete", "linger.ms": "20",
	}
	for k, v := range over {
		raw[k] = v
	}
	c, err := Spec.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// setTransforms plugs the chain the transforms.* and predicates.* keys of
// raw describe into sink, as the daemon does.
func setTransforms(t testing.TB, sink *Sink, raw map[string]string) {
	t.Helper()
	chain, ps := transforms.Build(raw)
	if ps != nil {
		t.Fatal(ps)
	}
	if chain != nil {
		sink.SetStage(chain)
	}
}

// run runs a sink named name until its group has committed every record of
// the topic, then stops it; it returns the sink's metrics.
func (h *harness) run(name string, cfg *Config) *metrics.Registry {
	h.t.Helper()
	return h.runWith(name, cfg, nil)
}

// runWith is run for a sink that applies the transforms of raw's
// transforms.* and predicates.* keys.
func (h *harness) runWith(name string, cfg *Config, raw map[string]string) *metrics.Registry {
	h.t.Helper()
	reg := metrics.NewRegistry()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	sink := New(cfg, connectors.Env{Name: name, Metrics: reg})
	setTransforms(h.t, sink, raw)
	go func() {
		done <- sink.Run(ctx, connectors.Kafka{Brokers: h.brokers, Registry: h.reg})
	}()
	adm := kadm.NewClient(h.cl)
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-done:
			cancel()
			h.t.Fatalf("sink %s stopped: %v", name, err)
		case <-time.After(100 * time.Millisecond):
		}
		if committedAll(ctx, adm, h.topic, GroupID(name)) {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			h.t.Fatalf("sink %s did not commit the whole topic in time", name)
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		h.t.Fatalf("sink %s returned %v, want context.Canceled", name, err)
	}
	return reg
}

// es sends a request to Elasticsearch and returns the status and body.
func (h *harness) es(method, path, body string) (int, []byte) {
	h.t.Helper()
	return esRequest(h.t, h.esURL, method, path, body)
}

// esRequest sends a JSON request to the Elasticsearch at esURL and returns
// the status and body.
func esRequest(t testing.TB, esURL, method, path, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, esURL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// committedAll reports whether group has committed the end offset of every
// partition of topic; false when either cannot be read.
func committedAll(ctx context.Context, adm *kadm.Client, topic, group string) bool {
	ends, err := adm.ListEndOffsets(ctx, topic)
	committed, cerr := adm.FetchOffsets(ctx, group)
	caught := err == nil && cerr == nil
	ends.Each(func(o kadm.ListedOffset) {
		c, ok := committed.Lookup(o.Topic, o.Partition)
		caught = caught && ok && c.At == o.Offset
	})
	return caught
}

// docs returns every document of the index as "id v<version> <source>",
// sorted, with the source's keys sorted.
func (h *harness) docs() []string {
	h.t.Helper()
	var out []string
	for _, d := range indexDocs(h.t, h.esURL, h.topic) {
		src, _ := json.Marshal(d.source)
		out = append(out, fmt.Sprintf("%s v%d %s", d.id, d.version, src))
	}
	sort.Strings(out)
	return out
}

// storedDoc is a document as Elasticsearch stores it, its source's numbers
// as json.Number.
type storedDoc struct {
	id      string
	version int64
	source  map[string]any
}

// indexDocs refreshes index and returns every document of it; none when
// there is no such index.
func indexDocs(t testing.TB, esURL, index string) []storedDoc {
	t.Helper()
	if status, body := esRequest(t, esURL, "POST", "/"+index+"/_refresh", ""); status == 404 {
		return nil
	} else if status != 200 {
		t.Fatalf("refresh %s: %d %s", index, status, body)
	}
	status, body := esRequest(t, esURL, "POST", "/"+index+"/_search", `{"size":10000,"version":true,"query":{"match_all":{}}}`)
	if status != 200 {
		t.Fatalf("search %s: %d %s", index, status, body)
	}
	var sr struct {
		Hits struct {
			Hits []struct {
				ID      string          `json:"_id"`
				Version int64           `json:"_version"`
				Source  json.RawMessage `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(body, &sr); err != nil {
		t.Fatal(err)
	}
	out := make([]storedDoc, len(sr.Hits.Hits))
	for i, d := range sr.Hits.Hits {
		dec := json.NewDecoder(bytes.NewReader(d.Source))
		dec.UseNumber()
		out[i] = storedDoc{id: d.ID, version: d.Version}
		if err := dec.Decode(&out[i].source); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// counter returns the value of a counter of reg.
func counter(reg *metrics.Registry, name string) uint64 { return uint64(gauge(reg, name)) }

// gauge returns the value of a series of reg without labels but the
// connector's.
func gauge(reg *metrics.Registry, name string) float64 {
	var b strings.Builder
	reg.WritePrometheus(&b)
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, name+"{") {
			var v float64
			fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &v)
			return v
		}
	}
	return 0
}

// The test table: id (key), v, big (a TOASTable text).
var table = &event.Table{
	ID: event.TableID{Database: "db", Schema: "public", Table: "t"},
	Columns: []event.Column{
		{Name: "id", Schema: &event.Schema{Type: event.Int32}},
		{Name: "v", Schema: &event.Schema{Type: event.String, Optional: true}},
		{Name: "big", Schema: &event.Schema{Type: event.String, Optional: true}},
	},
	Key: []int{0},
}

// change is an event of table committed at lsn, index-th in its
// transaction, as the Postgres source writes it: the transaction id is
// "<xid>:<commit LSN>" and source.lsn the LSN of the change itself, 8 bytes
// apart from one change of the transaction to the next, before the commit.
// A snapshot read is at lsn.
func change(op event.Op, lsn uint64, index int64, id int32, v, big string) *event.Event {
	e := &event.Event{Op: op, Table: table, Source: event.Source{Connector: "postgresql", Name: "es", DB: "db", Schema: "public", Table: "t",
		Snapshot: event.SnapshotTrue, LSN: int64(lsn), TxID: int64(lsn)}}
	if op != event.OpRead {
		e.Source.Snapshot, e.Source.LSN = event.SnapshotFalse, int64(lsn)-0x800+8*index
		e.Transaction = &event.Transaction{ID: fmt.Sprintf("%d:%d", lsn, lsn), TotalOrder: index + 1, DataCollectionOrder: index + 1}
	}
	row := event.Row{id, v, big}
	switch op {
	case event.OpDelete:
		e.Before = row
	case event.OpTruncate:
	default:
		e.After = row
	}
	return e
}

func version(lsn uint64, index uint32) int64 {
	v, _ := event.Position{Commit: lsn, Index: index}.Version()
	return v
}
