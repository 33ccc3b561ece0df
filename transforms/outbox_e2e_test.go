package transforms_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/kafka"
	_ "github.com/sluice-cdc/sluice/connectors/postgres"
	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/schema/registry"
	"github.com/sluice-cdc/sluice/testenv"
	"github.com/sluice-cdc/sluice/testenv/kafkatest"
	"github.com/sluice-cdc/sluice/testenv/offsetstest"
	"github.com/sluice-cdc/sluice/testenv/pgtest"
	"github.com/sluice-cdc/sluice/testenv/registrytest"
	"github.com/sluice-cdc/sluice/transforms"
)

// outboxEvent is a record read back from an outbox topic.
type outboxEvent struct {
	key, id, eventType string
	payload            any // the JSON payload, decoded
}

// The outbox pattern end to end: rows inserted into an outbox table on the
// test PostgreSQL — one before the source starts (a snapshot read), the
// rest while it streams — reach Kafka through the Postgres source and the
// EventRouter as records on outbox.event.<aggregatetype>, keyed by
// aggregateid, with the payload as value and the headers id and (placed)
// type. The update and the delete of the table reach no topic.
func TestOutboxEventRouterOnPostgres(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	pg := pgtest.NewDatabase(t, "outbox")
	suffix := strings.TrimPrefix(pg.Name, "outbox_")
	order, customer := "Order"+suffix, "Customer"+suffix
	kafkatest.DeleteTopicsAtCleanup(t, brokers, func(topic string) bool { return strings.HasSuffix(topic, suffix) })
	reg := registrytest.Start(t, brokers, "_schemas_"+pg.Name)

	conn := pg.Connect(t)
	pgtest.Exec(t, conn,
		`CREATE TABLE outbox (id uuid PRIMARY KEY, aggregatetype varchar(255) NOT NULL, aggregateid varchar(255) NOT NULL, type varchar(255) NOT NULL, payload jsonb)`,
		insertEvent("8a1f9f5e-4a8c-4f0e-9b57-0c1b1d2e3f40", order, "1", "OrderCreated", `{"id": 1, "lines": [{"item": "Debezium in Action", "qty": 1}]}`),
	)

	u := pg.URL
	pw, _ := u.User.Password()
	raw := map[string]string{
		"connector.class":   "io.debezium.connector.postgresql.PostgresConnector",
		"database.hostname": u.Hostname(), "database.port": u.Port(),
		"database.user": u.User.Username(), "database.password": pw,
		"database.dbname": pg.Name, "database.sslmode": "disable",
		"topic.prefix": pg.Name, "slot.name": pg.Name, "publication.name": pg.Name,
		"table.include.list":          "public.outbox",
		"producer.override.linger.ms": "1",
		"transforms":                  "outbox",
		"transforms.outbox.type":      "io.debezium.transforms.outbox.EventRouter",
		"transforms.outbox.table.fields.additional.placement": "type:header:eventType",
	}
	running := startSource(t, brokers, reg.Client, raw)
	select {
	case <-running:
	case <-time.After(60 * time.Second):
		t.Fatal("the source did not report Running within 60 s")
	}

	pgtest.Exec(t, conn,
		insertEvent("5b0c6d1e-7f2a-4b3c-8d4e-5f6a7b8c9d01", order, "2", "OrderCreated", `{"id": 2, "lines": []}`),
		insertEvent("c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f", customer, "42", "CustomerRegistered", `{"name": "Anne"}`),
		`UPDATE outbox SET payload = '{"id": 2, "edited": true}' WHERE aggregateid = '2'`,
		`DELETE FROM outbox WHERE aggregateid = '1'`,
		insertEvent("0f1e2d3c-4b5a-4968-8776-655443322110", order, "1", "OrderCancelled", `{"id": 1, "reason": "changed mind"}`),
	)

	orders := readOutbox(t, brokers, reg.Client, "outbox.event."+order, 3)
	wantOrders := []outboxEvent{
		{key: "1", id: "8a1f9f5e-4a8c-4f0e-9b57-0c1b1d2e3f40", eventType: "OrderCreated", payload: decodeJSON(t, `{"id": 1, "lines": [{"item": "Debezium in Action", "qty": 1}]}`)},
		{key: "2", id: "5b0c6d1e-7f2a-4b3c-8d4e-5f6a7b8c9d01", eventType: "OrderCreated", payload: decodeJSON(t, `{"id": 2, "lines": []}`)},
		{key: "1", id: "0f1e2d3c-4b5a-4968-8776-655443322110", eventType: "OrderCancelled", payload: decodeJSON(t, `{"id": 1, "reason": "changed mind"}`)},
	}
	if !reflect.DeepEqual(orders, wantOrders) {
		t.Errorf("outbox.event.%s holds\n%v\nwant\n%v", order, orders, wantOrders)
	}
	customers := readOutbox(t, brokers, reg.Client, "outbox.event."+customer, 1)
	wantCustomers := []outboxEvent{{key: "42", id: "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f", eventType: "CustomerRegistered", payload: map[string]any{"name": "Anne"}}}
	if !reflect.DeepEqual(customers, wantCustomers) {
		t.Errorf("outbox.event.%s holds\n%v\nwant\n%v", customer, customers, wantCustomers)
	}
	// The table's own topic was never written: every change went through the router.
	if n := countRecords(t, brokers, pg.Name+".public.outbox"); n != 0 {
		t.Errorf("the outbox table's topic holds %d records, want none", n)
	}
}

