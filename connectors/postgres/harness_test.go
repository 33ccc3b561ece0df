package postgres_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/kafka"
	"github.com/sluice-cdc/sluice/connectors/metrics"
	"github.com/sluice-cdc/sluice/connectors/postgres"
	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/registry"
	"github.com/sluice-cdc/sluice/schema/registry/embedded"
	"github.com/sluice-cdc/sluice/testenv"
)

// harness runs the Postgres source into the real Kafka, against a database
// of its own on the real Postgres, with schemas in an embedded registry.
type harness struct {
	t       *testing.T
	db      *pgx.Conn // the test's database
	dbName  string
	prefix  string
	slot    string
	pgURL   *url.URL
	brokers []string
	reg     *registry.Client
	regURL  string
	offsets *memOffsets
	metrics *metrics.Registry
	extra   map[string]string

	// wrap, when set, wraps the pipeline the source emits to.
	wrap   func(connectors.Emitter, context.CancelFunc) connectors.Emitter
	run    *running
	codecs map[uint32]*schema.Codec
	envs   map[uint32]*schema.EnvelopeCodec
}

type running struct {
	cancel context.CancelFunc
	done   chan error
	client *kgo.Client
}

func newHarness(t *testing.T, extra map[string]string) *harness {
	t.Helper()
	rawURL := testenv.PostgresURL(t)
	brokers := testenv.KafkaBrokers(t)
	ctx := context.Background()
	h := &harness{t: t, brokers: brokers, offsets: &memOffsets{m: map[string][]byte{}}, extra: extra, metrics: metrics.NewRegistry(),
		codecs: map[uint32]*schema.Codec{}, envs: map[uint32]*schema.EnvelopeCodec{}}
	h.dbName = testenv.Name(t, "pgsrc")
	h.prefix, h.slot = h.dbName, h.dbName
	var err error
	if h.pgURL, err = url.Parse(rawURL); err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(ctx, rawURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+h.dbName); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.stop()
		// A slot stays active until its walsender notices the client left,
		// and a database with a slot cannot be dropped: wait for it.
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			var left int
			admin.QueryRow(ctx, "SELECT count(*) FROM pg_replication_slots WHERE database = $1", h.dbName).Scan(&left)
			if left == 0 {
				break
			}
			admin.Exec(ctx, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1 AND NOT active", h.dbName)
		}
		admin.Exec(ctx, "DROP DATABASE "+h.dbName+" WITH (FORCE)")
		admin.Close(ctx)
	})
	h.db = h.connect(t)

	reg, err := embedded.New(ctx, brokers, embedded.WithTopic("_schemas_"+h.dbName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(reg.Close)
	if err := reg.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(reg)
	t.Cleanup(srv.Close)
	h.regURL = srv.URL
	if h.reg, err = registry.New(srv.URL); err != nil {
		t.Fatal(err)
	}
	return h
}

// connect opens a connection to the test's database.
func (h *harness) connect(t *testing.T) *pgx.Conn {
	u := *h.pgURL
	u.Path = "/" + h.dbName
	conn, err := pgx.Connect(context.Background(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func (h *harness) exec(sqls ...string) {
	h.t.Helper()
	for _, s := range sqls {
		if _, err := h.db.Exec(context.Background(), s); err != nil {
			h.t.Fatalf("%s: %v", s, err)
		}
	}
}

// config is the connector configuration as a user would write it.
func (h *harness) config() map[string]string {
	pw, _ := h.pgURL.User.Password()
	raw := map[string]string{
		"connector.class":   "io.debezium.connector.postgresql.PostgresConnector",
		"database.hostname": h.pgURL.Hostname(), "database.port": h.pgURL.Port(),
		"database.user": h.pgURL.User.Username(), "database.password": pw,
		"database.dbname": h.dbName, "database.sslmode": "disable",
		"topic.prefix": h.prefix, "slot.name": h.slot, "publication.name": h.dbName,
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
	c, err := postgres.Spec.Parse(h.config())
	if err != nil {
		h.t.Fatal(err)
	}
	cfg, err := postgres.ParseConfig(c)
	if err != nil {
		h.t.Fatal(err)
	}
	client, err := kgo.NewClient(append(cfg.Producer.ClientOpts(), kgo.SeedBrokers(h.brokers...))...)
	if err != nil {
		h.t.Fatal(err)
	}
	var w *kafka.Writer
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	w = kafka.NewWriter(client, h.reg, cfg.Producer.Topics(client),
		schema.Options{Prefix: cfg.TopicPrefix, Connector: "postgresql"}, kafka.WithTombstones(cfg.Tombstones), kafka.WithLogger(logger))
	src := postgres.New(cfg, connectors.Env{Name: "test", Version: "test", Logger: logger, Offsets: h.offsets, StateDir: h.t.TempDir(), Metrics: h.metrics})
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1), client: client}
	var out connectors.Emitter = w
	if h.wrap != nil {
		out = h.wrap(w, cancel)
	}
	go func() { r.done <- src.Run(ctx, out) }()
	h.run = r
}

// stop stops the source and returns what Run returned, other than the
// cancellation itself.
func (h *harness) stop() error {
	if h.run == nil {
		return nil
	}
	r := h.run
	h.run = nil
	r.cancel()
	err := <-r.done
	r.client.Close()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// wait returns the error that ended Run on its own, failing after timeout.
func (h *harness) wait(timeout time.Duration) error {
	h.t.Helper()
	select {
	case err := <-h.run.done:
		h.run.client.Close()
		h.run = nil
		return err
	case <-time.After(timeout):
		h.t.Fatal("source still running")
		return nil
	}
}

// checkRunning fails the test if the source stopped on its own.
func (h *harness) checkRunning() {
	h.t.Helper()
	if h.run == nil {
		return
	}
	select {
	case err := <-h.run.done:
		h.run.client.Close()
		h.run = nil
		h.t.Fatalf("source stopped: %v", err)
	default:
	}
}

// waitStreaming waits until the source holds its slot and the slot has
// reached its consistent point (confirmed_flush_lsn is set then): changes
// committed from then on are streamed, not snapshotted. Changes committed
// while a new slot still waits for running transactions to end come before
// that point and are in neither.
func (h *harness) waitStreaming() {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		h.checkRunning()
		var active bool
		h.db.QueryRow(context.Background(), "SELECT active AND confirmed_flush_lsn IS NOT NULL FROM pg_replication_slots WHERE slot_name = $1", h.slot).Scan(&active)
		if active {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.t.Fatal("source did not start streaming within 30s")
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
	raw := h.readRaw(topic, n)
	out := make([]record, len(raw))
	for i, r := range raw {
		out[i] = h.decode(r)
	}
	return out
}

// readRaw consumes a topic from the start until n records arrived.
func (h *harness) readRaw(topic string, n int) []*kgo.Record {
	h.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(h.brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		h.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		h.checkRunning()
		pctx, pcancel := context.WithTimeout(ctx, time.Second)
		fs := cl.PollFetches(pctx)
		pcancel()
		if ctx.Err() != nil {
			h.t.Fatalf("topic %s: got %d records, want %d", topic, len(out), n)
		}
		fs.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				h.t.Logf("fetch: %v", err)
			}
		})
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r) })
	}
	return out
}

