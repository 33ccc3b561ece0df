package mysql_test

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/metrics"
	"github.com/sluice-cdc/sluice/connectors/mysql"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/registry"
	"github.com/sluice-cdc/sluice/testenv"
	"github.com/sluice-cdc/sluice/testenv/kafkatest"
	"github.com/sluice-cdc/sluice/testenv/offsetstest"
	"github.com/sluice-cdc/sluice/testenv/registrytest"
	"github.com/sluice-cdc/sluice/testenv/sourcetest"
	"github.com/sluice-cdc/sluice/testenv/topictest"
)

// harness runs the MySQL source into the real Kafka, capturing a database
// of its own on the real MariaDB, with schemas in an embedded registry.
type harness struct {
	t                    *testing.T
	user, pass, addr, db string
	conn                 *client.Conn
	brokers              []string
	reg                  *registry.Client
	regURL               string
	offsets              *offsetstest.Memory
	metrics              *metrics.Registry
	// signals are the source's signals from the daemon, and its snapshots' state.
	signals  connectors.Signals
	serverID string
	extra    map[string]string
	// noRowMetadata strips the table maps' column names and metadata, as
	// if the server logged binlog_row_metadata=NO_LOG.
	noRowMetadata bool

	run    *sourcetest.Source
	reader *topictest.Reader
}

func newHarness(t *testing.T, extra map[string]string) *harness {
	t.Helper()
	h := &harness{t: t, brokers: testenv.KafkaBrokers(t), offsets: &offsetstest.Memory{}, extra: extra,
		metrics: metrics.NewRegistry(), serverID: strconv.Itoa(100000 + rand.IntN(1<<20))}
	h.user, h.pass, h.addr, _ = splitDSN(t, testenv.MySQLDSN(t))
	h.db = testenv.Name(t, "my")
	kafkatest.DeleteTopicsAtCleanup(t, h.brokers, func(topic string) bool { return strings.Contains(topic, h.db) })
	h.conn = h.connect()
	h.exec("CREATE DATABASE " + h.db)
	t.Cleanup(func() {
		_ = h.stop()
		_, _ = h.conn.Execute("DROP DATABASE IF EXISTS " + h.db)
		h.conn.Close()
	})
	h.exec("USE " + h.db)
	reg := registrytest.Start(t, h.brokers, "_schemas_"+h.db)
	h.reg, h.regURL = reg.Client, reg.URL
	h.reader = topictest.NewReader(h.brokers, h.reg)
	return h
}

func (h *harness) connect() *client.Conn {
	h.t.Helper()
	conn, err := client.Connect(h.addr, h.user, h.pass, "")
	if err != nil {
		h.t.Fatal(err)
	}
	return conn
}

func splitDSN(t *testing.T, dsn string) (user, pass, addr, db string) {
	cred, rest, ok1 := strings.Cut(dsn, "@tcp(")
	addr, db, ok2 := strings.Cut(rest, ")/")
	user, pass, _ = strings.Cut(cred, ":")
	if !ok1 || !ok2 {
		t.Fatalf("cannot parse MySQL DSN %q", dsn)
	}
	return user, pass, addr, db
}

func (h *harness) exec(sqls ...string) {
	h.t.Helper()
	for _, sql := range sqls {
		if _, err := h.conn.Execute(sql); err != nil {
			h.t.Fatalf("%s: %v", sql, err)
		}
	}
}

// config is the connector configuration as a user would write it.
func (h *harness) config() map[string]string {
	host, port, _ := strings.Cut(h.addr, ":")
	raw := map[string]string{
		"connector.class":   "io.debezium.connector.mysql.MySqlConnector",
		"database.hostname": host, "database.port": port,
		"database.user": h.user, "database.password": h.pass,
		"database.server.id": h.serverID, "topic.prefix": h.db,
		"database.include.list":       h.db,
		"producer.override.linger.ms": "1",
	}
	for k, v := range h.extra {
		raw[k] = v
	}
	return raw
}

