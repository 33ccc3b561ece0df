package elasticsearch

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/conf"
)

// seedConfig reads Confluent's Elasticsearch sink JSON as users have it,
// with JSON booleans and numbers turned into strings as the daemon does.
func seedConfig(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile("testdata/elasticsearch-sink-connector.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Config map[string]any `json:"config"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for k, v := range doc.Config {
		out[k] = fmt.Sprint(v)
	}
	return out
}

func TestSeedConfigParses(t *testing.T) {
	c, err := Spec.Parse(seedConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if w := c.Warnings(); len(w) != 1 || w[0].Key != "type.name" {
		t.Errorf("warnings = %v, want the obsolete type.name", w)
	}
	cfg, err := ParseConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Topics: []string{"enriched-orders"}, URLs: []string{"http://elasticsearch:9200"},
		ConnectTimeout: time.Second, ReadTimeout: 3 * time.Second,
		Upsert: true, OnNull: "delete", OnMalformed: "fail", Placeholder: "__debezium_unavailable_value",
		BatchSize: 200, BulkBytes: 5 << 20, Linger: time.Millisecond, InFlight: 5, MaxBuffered: 5000,
		FlushTime: 10 * time.Second, MaxRetries: 5, RetryBackoff: 100 * time.Millisecond,
		DLQReplication: -1, DLQContextHeads: true,
	}
	if got := fmt.Sprintf("%+v", *cfg); got != fmt.Sprintf("%+v", want) {
		t.Errorf("config\n got %s\nwant %+v", got, want)
	}
	cls, ok := connectors.Lookup("io.confluent.connect.elasticsearch.ElasticsearchSinkConnector")
	if !ok || cls.Name != "elasticsearch" || cls.Kind != connectors.KindSink || cls.Spec != Spec {
		t.Errorf("class lookup = %+v, %v", cls, ok)
	}
}

func TestBadValuesNameTheKey(t *testing.T) {
	for _, tc := range []struct {
		set     map[string]string
		drop    string
		wantKey string
		wantMsg string
	}{
		{set: map[string]string{"write.method": "merge"}, wantKey: "write.method", wantMsg: `invalid value "merge": must be one of insert, upsert`},
		{set: map[string]string{"behavior.on.null.values": "skip"}, wantKey: "behavior.on.null.values", wantMsg: `invalid value "skip": must be one of ignore, delete, fail`},
		{set: map[string]string{"behavior.on.malformed.documents": "drop"}, wantKey: "behavior.on.malformed.documents", wantMsg: `invalid value "drop": must be one of ignore, warn, fail`},
		{set: map[string]string{"batch.size": "0"}, wantKey: "batch.size", wantMsg: "invalid value 0: must be between 1 and 1000000"},
		{set: map[string]string{"linger.ms": "soon"}, wantKey: "linger.ms", wantMsg: `invalid value "soon": not an integer`},
		{set: map[string]string{"key.ignore": "maybe"}, wantKey: "key.ignore", wantMsg: `invalid value "maybe": not a boolean (true or false)`},
		{set: map[string]string{"connection.url": "elasticsearch:9200"}, wantKey: "connection.url", wantMsg: `invalid URL "elasticsearch:9200": want http://host:port or https://host:port`},
		{set: map[string]string{"connection.url": "http://u:secret@es:9200"}, wantKey: "connection.url", wantMsg: `invalid URL "http://u:xxxxx@es:9200": put credentials in connection.username and connection.password, not in the URL`},
		{set: map[string]string{"errors.tolerance": "some"}, wantKey: "errors.tolerance", wantMsg: `invalid value "some": must be one of none, all`},
		{set: map[string]string{"errors.deadletterqueue.topic.name": "bad topic"}, wantKey: "errors.deadletterqueue.topic.name", wantMsg: `invalid topic name "bad topic": use 1 to 249 letters, digits, '.', '_' and '-'`},
		{set: map[string]string{"elastic.https.ssl.truststore.location": "/etc/ts.jks"}, wantKey: "elastic.https.ssl.truststore.location", wantMsg: `key and trust stores in Java formats (JKS, PKCS12) are not supported: convert "/etc/ts.jks" to PEM and use elastic.https.ssl.ca.file`},
		{set: map[string]string{"compact.map.entries": "true"}, wantKey: "compact.map.entries", wantMsg: "unknown configuration key"},
		{set: map[string]string{"topics.regex": "cdc\\..*"}, wantKey: "topics.regex", wantMsg: "topics and topics.regex are exclusive: set only one"},
		{drop: "topics", wantKey: "topics", wantMsg: "missing required configuration: set topics or topics.regex"},
		{drop: "connection.url", wantKey: "connection.url", wantMsg: "missing required configuration"},
	} {
		raw := seedConfig(t)
		for k, v := range tc.set {
			raw[k] = v
		}
		delete(raw, tc.drop)
		c, err := Spec.Parse(raw)
		if err == nil {
			_, err = ParseConfig(c)
		}
		var ps conf.Problems
		if !errors.As(err, &ps) || len(ps) != 1 || ps[0].Key != tc.wantKey || ps[0].Message != tc.wantMsg {
			t.Errorf("%v without %q: error = %v, want %s: %s", tc.set, tc.drop, err, tc.wantKey, tc.wantMsg)
		}
	}
}