// readAll consumes a single-partition topic from the start to its current end.
func (h *harness) readAll(topic string) []record {
	h.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(h.brokers...))
	if err != nil {
		h.t.Fatal(err)
	}
	ends, err := kadm.NewClient(cl).ListEndOffsets(context.Background(), topic)
	cl.Close()
	if err != nil {
		h.t.Fatal(err)
	}
	end, ok := ends.Lookup(topic, 0)
	if !ok || end.Err != nil {
		h.t.Fatalf("end offset of %s: %v", topic, end.Err)
	}
	if end.Offset == 0 {
		return nil
	}
	return h.read(topic, int(end.Offset))
}

func (h *harness) decode(r *kgo.Record) record {
	h.t.Helper()
	rec := record{offset: r.Offset}
	if r.Key != nil {
		id, body, err := schema.SplitFrame(r.Key)
		if err != nil {
			h.t.Fatal(err)
		}
		codec := h.codec(id)
		v, err := codec.Decode(body)
		if err != nil {
			h.t.Fatal(err)
		}
		rec.key = v.(event.Row)
	}
	if r.Value != nil {
		id, body, err := schema.SplitFrame(r.Value)
		if err != nil {
			h.t.Fatal(err)
		}
		env := h.envs[id]
		if env == nil {
			var err error
			if env, err = schema.NewEnvelopeCodec(h.codec(id).Schema(), nil); err != nil {
				h.t.Fatal(err)
			}
			h.envs[id] = env
		}
		rec.value = &event.Event{}
		if err := env.Decode(body, rec.value); err != nil {
			h.t.Fatal(err)
		}
	}
	return rec
}

func (h *harness) codec(id uint32) *schema.Codec {
	h.t.Helper()
	if c := h.codecs[id]; c != nil {
		return c
	}
	s, err := h.reg.Schema(context.Background(), int(id))
	if err != nil {
		h.t.Fatal(err)
	}
	es, err := schema.FromAvro(s.Text)
	if err != nil {
		h.t.Fatal(err)
	}
	c, err := schema.NewCodec(es)
	if err != nil {
		h.t.Fatal(err)
	}
	h.codecs[id] = c
	return c
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

// memOffsets keeps offsets in memory across the restarts of one test.
type memOffsets struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (o *memOffsets) Load(_ context.Context, key string) ([]byte, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.m[key], nil
}

func (o *memOffsets) Save(_ context.Context, key string, v []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.m[key] = append([]byte(nil), v...)
	return nil
}
