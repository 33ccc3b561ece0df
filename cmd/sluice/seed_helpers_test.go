package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/sluice-cdc/sluice/testenv"
	"github.com/sluice-cdc/sluice/testenv/kafkatest"
	"github.com/sluice-cdc/sluice/testenv/registrytest"
)

// seedPipeline runs one of the seed document's source examples and its
// Elasticsearch sink, as users write them but for addresses, in the built
// binary on the real Kafka, with the registry in the test (as an external
// one). Its Kafka topics, consumer group and index are removed before and
// after the test.
type seedPipeline struct {
	brokers []string
	esURL   string
	topic   string // the topic the sink indexes
	index   esIndex
	reg     *registrytest.Registry
	d       *daemonProc
	// extra are connector definitions run beside the seed's.
	extra []map[string]any
}

// newSeedPipeline clears what an earlier run left: the sink's group and
// index and the topics (topic and also) named by the seed configs.
func newSeedPipeline(t *testing.T, topic string, also ...string) *seedPipeline {
	t.Helper()
	p := &seedPipeline{brokers: testenv.KafkaBrokers(t), esURL: testenv.ElasticsearchURL(t), topic: topic}
	p.index = esIndex{url: p.esURL, name: topic}
	sluiceBinary(t)
	kcl := kafkatest.NewClient(t, p.brokers)
	registryTopic := "_schemas_seed_" + topic
	fresh := func() {
		dropGroupAndIndex(t, kcl, "connect-elasticsearch-sink-connector", p.index)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		kadm.NewClient(kcl).DeleteTopics(ctx, append([]string{topic, registryTopic}, also...)...)
	}
	fresh()
	t.Cleanup(fresh)
	p.reg = registrytest.Start(t, p.brokers, registryTopic)
	return p
}

// alsoRun adds an Elasticsearch sink to run beside the seed's: def is its
// definition, which writes to index. Its group and index are removed
// before and after the test.
func (p *seedPipeline) alsoRun(t *testing.T, def map[string]any, index string) {
	t.Helper()
	kcl := kafkatest.NewClient(t, p.brokers)
	fresh := func() { dropGroupAndIndex(t, kcl, "connect-"+def["name"].(string), esIndex{url: p.esURL, name: index}) }
	fresh()
	t.Cleanup(fresh)
	p.extra = append(p.extra, def)
}

// start writes the seed source file with its addresses changed by set, its
// password that of the tests' role debezium, and the seed sink reading p.topic, checks that `sluice validate` accepts
// both, runs the daemon and waits for the source to be RUNNING.
func (p *seedPipeline) start(t *testing.T, sourceFile string, set map[string]string) {
	t.Helper()
	dir := t.TempDir()
	conns := filepath.Join(dir, "connectors")
	os.Mkdir(conns, 0o700)
	source := readSeed(t, sourceFile)
	source["config"].(map[string]any)["database.password"] = "password" // the example reads it from the environment
	for k, v := range set {
		source["config"].(map[string]any)[k] = v
	}
	writeSeed(t, filepath.Join(conns, sourceFile), source)
	sink := readSeed(t, "elasticsearch-sink-connector.json")
	sink["config"].(map[string]any)["connection.url"] = p.esURL
	sink["config"].(map[string]any)["topics"] = p.topic
	writeSeed(t, filepath.Join(conns, "elasticsearch-sink-connector.json"), sink)

	name := source["name"].(string)
	names := []string{"elasticsearch-sink-connector", name}
	for _, def := range p.extra {
		writeSeed(t, filepath.Join(conns, def["name"].(string)+".json"), def)
		names = append(names, def["name"].(string))
	}
	sort.Strings(names)
	out, err := exec.Command(sluiceBinary(t), "validate", "--connectors-dir", conns).CombinedOutput()
	if want := fmt.Sprintf("ok: daemon config (defaults and environment) and %d connector(s): %s\n", len(names), strings.Join(names, ", ")); err != nil || string(out) != want {
		t.Fatalf("validate: %v\n%s\nwant %s", err, out, want)
	}
	cfgFile := filepath.Join(dir, "sluice.json")
	writeJSON(t, cfgFile, `{"state.dir": "`+dir+`/state", "shutdown.timeout.ms": 5000,
		"kafka": {"bootstrap.servers": "`+strings.Join(p.brokers, ",")+`"}, "schema.registry": {"url": "`+p.reg.URL+`"}}`)
	p.d = startDaemon(t, []string{"SLUICE_REST_LISTEN=127.0.0.1:0", "SLUICE_LOG_FORMAT=json"}, "--config", cfgFile, "--connectors-dir", conns)
	p.d.waitFor(name+" RUNNING", func() bool {
		_, body := p.d.call("GET", "/connectors/"+name+"/status", "")
		return strings.Contains(body, `"connector":{"state":"RUNNING"`)
	})
}

// expectTopic waits until a topic holds exactly want (see topicReader).
func (p *seedPipeline) expectTopic(t *testing.T, topic string, want ...string) {
	t.Helper()
	newTopicReader(t, p.brokers, p.reg.URL, topic).expect(t, want...)
}

// expectIndex waits up to 60 s until the index holds exactly the documents
// of want, by id, and returns them with their versions.
func (p *seedPipeline) expectIndex(t *testing.T, want map[string]map[string]any) map[string]esDoc {
	t.Helper()
	return p.expectDocs(t, p.index, want)
}

// expectDocs is expectIndex for any index.
func (p *seedPipeline) expectDocs(t *testing.T, index esIndex, want map[string]map[string]any) map[string]esDoc {
	t.Helper()
	var got map[string]esDoc
	var err error
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if got, err = index.docs(t.Context(), "id"); err == nil && sameSources(got, want) {
			return got
		}
	}
	t.Fatalf("index %s holds %v (%v), want %v; logs:\n%s", index.name, got, err, want, p.d.log())
	return nil
}

func sameSources(got map[string]esDoc, want map[string]map[string]any) bool {
	if len(got) != len(want) {
		return false
	}
	for id, w := range want {
		if !reflect.DeepEqual(got[id].source, w) {
			return false
		}
	}
	return true
}

// readSeed reads a connector file of the example pipeline in
// examples/connectors/orders.
func readSeed(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "connectors", "orders", name))
	if err != nil {
		t.Fatal(err)
	}
	var def map[string]any
	if err := json.Unmarshal(b, &def); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	def["config"] = maps.Clone(def["config"].(map[string]any))
	return def
}

func writeSeed(t *testing.T, path string, def map[string]any) {
	t.Helper()
	b, err := json.MarshalIndent(def, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	writeJSON(t, path, string(b))
}
