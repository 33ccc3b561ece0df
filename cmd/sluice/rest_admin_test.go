package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"

	"github.com/sluice-cdc/sluice/testenv"
	"github.com/sluice-cdc/sluice/testenv/kafkatest"
	"github.com/sluice-cdc/sluice/testenv/mysqltest"
	"github.com/sluice-cdc/sluice/testenv/registrytest"
)

// adminDaemon is a daemon on the test environment's Kafka, with the
// registry in the test (as an external one), and a Postgres database of
// its own whose changes land on topics prefixed with its name.
type adminDaemon struct {
	*daemonProc
	db       *database
	brokers  []string
	reg      *registrytest.Registry
	pgSource func(name string) string // a Postgres source's definition
	worker   string                   // worker_id
}

func startAdminDaemon(t *testing.T) *adminDaemon {
	t.Helper()
	pgURL, err := url.Parse(testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	brokers := testenv.KafkaBrokers(t)
	sluiceBinary(t)
	db := newDatabase(t)
	kafkatest.DeleteTopicsAtCleanup(t, brokers, func(name string) bool { return strings.HasPrefix(name, db.name) || name == "_schemas_"+db.name })
	reg := registrytest.Start(t, brokers, "_schemas_"+db.name)
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "sluice.json")
	writeJSON(t, cfgFile, `{"state.dir": "`+dir+`/state", "shutdown.timeout.ms": 5000,
		"kafka": {"bootstrap.servers": "`+strings.Join(brokers, ",")+`"}, "schema.registry": {"url": "`+reg.URL+`"}}`)
	pgPassword, _ := pgURL.User.Password()
	d := startDaemon(t, []string{"SLUICE_REST_LISTEN=127.0.0.1:0", "SLUICE_LOG_FORMAT=json", "PG_PASSWORD=" + pgPassword}, "--config", cfgFile)
	host, _ := os.Hostname()
	return &adminDaemon{daemonProc: d, db: db, brokers: brokers, reg: reg, worker: host + d.base[strings.LastIndex(d.base, ":"):],
		pgSource: func(name string) string {
			return `{"name": "` + name + `", "config": {"connector.class": "postgres",
				"database.hostname": "` + pgURL.Hostname() + `", "database.port": "` + pgURL.Port() + `", "database.user": "` + pgURL.User.Username() + `",
				"database.password": "${env:PG_PASSWORD}", "database.dbname": "` + db.name + `", "database.sslmode": "disable",
				"slot.name": "` + db.name + `", "publication.name": "` + db.name + `", "topic.prefix": "` + db.name + `"}}`
		}}
}

// waitRunning waits until a connector and its task are RUNNING.
func (d *adminDaemon) waitRunning(name string) {
	d.t.Helper()
	d.waitFor(name+" RUNNING", func() bool {
		_, body := d.call("GET", "/connectors/"+name+"/status", "")
		return strings.Contains(body, `"connector":{"state":"RUNNING"`) && strings.Contains(body, `"tasks":[{"id":0,"state":"RUNNING"`)
	})
}

// waitBody waits until a GET answers want (compared as JSON data).
func (d *adminDaemon) waitBody(path, want string) {
	d.t.Helper()
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		d.t.Fatalf("bad expectation %s: %v", want, err)
	}
	var body string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var g any
		_, body = d.call("GET", path, "")
		if json.Unmarshal([]byte(body), &g) == nil && reflect.DeepEqual(g, w) {
			return
		}
	}
	d.t.Fatalf("GET %s answers %s, want %s; logs:\n%s", path, body, want, d.log())
}

