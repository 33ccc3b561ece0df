package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/metrics"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/registry"
	"github.com/sluice-cdc/sluice/testenv"
	"github.com/sluice-cdc/sluice/testenv/offsetstest"
	"github.com/sluice-cdc/sluice/testenv/pgtest"
	"github.com/sluice-cdc/sluice/testenv/registrytest"
	"github.com/sluice-cdc/sluice/testenv/sourcetest"
	"github.com/sluice-cdc/sluice/testenv/topictest"
)

// harness runs the Postgres source into the real Kafka, against a database
// of its own on the real Postgres, with schemas in an embedded registry.
type harness struct {
	t       *testing.T
	pg      *pgtest.Database
	db      *pgx.Conn // a connection to pg
	prefix  string
	slot    string
	brokers []string
	reg     *registry.Client
	regURL  string
	offsets *offsetstest.Memory
	metrics *metrics.Registry
	// signals are the source's signals from the daemon, and its snapshots' state.
	signals connectors.Signals
	extra   map[string]string
	// log, when set, collects the source's log.
	log *sourcetest.Log

	// wrap, when set, wraps the pipeline the source emits to.
	wrap   func(connectors.Emitter, context.CancelFunc) connectors.Emitter
	run    *sourcetest.Source
	reader *topictest.Reader
}

func newHarness(t *testing.T, extra map[string]string) *harness {
	t.Helper()
	h := &harness{t: t, pg: pgtest.NewDatabase(t, "pgsrc"), brokers: testenv.KafkaBrokers(t), offsets: &offsetstest.Memory{}, extra: extra,
		metrics: metrics.NewRegistry()}
	h.prefix, h.slot = h.pg.Name, h.pg.Name
	t.Cleanup(func() { h.stop() }) // runs before the database is dropped
	h.db = h.pg.Connect(t)
	reg := registrytest.Start(t, h.brokers, "_schemas_"+h.pg.Name)
	h.reg, h.regURL = reg.Client, reg.URL
	h.reader = topictest.NewReader(h.brokers, h.reg)
	return h
}

func (h *harness) exec(sqls ...string) {
	h.t.Helper()
	pgtest.Exec(h.t, h.db, sqls...)
}

// config is the connector configuration as a user would write it.
func (h *harness) config() map[string]string {
	u := &h.pg.URL
	pw, _ := u.User.Password()
	raw := map[string]string{
		"connector.class":   "io.debezium.connector.postgresql.PostgresConnector",
		"database.hostname": u.Hostname(), "database.port": u.Port(),
		"database.user": u.User.Username(), "database.password": pw,
		"database.dbname": h.pg.Name, "database.sslmode": "disable",
		"topic.prefix": h.prefix, "slot.name": h.slot, "publication.name": h.pg.Name,
		"producer.override.linger.ms": "1",
	}
	for k, v := range h.extra {
		raw[k] = v
	}
	return raw
}

// start runs the source until stop.
func (h *harness) start() {
	h.t.Helper()
	if h.run != nil {
		h.t.Fatal("already running")
	}
	opts := []sourcetest.Option{sourcetest.WithOffsets(h.offsets), sourcetest.WithMetrics(h.metrics), sourcetest.WithSignals(&h.signals)}
	if h.wrap != nil {
		opts = append(opts, sourcetest.WithEmitter(h.wrap))
	}
	if h.log != nil {
		opts = append(opts, sourcetest.WithLog(h.log))
	}
	h.run = h.target().StartSource(h.t, h.config(), opts...)
}

// target is where the harness's sources write: its Kafka and registry.
func (h *harness) target() sourcetest.Target {
	return sourcetest.Target{Brokers: h.brokers, Registry: h.reg, RegistryURL: h.regURL}
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

// waitStreaming waits until the source holds its slot and the slot has
// reached its consistent point (confirmed_flush_lsn is set then): changes
// committed from then on are streamed, not snapshotted. Changes committed
// while a new slot still waits for running transactions to end come before
// that point and are in neither.
func (h *harness) waitStreaming() {
	h.t.Helper()
	pgtest.WaitStreaming(h.t, h.db, h.slot, h.checkRunning)
}

// record is a change read back from Kafka and decoded with the schema the
// registry holds for its id.
type record struct {
	key    event.Row // nil for a null key
	value  *event.Event
	offset int64
}

// topic is the topic of a table in the public schema.
func (h *harness) topic(table string) string { return h.prefix + ".public." + table }

// read consumes a topic from the start until n records arrived, decoded.
func (h *harness) read(topic string, n int) []record {
	h.t.Helper()
	return h.records(h.reader.Read(h.t, topic, n, h.checkRunning))
}

// readRaw consumes a topic from the start until n records arrived.
func (h *harness) readRaw(topic string, n int) []*kgo.Record {
	h.t.Helper()
	var out []*kgo.Record
	for _, r := range h.reader.Read(h.t, topic, n, h.checkRunning) {
		out = append(out, r.Raw)
	}
	return out
}

// readAll consumes a single-partition topic from the start to its current end.
func (h *harness) readAll(topic string) []record {
	h.t.Helper()
	return h.records(h.reader.ReadAll(h.t, topic, h.checkRunning))
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
		out[i] = record{key: key, value: change, offset: r.Raw.Offset}
	}
	return out
}

// slotLSN returns the slot's confirmed_flush_lsn as text.
func (h *harness) slotLSN() string {
	var lsn *string
	err := h.db.QueryRow(context.Background(), "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1", h.slot).Scan(&lsn)
	if err != nil || lsn == nil {
		return ""
	}
	return *lsn
}

func describe(rs []record) string {
	var b strings.Builder
	for _, r := range rs {
		if r.value == nil {
			b.WriteString(" tombstone")
			continue
		}
		b.WriteString(" " + r.value.Op.String())
	}
	return b.String()
}
