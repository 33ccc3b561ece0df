package main

import (
	"fmt"
	"net"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sluice-cdc/sluice/schema/registry"
	"github.com/sluice-cdc/sluice/testenv/pgtest"
	"github.com/sluice-cdc/sluice/testenv/topictest"
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
// after the change, or before a delete), decoding each record with the
// schema its frame names in the registry.
type topicReader struct {
	reader *topictest.Reader
	topic  string
}

func newTopicReader(t *testing.T, brokers []string, registryURL, topic string) *topicReader {
	t.Helper()
	reg, err := registry.New(registryURL)
	if err != nil {
		t.Fatal(err)
	}
	return &topicReader{reader: topictest.NewReader(brokers, reg), topic: topic}
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
	var out []string
	for _, rec := range r.reader.ReadAll(t, r.topic, nil) {
		_, e, err := rec.Change()
		if err != nil {
			t.Fatal(err)
		}
		if e == nil {
			continue
		}
		row := e.After
		if row == nil {
			row = e.Before
		}
		out = append(out, fmt.Sprintf("%s %v %v", e.Op, row[0], row[1]))
	}
	return out
}