// TestSinkOffsetsMoveTheConsumerGroup proves the sinks' offsets API on
// the real Kafka and Elasticsearch by re-indexing: an Elasticsearch sink
// that indexed every row is stopped, its offsets reset and its index
// deleted; resumed, it indexes every row again. Set to offset k instead,
// it indexes only the rows from the k-th record on. Beside it, a sink
// whose Elasticsearch does not answer shows that in its RUNNING status.
func TestSinkOffsetsMoveTheConsumerGroup(t *testing.T) {
	const rows = 20
	d := startAdminDaemon(t)
	d.db.exec(t, `CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)`,
		fmt.Sprintf(`INSERT INTO items SELECT i, 'item ' || i FROM generate_series(1, %d) i`, rows))
	topic := d.db.name + ".public.items"
	index := esIndex{url: testenv.ElasticsearchURL(t), name: topic}
	sink := d.db.name + "-es"
	kcl := kafkatest.NewClient(t, d.brokers)
	t.Cleanup(func() { dropGroupAndIndex(t, kcl, "connect-"+sink, index) })

	d.expect("POST", "/connectors", d.pgSource("pg"), 201, "")
	d.expect("POST", "/connectors", `{"name": "`+sink+`", "config": {"connector.class": "elasticsearch", "connection.url": "`+index.url+`",
		"topics": "`+topic+`", "key.ignore": "false"}}`, 201, "")
	ids := func(from, to int) []string {
		var out []string
		for i := from; i <= to; i++ {
			out = append(out, strconv.Itoa(i))
		}
		return out
	}
	waitIndex := func(want []string) {
		t.Helper()
		var got []string
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
			docs, err := index.docs(t.Context(), "id")
			got = got[:0]
			for _, doc := range docs {
				got = append(got, fmt.Sprint(doc.source["id"]))
			}
			slices.SortFunc(got, func(a, b string) int { x, _ := strconv.Atoi(a); y, _ := strconv.Atoi(b); return x - y })
			if err == nil && slices.Equal(got, want) {
				return
			}
		}
		t.Fatalf("index %s holds ids %v, want %v; logs:\n%s", index.name, got, want, d.log())
	}
	waitIndex(ids(1, rows))
	offsets := func(n int) string {
		return `{"offsets": [{"partition": {"kafka_topic": "` + topic + `", "kafka_partition": 0}, "offset": {"kafka_offset": ` + strconv.Itoa(n) + `}}]}`
	}
	d.waitBody("/connectors/"+sink+"/offsets", offsets(rows))
	d.expect("GET", "/connectors/pg/topics", "", 200, `{"pg": {"topics": ["`+topic+`"]}}`)
	d.expect("GET", "/connectors/"+sink+"/topics", "", 200, `{"`+sink+`": {"topics": ["`+topic+`"]}}`)

	// Reset: every record is read again.
	d.expect("DELETE", "/connectors/"+sink+"/offsets", "", 400, `{"error_code": 400, "message": "Connectors must be in the STOPPED state before their offsets can be modified. `+
		`This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/`+sink+`/stop' endpoint"}`)
	d.expect("PUT", "/connectors/"+sink+"/stop", "", 202, "")
	d.expect("DELETE", "/connectors/"+sink+"/offsets", "", 200, `{"message": "The offsets for this connector have been reset successfully"}`)
	d.expect("GET", "/connectors/"+sink+"/offsets", "", 200, `{"offsets": []}`)
	if err := index.remove(t.Context()); err != nil {
		t.Fatal(err)
	}
	d.expect("PUT", "/connectors/"+sink+"/resume", "", 202, "")
	waitIndex(ids(1, rows))
	d.waitBody("/connectors/"+sink+"/offsets", offsets(rows))

	// Altered: reading resumes at record k, the row with id k+1.
	const k = 12
	d.expect("PUT", "/connectors/"+sink+"/stop", "", 202, "")
	d.expect("PATCH", "/connectors/"+sink+"/offsets", `{"offsets": [{"partition": {"kafka_topic": "`+topic+`", "kafka_partition": 0}, "offset": {"kafka_offset": `+strconv.Itoa(k)+`}}]}`, 200,
		`{"message": "The offsets for this connector have been altered successfully"}`)
	d.expect("GET", "/connectors/"+sink+"/offsets", "", 200, offsets(k))
	d.expect("PATCH", "/connectors/"+sink+"/offsets", `{"offsets": [{"partition": {"kafka_topic": "`+topic+`", "kafka_partition": 7}, "offset": {"kafka_offset": 1}}]}`, 400,
		`{"error_code": 400, "message": "Failed to alter consumer group offsets for connector `+sink+` (consumer group connect-`+sink+`): invalid offset: topic `+topic+` has no partition 7"}`)
	if err := index.remove(t.Context()); err != nil {
		t.Fatal(err)
	}
	d.expect("PUT", "/connectors/"+sink+"/resume", "", 202, "")
	waitIndex(ids(k+1, rows))
	d.waitBody("/connectors/"+sink+"/offsets", offsets(rows))
	time.Sleep(time.Second)
	waitIndex(ids(k+1, rows))

	// A sink whose Elasticsearch does not answer says so while RUNNING.
	down := freeAddr(t)
	d.expect("POST", "/connectors", `{"name": "unreachable", "config": {"connector.class": "elasticsearch", "connection.url": "http://`+down+`",
		"topics": "`+d.db.name+`.nothing"}}`, 201, "")
	trace := "Elasticsearch at http://" + down + " cannot be reached: dial tcp " + down + ": connect: connection refused"
	d.waitBody("/connectors/unreachable/status", `{"name": "unreachable", "connector": {"state": "RUNNING", "worker_id": "`+d.worker+`", "trace": "`+trace+`"},
		"tasks": [{"id": 0, "state": "RUNNING", "worker_id": "`+d.worker+`", "trace": "`+trace+`"}], "type": "sink"}`)
	d.expect("GET", "/connectors/"+sink+"/status", "", 200, `{"name": "`+sink+`", "connector": {"state": "RUNNING", "worker_id": "`+d.worker+`"},
		"tasks": [{"id": 0, "state": "RUNNING", "worker_id": "`+d.worker+`"}], "type": "sink"}`)
	// An SSE sink commits no offsets: there are none to change.
	d.expect("POST", "/connectors", `{"name": "events", "config": {"connector.class": "sse", "topics": "`+topic+`"}, "initial_state": "STOPPED"}`, 201, "")
	d.expect("GET", "/connectors/events/offsets", "", 200, `{"offsets": []}`)
	d.expect("PATCH", "/connectors/events/offsets", `{"offsets": [{"partition": {"kafka_topic": "`+topic+`", "kafka_partition": 0}, "offset": {"kafka_offset": 1}}]}`, 400,
		`{"error_code": 400, "message": "Connector events (class sse) commits no consumer group offsets: there are none to alter"}`)
}

