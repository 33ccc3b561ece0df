package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/elasticsearch"
	"github.com/sluice-cdc/sluice/connectors/kafka"
	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/registry"
	"github.com/sluice-cdc/sluice/schema/registry/embedded"
)

// result is one run's figures.
type result struct {
	Run            int     `json:"run"`
	Rows           int     `json:"rows"`
	Instances      int     `json:"instances"`
	CeilingS       float64 `json:"ceiling_s"`
	CeilingDocsPS  float64 `json:"ceiling_docs_per_s"`
	SinkS          float64 `json:"sink_s"`
	SinkDocsPS     float64 `json:"sink_docs_per_s"`
	PctOfCeiling   float64 `json:"pct_of_ceiling"`
	SinkPeakRSSMiB float64 `json:"sink_peak_rss_mib"`
}

// drive runs o.runs runs and prints their results, then the medians.
func drive(ctx context.Context, o options) error {
	if o.brokers == "" || o.esURL == "" {
		return fmt.Errorf("no Kafka brokers or Elasticsearch URL: pass -brokers and -es, or eval \"$(testenv/up.sh)\"")
	}
	return printRuns(o.runs, func(i int) (result, error) { return runOnce(ctx, o, i) }, medians)
}

// printRuns makes runs runs with once, printing each result as a JSON line
// as it comes, and with more than one run a last line with the medians.
func printRuns[R any, M any](runs int, once func(run int) (R, error), medians func([]R) M) error {
	var all []R
	for i := 1; i <= runs; i++ {
		r, err := once(i)
		if err != nil {
			return fmt.Errorf("run %d: %w", i, err)
		}
		all = append(all, r)
		line, _ := json.Marshal(r)
		fmt.Println(string(line))
	}
	if len(all) > 1 {
		line, _ := json.Marshal(medians(all))
		fmt.Println(string(line))
	}
	return nil
}

// runEnv names what one run creates, for cleanup.
type runEnv struct {
	topic, schemas, indexA, indexB, group string
}

