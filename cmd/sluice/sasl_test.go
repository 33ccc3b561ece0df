package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/testenv"
)

// TestKafkaThroughSASLSSL runs the built daemon against the test broker's
// SASL_SSL listener (SCRAM-SHA-512, TLS with the testenv CA): a Postgres
// source and an Elasticsearch sink carry rows to their documents through
// it, the embedded registry keeps its schemas there too. A daemon with a
// wrong password fails both connectors once with a message that says so,
// and does not retry in a loop.
func TestKafkaThroughSASLSSL(t *testing.T) {
	k := testenv.KafkaSASLSSL(t)
	pgURL, err := url.Parse(testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	esURL := testenv.ElasticsearchURL(t)
	pgPassword, _ := pgURL.User.Password()
	db := newDatabase(t)
	db.exec(t, `CREATE TABLE orders (id int PRIMARY KEY, item text NOT NULL)`, `INSERT INTO orders VALUES (1, 'book')`)
	prefix := testenv.Name(t, "sasl")
	topic := prefix + ".public.orders"

	daemon := func(password, registry, slot string) *daemonProc {
		t.Helper()
		dir := t.TempDir()
		conns := filepath.Join(dir, "connectors")
		os.Mkdir(conns, 0o700)
		cfg := `{"state.dir": "` + dir + `/state", "log": {"format": "json"}, "shutdown.timeout.ms": 5000,
			"kafka": {"bootstrap.servers": "` + strings.Join(k.Brokers, ",") + `",
				"sasl": {"mechanism": "SCRAM-SHA-512", "username": "` + k.User + `"},
				"tls": {"enabled": true, "ca.file": "` + k.CAFile + `"}}, ` + registry + `}`
		writeJSON(t, filepath.Join(dir, "sluice.json"), cfg)
		writeJSON(t, filepath.Join(conns, "orders.json"), `{"name": "orders", "config": {"connector.class": "postgres",
			"database.hostname": "`+pgURL.Hostname()+`", "database.port": "`+pgURL.Port()+`", "database.user": "`+pgURL.User.Username()+`",
			"database.password": "${env:PG_PASSWORD}", "database.dbname": "`+db.name+`", "database.sslmode": "disable",
			"slot.name": "`+slot+`", "publication.name": "`+db.name+`", "topic.prefix": "`+prefix+`"}}`)
		writeJSON(t, filepath.Join(conns, "index.json"), `{"name": "index", "config": {"connector.class": "elasticsearch",
			"connection.url": "`+esURL+`", "topics": "`+topic+`", "key.ignore": "false", "behavior.on.null.values": "delete"}}`)
		return startDaemon(t, []string{"SLUICE_REST_LISTEN=127.0.0.1:0", "PG_PASSWORD=" + pgPassword, "SLUICE_KAFKA_SASL_PASSWORD=" + password},
			"--config", filepath.Join(dir, "sluice.json"), "--connectors-dir", conns)
	}

	registryAddr := freeAddr(t)
	d := daemon(k.Password, `"registry": {"listen": "`+registryAddr+`"}`, db.name)
	for _, name := range []string{"orders", "index"} {
		d.waitFor(name+" RUNNING", func() bool {
			_, b := d.call("GET", "/connectors/"+name+"/status", "")
			return strings.Contains(b, `"state":"RUNNING"`)
		})
	}
	db.exec(t, `INSERT INTO orders VALUES (2, 'pen')`, `UPDATE orders SET item = 'red book' WHERE id = 1`)
	want := map[string]string{"1": `{"id":1,"item":"red book"}`, "2": `{"id":2,"item":"pen"}`}
	d.waitFor("both documents in Elasticsearch", func() bool {
		for id, doc := range want {
			if got := esSource(t, esURL+"/"+topic+"/_doc/"+id); got != doc {
				return false
			}
		}
		return true
	})
	// The snapshot row and the two changes went through Kafka.
	_, m := d.call("GET", "/metrics", "")
	for _, line := range []string{`sluice_connector_records_written_total{connector="orders"} 3`, `sluice_connector_records_polled_total{connector="index"} 3`} {
		if !strings.Contains(m, "\n"+line+"\n") {
			t.Errorf("no %s in the metrics", line)
		}
	}

	// A wrong password: the source fails once, saying why.
	bad := daemon("not-the-password", `"schema.registry": {"url": "http://`+registryAddr+`"}`, db.name+"_bad")
	var status string
	bad.waitFor("orders FAILED", func() bool {
		_, status = bad.call("GET", "/connectors/orders/status", "")
		return strings.Contains(status, `"state":"FAILED"`)
	})
	says := `Kafka refused access: check kafka.sasl (mechanism, username, password) and the user's ACLs: create topic \"` + topic +
		`\": SASL_AUTHENTICATION_FAILED: SASL Authentication failed.: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512`
	if !strings.Contains(status, `"trace":"`+says+`"`) {
		t.Errorf("status does not say the SASL authentication failed: %s", status)
	}
	time.Sleep(3 * time.Second)
	if n := strings.Count(bad.log(), "SASL_AUTHENTICATION_FAILED"); n > 3 {
		t.Errorf("%d log lines about the failed authentication in 3 s: a retry loop\n%s", n, bad.log())
	}
	var sink string
	bad.waitFor("index FAILED", func() bool {
		_, sink = bad.call("GET", "/connectors/index/status", "")
		return strings.Contains(sink, `"state":"FAILED"`)
	})
	if !strings.Contains(sink, `"trace":"Kafka refused access: check kafka.sasl (mechanism, username, password) and the user's ACLs: `) ||
		!strings.Contains(sink, "SASL_AUTHENTICATION_FAILED") {
		t.Errorf("the sink's status does not say the SASL authentication failed: %s", sink)
	}
	if strings.Contains(bad.log(), "not-the-password") {
		t.Error("the password is in the logs")
	}
}

// esSource returns the _source of the document at url, as compact JSON, or
// "" when there is none.
func esSource(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Source json.RawMessage `json:"_source"`
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &doc) != nil {
		return ""
	}
	var out strings.Builder
	var v any
	json.Unmarshal(doc.Source, &v)
	enc := json.NewEncoder(&out)
	enc.Encode(v)
	return strings.TrimSpace(out.String())
}