func insertEvent(id, aggregateType, aggregateID, typ, payload string) string {
	return fmt.Sprintf(`INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES ('%s', '%s', '%s', '%s', '%s')`,
		id, aggregateType, aggregateID, typ, payload)
}

// startSource runs a Postgres source configured by raw into Kafka in
// process, as the daemon runs it — its transforms built with
// transforms.Build and plugged in with kafka.WithStage — until the test
// ends. The channel closes when the source reports Running.
func startSource(t *testing.T, brokers []string, reg *registry.Client, raw map[string]string) <-chan struct{} {
	t.Helper()
	class, ok := connectors.Lookup(raw["connector.class"])
	if !ok {
		t.Fatalf("no connector class %s", raw["connector.class"])
	}
	cfg, err := class.Spec.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	chain, ps := transforms.Build(raw)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	running := make(chan struct{})
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	env := connectors.Env{Name: "outbox", Version: "test", Logger: logger, Offsets: &offsetstest.Memory{}, StateDir: t.TempDir(),
		Running: func() { close(running) }}
	src, err := class.NewSource(cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	client := kafkatest.NewClient(t, brokers, kafka.SourceClientOpts(cfg)...)
	w := kafka.NewSourceWriter(client, reg, class, cfg, kafka.WithStage(chain), kafka.WithLogger(logger))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, w) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("the source stopped with: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("the source did not stop within 30 s")
		}
	})
	return running
}

// readOutbox reads n records of an outbox topic, decoding key and value
// with the registry's schemas; it fails the test when they do not arrive
// within 60 s.
func readOutbox(t *testing.T, brokers []string, reg *registry.Client, topic string, n int) []outboxEvent {
	t.Helper()
	cl := kafkatest.NewClient(t, brokers, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out []outboxEvent
	for len(out) < n {
		if ctx.Err() != nil {
			t.Fatalf("%s: %d records of %d within 60 s: %v", topic, len(out), n, out)
		}
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) {
			e := outboxEvent{
				key:     decodeFramed(t, ctx, reg, r.Key).(string),
				payload: decodeJSON(t, decodeFramed(t, ctx, reg, r.Value).(string)),
			}
			for _, h := range r.Headers {
				switch h.Key {
				case "id":
					e.id = string(h.Value)
				case "eventType":
					e.eventType = string(h.Value)
				default:
					t.Errorf("%s: unexpected header %s=%q", topic, h.Key, h.Value)
				}
			}
			out = append(out, e)
		})
	}
	// Nothing more arrives: the update was skipped and the delete dropped.
	pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
	defer pcancel()
	if more := cl.PollFetches(pctx).Records(); len(more) > 0 {
		t.Errorf("%s: %d records more than the %d expected", topic, len(more), n)
	}
	return out
}

// decodeFramed decodes a Confluent-framed Avro value with its schema from the registry.
func decodeFramed(t *testing.T, ctx context.Context, reg *registry.Client, b []byte) any {
	t.Helper()
	id, body, err := schema.SplitFrame(b)
	if err != nil {
		t.Fatal(err)
	}
	s, err := reg.Schema(ctx, int(id))
	if err != nil {
		t.Fatal(err)
	}
	es, err := schema.FromAvro(s.Text)
	if err != nil {
		t.Fatal(err)
	}
	codec, err := schema.NewCodec(es)
	if err != nil {
		t.Fatal(err)
	}
	v, err := codec.Decode(body)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func decodeJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("payload %q: %v", s, err)
	}
	return v
}

// countRecords counts the records of a topic, none when it does not exist.
func countRecords(t *testing.T, brokers []string, topic string) int {
	t.Helper()
	cl := kafkatest.NewClient(t, brokers, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n := 0
	for ctx.Err() == nil {
		n += len(cl.PollFetches(ctx).Records())
	}
	return n
}