// runOnce produces the topic, measures the ceiling into index A and the sink
// into index B, and removes the topics and indices.
func runOnce(ctx context.Context, o options, n int) (result, error) {
	res := result{Run: n, Rows: o.rows, Instances: o.instances}
	suffix := randomSuffix()
	env := runEnv{
		topic: "bench.public.items_" + suffix, schemas: "_schemas_bench_" + suffix,
		indexA: "bench-ceiling-" + suffix, indexB: "bench.public.items_" + suffix, group: "bench-es-" + suffix,
	}
	brokers := strings.Split(o.brokers, ",")
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return res, fmt.Errorf("create Kafka client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	es, err := newES(o.esURL)
	if err != nil {
		return res, err
	}
	defer cleanup(adm, es, env)

	emb, err := embedded.New(ctx, brokers, embedded.WithReplicationFactor(1), embedded.WithTopic(env.schemas))
	if err != nil {
		return res, fmt.Errorf("start embedded registry: %w", err)
	}
	defer emb.Close()
	if err := emb.WaitReady(ctx); err != nil {
		return res, fmt.Errorf("wait for embedded registry: %w", err)
	}
	srv := httptest.NewServer(emb)
	defer srv.Close()
	reg, err := registry.New(srv.URL)
	if err != nil {
		return res, err
	}

	start := time.Now()
	if err := produce(ctx, o, cl, adm, reg, env.topic); err != nil {
		return res, err
	}
	slog.Info("produced", "rows", o.rows, "topic", env.topic, "took", time.Since(start))

	docs, err := buildDocs(o)
	if err != nil {
		return res, err
	}
	took, err := ceiling(ctx, o, es, env.indexA, docs)
	if err != nil {
		return res, err
	}
	docs = nil
	res.CeilingS = took.Seconds()
	res.CeilingDocsPS = float64(o.rows) / took.Seconds()
	slog.Info("ceiling done", "took", took)

	took, rss, err := sinkRun(ctx, o, es, env, srv.URL)
	if err != nil {
		return res, err
	}
	res.SinkS = took.Seconds()
	res.SinkDocsPS = float64(o.rows) / took.Seconds()
	res.PctOfCeiling = 100 * res.SinkDocsPS / res.CeilingDocsPS
	res.SinkPeakRSSMiB = float64(rss) / (1 << 20)
	slog.Info("sink done", "took", took)
	for _, id := range []int{1, o.rows / 2, o.rows} {
		if err := es.sameSource(ctx, env.indexA, env.indexB, fmt.Sprint(id)); err != nil {
			return res, err
		}
	}
	return res, nil
}

// produce writes o.rows inserts to topic with sluice's Kafka writer, in
// transactions of txRows rows, batches of 5000 events.
func produce(ctx context.Context, o options, cl *kgo.Client, adm *kadm.Client, reg *registry.Client, topic string) error {
	w := kafka.NewWriter(cl, reg, kafka.NewTopics(adm, int32(o.partitions), -1, nil),
		schema.Options{Prefix: "bench", Connector: "postgresql"},
		kafka.WithTopicFunc(func(*event.Event) string { return topic }))
	const batch = 5000
	for i := 0; i < o.rows; i += batch {
		evs := make([]*event.Event, 0, batch)
		for j := i; j < min(i+batch, o.rows); j++ {
			evs = append(evs, insert(o.seed, j))
		}
		if err := w.Emit(ctx, connectors.Batch{Events: evs}); err != nil {
			return fmt.Errorf("produce rows %d..%d to %s: %w", i, i+len(evs), topic, err)
		}
	}
	if err := w.Flush(ctx); err != nil {
		return fmt.Errorf("flush produced rows to %s: %w", topic, err)
	}
	return nil
}

// sinkRun starts o.instances sink children on env's topic, members of one
// consumer group as the instances of a cluster running one task each of
// the sink are, and returns the time from the first one's ready report
// until index B counts o.rows documents, and the sum of their peak RSS.
func sinkRun(ctx context.Context, o options, es *esClient, env runEnv, registryURL string) (time.Duration, int64, error) {
	dir, err := os.MkdirTemp("", "bench-es-")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(dir)
	cfg, _ := json.Marshal(map[string]string{
		"connector.class": "elasticsearch", "connection.url": o.esURL, "topics": env.topic,
		"behavior.on.null.values": "delete",
	})
	file := filepath.Join(dir, "sink.json")
	if err := os.WriteFile(file, cfg, 0o600); err != nil {
		return 0, 0, err
	}
	var children []*child
	defer func() {
		for _, c := range children {
			c.stop()
		}
	}()
	exited := make(chan error, o.instances)
	for range max(o.instances, 1) {
		c, err := startChild(ctx, o, file, registryURL, env.group)
		if err != nil {
			return 0, 0, err
		}
		children = append(children, c)
		go func() {
			<-c.exited
			exited <- c.waitErr
		}()
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return 0, 0, ctx.Err()
		case err := <-exited:
			return 0, 0, fmt.Errorf("a sink process exited: %v", err)
		case <-tick.C:
		}
		n, err := es.count(ctx, env.indexB)
		if err != nil {
			return 0, 0, err
		}
		if n >= int64(o.rows) {
			took := time.Since(children[0].readyAt)
			if n != int64(o.rows) {
				return 0, 0, fmt.Errorf("index %s counts %d documents, want %d", env.indexB, n, o.rows)
			}
			var sum int64
			for _, c := range children {
				rss, err := c.peakRSS()
				if err != nil {
					return 0, 0, err
				}
				sum += rss
			}
			return took, sum, nil
		}
	}
}

// buildDocs returns the documents the sink writes, by row.
func buildDocs(o options) ([][]byte, error) {
	docs := make([][]byte, o.rows)
	for i := range docs {
		d, err := document(o.seed, i)
		if err != nil {
			return nil, fmt.Errorf("build document of row %d: %w", i, err)
		}
		docs[i] = d
	}
	return docs, nil
}

// cleanup deletes what a run created; failures are logged.
func cleanup(adm *kadm.Client, es *esClient, env runEnv) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := adm.DeleteTopics(ctx, env.topic, env.schemas); err != nil {
		slog.Warn("delete topics", "topics", []string{env.topic, env.schemas}, "error", err)
	}
	if _, err := adm.DeleteGroup(ctx, elasticsearch.GroupID(env.group)); err != nil {
		slog.Warn("delete consumer group", "group", elasticsearch.GroupID(env.group), "error", err)
	}
	for _, idx := range []string{env.indexA, env.indexB} {
		if err := es.deleteIndex(ctx, idx); err != nil {
			slog.Warn("delete index", "index", idx, "error", err)
		}
	}
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// medianOf returns the median of f over rs.
func medianOf[R any](rs []R, f func(R) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	return median(v)
}

// medians returns the median of every figure of rs.
func medians(rs []result) map[string]any {
	pick := func(f func(result) float64) float64 { return medianOf(rs, f) }
	return map[string]any{
		"median_of_runs":     len(rs),
		"rows":               rs[0].Rows,
		"instances":          rs[0].Instances,
		"ceiling_docs_per_s": pick(func(r result) float64 { return r.CeilingDocsPS }),
		"sink_docs_per_s":    pick(func(r result) float64 { return r.SinkDocsPS }),
		"pct_of_ceiling":     pick(func(r result) float64 { return r.PctOfCeiling }),
		"sink_peak_rss_mib":  pick(func(r result) float64 { return r.SinkPeakRSSMiB }),
	}
}
