package main

import (
	"context"
	"fmt"
	"net"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/registry"
	"github.com/sluice-cdc/sluice/testenv/pgtest"
)

// database is a database of its own on the test Postgres.
type database struct {
	name string
	conn *pgx.Conn
}

// newDatabase creates the database, dropped when the test ends, and
// connects to it.
func newDatabase(t *testing.T) *database {
	t.Helper()
	db := pgtest.NewDatabase(t, "e2e")
	return &database{name: db.Name, conn: db.Connect(t)}
}

func (db *database) exec(t *testing.T, sqls ...string) {
	t.Helper()
	pgtest.Exec(t, db.conn, sqls...)
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// topicReader reads a change topic back as "op id item" lines (the row
// after the change, or before a delete), decoding
// each record with the schema its frame names in the registry.
type topicReader struct {
	brokers, registryURL, topic string
}

func newTopicReader(_ *testing.T, brokers, registryURL, topic string) *topicReader {
	return &topicReader{brokers: brokers, registryURL: registryURL, topic: topic}
}

// expect waits until the topic holds exactly want (tombstones skipped).
func (r *topicReader) expect(t *testing.T, want ...string) {
	t.Helper()
	var got []string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		got = r.read(t)
		if reflect.DeepEqual(got, want) {
			return
		}
	}
	t.Fatalf("topic %s holds %q, want %q", r.topic, got, want)
}

func (r *topicReader) read(t *testing.T) []string {
	t.Helper()
	reg, err := registry.New(r.registryURL)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(r.brokers), kgo.ConsumeTopics(r.topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var out []string
	for ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(rec *kgo.Record) {
			if rec.Value == nil {
				return
			}
			id, body, err := schema.SplitFrame(rec.Value)
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
			codec, err := schema.NewEnvelopeCodec(es, nil)
			if err != nil {
				t.Fatal(err)
			}
			var e event.Event
			if err := codec.Decode(body, &e); err != nil {
				t.Fatal(err)
			}
			row := e.After
			if row == nil {
				row = e.Before
			}
			out = append(out, fmt.Sprintf("%s %v %v", e.Op, row[0], row[1]))
		})
	}
	return out
}