// TestSourceOffsetsMoveTheDatabasePosition proves the sources' offsets API
// on the real databases: a Postgres source whose offset is set to a newer
// LSN resumes there, its slot advanced, and an older one is refused;
// MySQL positions are checked against the server. It also sets a
// connector's log level and restarts its task.
func TestSourceOffsetsMoveTheDatabasePosition(t *testing.T) {
	d := startAdminDaemon(t)
	d.db.exec(t, `CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)`, `INSERT INTO items VALUES (1, 'first')`)
	topic := newTopicReader(t, d.brokers, d.reg.URL, d.db.name+".public.items")

	// The connector's logger, quiet before the connector exists.
	d.expect("PUT", "/admin/loggers/io.sluice.connector.pg", `{"level": "warn"}`, 200, `["io.sluice.connector.pg"]`)
	d.expect("POST", "/connectors", d.pgSource("pg"), 201, "")
	d.waitRunning("pg")
	topic.expect(t, "r 1 first")
	streaming := func() int {
		n := 0
		for _, line := range strings.Split(d.log(), "\n") {
			if strings.Contains(line, `"msg":"streaming started"`) && strings.Contains(line, `"connector":"pg"`) {
				n++
			}
		}
		return n
	}
	time.Sleep(500 * time.Millisecond)
	if n := streaming(); n != 0 {
		t.Fatalf("pg logged at INFO while its logger was at WARN: %d lines", n)
	}
	d.expect("GET", "/admin/loggers/root", "", 200, `{"level": "INFO", "last_modified": null}`)
	d.expect("PUT", "/admin/loggers/io.sluice.connector.pg", `{"level": "INFO"}`, 200, `["io.sluice.connector.pg"]`)
	d.expect("POST", "/connectors/pg/tasks/0/restart", "", 204, "")
	d.expect("POST", "/connectors/pg/tasks/1/restart", "", 404, `{"error_code": 404, "message": "Task pg-1 not found"}`)
	d.waitFor("pg's restarted task logging at INFO", func() bool { return streaming() == 1 })
	d.waitRunning("pg")

	// Offsets are changed while the connector is STOPPED; its slot is at
	// the position it confirmed once its walsender has ended (which reads
	// the last standby status a moment after the connector closed).
	d.expect("PUT", "/connectors/pg/stop", "", 202, "")
	var confirmed string
	d.waitFor("pg's slot released", func() bool {
		var released bool
		err := d.db.conn.QueryRow(t.Context(), "SELECT active_pid IS NULL, confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1", d.db.name).Scan(&released, &confirmed)
		if err != nil {
			t.Fatal(err)
		}
		return released
	})
	from, _ := pglogrepl.ParseLSN(confirmed)
	d.db.exec(t, "SET synchronous_commit = on", `INSERT INTO items VALUES (2, 'skipped')`)
	var flushed string
	if err := d.db.conn.QueryRow(t.Context(), "SELECT pg_current_wal_flush_lsn()::text").Scan(&flushed); err != nil {
		t.Fatal(err)
	}
	to, _ := pglogrepl.ParseLSN(flushed)
	d.db.exec(t, `INSERT INTO items VALUES (3, 'kept')`)

	partition := `{"server": "` + d.db.name + `"}`
	d.expect("PATCH", "/connectors/pg/offsets", `{"offsets": [{"partition": `+partition+`, "offset": {"lsn": "0/1"}}]}`, 400,
		`{"error_code": 400, "message": "invalid offset: lsn 0/1 is before replication slot \"`+d.db.name+`\"'s confirmed position `+from.String()+
			`: a slot never moves back, and the server may already have removed the WAL before that position. Give an LSN at or after `+from.String()+
			`, or DELETE the offsets to take a new snapshot"}`)
	d.expect("PATCH", "/connectors/pg/offsets", `{"offsets": [{"partition": `+partition+`, "offset": {"lsn": "`+to.String()+`"}}]}`, 200,
		`{"message": "The offsets for this connector have been altered successfully"}`)
	d.expect("GET", "/connectors/pg/offsets", "", 200, `{"offsets": [{"partition": `+partition+`, "offset": {"lsn": `+strconv.FormatUint(uint64(to), 10)+`, "snapshot_completed": true}}]}`)
	if err := d.db.conn.QueryRow(t.Context(), "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1", d.db.name).Scan(&confirmed); err != nil || confirmed != to.String() {
		t.Fatalf("slot confirmed at %s (%v), want %s", confirmed, err, to)
	}
	// Resumed, it streams from there: the change before is skipped.
	d.expect("PUT", "/connectors/pg/resume", "", 202, "")
	d.waitRunning("pg")
	topic.expect(t, "r 1 first", "c 3 kept")
	time.Sleep(time.Second)
	topic.expect(t, "r 1 first", "c 3 kept")
	d.expect("GET", "/connectors/pg/topics", "", 200, `{"pg": {"topics": ["`+d.db.name+`.public.items"]}}`)

	// MySQL: a position is checked against the server before it is stored.
	my := mysqltest.Lookup(t)
	conn := mysqltest.Connect(t)
	res, err := conn.Execute("SHOW MASTER STATUS")
	if err != nil || len(res.Values) == 0 {
		t.Fatalf("SHOW MASTER STATUS: %v", err)
	}
	file, _ := res.GetString(0, 0)
	pos, _ := res.GetInt(0, 1)
	d.expect("POST", "/connectors", `{"name": "my", "config": {"connector.class": "mysql", "database.hostname": "`+my.Host()+`", "database.port": "`+my.Port()+`",
		"database.user": "`+my.User+`", "database.password": "`+my.Password+`", "database.server.id": "7402", "topic.prefix": "`+d.db.name+`my"}, "initial_state": "STOPPED"}`, 201, "")
	myPartition := `{"server": "` + d.db.name + `my"}`
	d.expect("PATCH", "/connectors/my/offsets", `{"offsets": [{"partition": `+myPartition+`, "offset": {"file": "`+file+`", "pos": 3}}]}`, 400,
		`{"error_code": 400, "message": "invalid offset: pos 3 is not a position in `+file+`: events start at 4"}`)
	d.expect("PATCH", "/connectors/my/offsets", `{"offsets": [{"partition": `+myPartition+`, "offset": {"file": "`+file+`", "pos": `+strconv.FormatInt(pos, 10)+`}}]}`, 200,
		`{"message": "The offsets for this connector have been altered successfully"}`)
	d.expect("GET", "/connectors/my/offsets", "", 200, `{"offsets": [{"partition": `+myPartition+`, "offset": {"file": "`+file+`", "pos": `+strconv.FormatInt(pos, 10)+`, "snapshot_completed": true}}]}`)
	d.expect("DELETE", "/connectors/my/offsets", "", 200, `{"message": "The offsets for this connector have been reset successfully"}`)
	d.expect("GET", "/connectors/my/offsets", "", 200, `{"offsets": []}`)
	d.terminate(10 * time.Second)
}