func (h *harness) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// start runs the source until stop.
func (h *harness) start() {
	h.t.Helper()
	if h.run != nil {
		h.t.Fatal("already running")
	}
	opts := []sourcetest.Option{sourcetest.WithOffsets(h.offsets), sourcetest.WithMetrics(h.metrics), sourcetest.WithSignals(&h.signals)}
	if h.noRowMetadata {
		opts = append(opts, sourcetest.WithNewSource(mysql.NewWithoutRowMetadata))
	}
	h.run = h.target().StartSource(h.t, h.config(), opts...)
}

// target is where the harness's sources write: its Kafka and registry.
func (h *harness) target() sourcetest.Target {
	return sourcetest.Target{Brokers: h.brokers, Registry: h.reg, RegistryURL: h.regURL}
}

// startChild runs the source in a child process with state as its state
// directory, writing to the harness's Kafka and registry.
func (h *harness) startChild(state string) *sourcetest.Child {
	h.t.Helper()
	return h.target().StartChild(h.t, h.config(), state)
}

// waitRunning waits until the source reported RUNNING: its start position
// is stored.
func (h *harness) waitRunning() {
	h.t.Helper()
	h.run.WaitRunning()
}

// stop stops the source and returns what Run returned, other than the
// cancellation itself.
func (h *harness) stop() error {
	if h.run == nil {
		return nil
	}
	r := h.run
	h.run = nil
	return r.Stop()
}

// wait returns the error that ended Run on its own, failing after timeout.
func (h *harness) wait(timeout time.Duration) error {
	h.t.Helper()
	r := h.run
	h.run = nil
	return r.Wait(timeout)
}

// checkRunning fails the test if the source stopped on its own.
func (h *harness) checkRunning() {
	h.t.Helper()
	if h.run != nil {
		h.run.Alive()
	}
}

// record is a change read back from Kafka and decoded with the schema the
// registry holds for its id.
type record struct {
	key   event.Row
	value *event.Event
}

func (h *harness) topic(table string) string { return h.db + "." + h.db + "." + table }

// read consumes a topic from the start until n records arrived, decoded.
func (h *harness) read(topic string, n int) []record {
	h.t.Helper()
	return h.records(h.reader.Read(h.t, topic, n, h.checkRunning))
}

// readAll consumes a single-partition topic from the start to its current end.
func (h *harness) readAll(topic string) []record {
	h.t.Helper()
	return h.records(h.reader.ReadAll(h.t, topic, h.checkRunning))
}

// settle waits until a topic stops growing for a second, and returns its records.
func (h *harness) settle(topic string, atLeast int) []record {
	h.t.Helper()
	recs := h.read(topic, atLeast)
	for {
		time.Sleep(time.Second)
		more := h.readAll(topic)
		if len(more) == len(recs) {
			return more
		}
		recs = more
	}
}

// records are the changes of records read back, failing the test for a
// record that holds no change.
func (h *harness) records(rs []topictest.Record) []record {
	h.t.Helper()
	out := make([]record, len(rs))
	for i, r := range rs {
		key, change, err := r.Change()
		if err != nil {
			h.t.Fatal(err)
		}
		// The decoded event names its columns through a table built from
		// the value schema's row fields.
		if change != nil {
			t := &event.Table{}
			for _, f := range r.RowSchema().Fields {
				t.Columns = append(t.Columns, event.Column{Name: f.Name, Schema: f.Schema})
			}
			change.Table = t
		}
		out[i] = record{key: key, value: change}
	}
	return out
}

// values returns the records' events (tombstones left out).
func values(rs []record) []*event.Event {
	var out []*event.Event
	for _, r := range rs {
		if r.value != nil {
			out = append(out, r.value)
		}
	}
	return out
}

// field returns the named column's value of a row of an event's table.
func field(e *event.Event, row event.Row, name string) any {
	for i, c := range e.Table.Columns {
		if c.Name == name {
			return row[i]
		}
	}
	return fmt.Sprintf("<no column %s>", name)
}

func ops(es []*event.Event) string {
	var b strings.Builder
	for _, e := range es {
		b.WriteString(e.Op.String())
	}
	return b.String()
}
