package sse_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/kafka"
	_ "github.com/sluice-cdc/sluice/connectors/postgres" // registers the postgres class
	"github.com/sluice-cdc/sluice/testenv/offsetstest"
	"github.com/sluice-cdc/sluice/testenv/pgtest"
)

// pipeline is the whole path a change takes: a table in a database of its
// own on the real Postgres, the Postgres source writing to the real Kafka
// (topic prefix and registry of env), and SSE sinks started with env.start.
type pipeline struct {
	*env
	db      *pgx.Conn
	slot    string
	srcDone chan struct{} // closed when the source's Run returned srcErr
	srcErr  error
}

// newPipeline creates the database with table public.orders (id int primary
// key, customer_id bigint, amount numeric(10,2), note text; replica identity
// full, so deletes carry the whole row), starts the source into a topic of
// one partition and waits until the table's first change — a row with id 0
// that is deleted again — is in Kafka, so that the topic exists and a sink
// started afterwards begins after it.
func newPipeline(t *testing.T) *pipeline {
	t.Helper()
	pg := pgtest.NewDatabase(t, "ssepg")
	e := newEnv(t, true)
	p := &pipeline{env: e, slot: pg.Name, srcDone: make(chan struct{})}
	ctx := context.Background()
	p.db = pg.Connect(t)
	p.exec("CREATE TABLE orders (id int PRIMARY KEY, customer_id bigint NOT NULL, amount numeric(10,2), note text)",
		"ALTER TABLE orders REPLICA IDENTITY FULL")

	u := &pg.URL
	pw, _ := u.User.Password()
	class, ok := connectors.Lookup("postgres")
	if !ok {
		t.Fatal("class postgres not registered")
	}
	c, err := class.Spec.Parse(map[string]string{
		"connector.class":   "postgres",
		"database.hostname": u.Hostname(), "database.port": u.Port(),
		"database.user": u.User.Username(), "database.password": pw,
		"database.dbname": pg.Name, "database.sslmode": "disable",
		"topic.prefix": e.prefix, "slot.name": p.slot, "publication.name": pg.Name,
		"snapshot.mode": "no_data", "producer.override.linger.ms": "1",
		"topic.creation.default.partitions": "1",
	})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(append(kafka.SourceClientOpts(c), kgo.SeedBrokers(e.brokers...))...)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	w := kafka.NewSourceWriter(cl, e.reg, class, c, kafka.WithLogger(logger))
	src, err := class.NewSource(c, connectors.Env{Name: "pg", Version: "test", Logger: logger, Offsets: &offsetstest.Memory{}, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	go func() {
		p.srcErr = src.Run(runCtx, w)
		close(p.srcDone)
	}()
	t.Cleanup(func() {
		cancel()
		if <-p.srcDone; !errors.Is(p.srcErr, context.Canceled) {
			t.Errorf("source Run: %v", p.srcErr)
		}
		cl.Close()
	})

	// Changes made once the slot is active are streamed.
	pgtest.WaitStreaming(t, p.db, p.slot, func() {
		select {
		case <-p.srcDone:
			t.Fatalf("source stopped: %v", p.srcErr)
		default:
		}
	})
	p.exec("INSERT INTO orders VALUES (0, 0, 0, 'setup')", "DELETE FROM orders WHERE id = 0")
	p.waitRecords(3) // create, delete, tombstone
	return p
}

func (p *pipeline) exec(sqls ...string) {
	p.t.Helper()
	pgtest.Exec(p.t, p.db, sqls...)
}

// waitRecords waits until the topic holds at least n records.
func (p *pipeline) waitRecords(n int64) {
	p.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(p.brokers...))
	if err != nil {
		p.t.Fatal(err)
	}
	defer cl.Close()
	admin := kadm.NewClient(cl)
	var end int64
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		ends, err := admin.ListEndOffsets(context.Background(), p.topic)
		if err != nil {
			continue
		}
		if o, ok := ends.Lookup(p.topic, 0); ok && o.Err == nil {
			if end = o.Offset; end >= n {
				return
			}
		}
	}
	select {
	case <-p.srcDone:
		p.t.Fatalf("topic %s holds %d records, want %d: the source stopped: %v", p.topic, end, n, p.srcErr)
	default:
	}
	var slot, wal string
	p.db.QueryRow(context.Background(), "SELECT confirmed_flush_lsn::text, pg_current_wal_lsn()::text FROM pg_replication_slots WHERE slot_name = $1", p.slot).Scan(&slot, &wal)
	p.t.Fatalf("topic %s holds %d records after 30s, want %d (slot %s confirmed %s, WAL at %s)", p.topic, end, n, p.slot, slot, wal)
}

var tsMsRE = regexp.MustCompile(`"__ts_ms":(\d+),`)

// normalizeTs replaces the __ts_ms of flat data with 0 after checking that it
// is a time between notBefore and now, and returns the data.
func normalizeTs(t *testing.T, data string, notBefore time.Time) string {
	t.Helper()
	m := tsMsRE.FindStringSubmatch(data)
	if m == nil {
		t.Errorf("no __ts_ms in %s", data)
		return data
	}
	ms, _ := strconv.ParseInt(m[1], 10, 64)
	if ts := time.UnixMilli(ms); ts.Before(notBefore.Add(-time.Second)) || ts.After(time.Now().Add(time.Second)) {
		t.Errorf("__ts_ms %v is not between %v and now: %s", ts, notBefore, data)
	}
	return tsMsRE.ReplaceAllString(data, `"__ts_ms":0,`)
}
