package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-cdc/sluice/bench/internal/kafkaenv"
	"github.com/sluice-cdc/sluice/bench/internal/pipeline"
)

// table is the benchmark table: rows of about 200 bytes (id, four integers,
// a timestamp and 150 characters of text).
const table = "rows"

const createTable = `CREATE TABLE public.rows (
	id  bigint PRIMARY KEY,
	a   integer NOT NULL,
	b   integer NOT NULL,
	c   bigint NOT NULL,
	d   integer NOT NULL,
	ts  timestamptz NOT NULL,
	txt text NOT NULL)`

// runEnv is what one run owns: a database with the table and its
// publication, the table's topic (append-time timestamps), a schema
// registry, and a directory for the connector's config and state. close
// removes all of it, the replication slots included.
type runEnv struct {
	name    string // database, topic prefix, sluice's slot and the publication
	rawSlot string // the slot pg_recvlogical reads
	topic   string
	pgURL   *url.URL // of the run's database
	admin   *pgx.Conn
	db      *pgx.Conn
	kafka   *kafkaenv.Env

	dir, stateDir, configFile string
}

// newRunEnv creates the run's database, table, publication, topic and
// registry, and writes the connector configuration.
func newRunEnv(ctx context.Context, o options, kind string) (e *runEnv, err error) {
	suffix := make([]byte, 5)
	rand.Read(suffix)
	name := "bench_" + kind + "_" + hex.EncodeToString(suffix)
	e = &runEnv{name: name, rawSlot: name + "_raw", topic: name + ".public." + table}
	if o.transforms {
		e.topic = name + "-" + table // where the route transform sends the changes
	}
	defer func() {
		if err != nil {
			e.close()
		}
	}()
	base, err := url.Parse(o.pgURL)
	if err != nil {
		return nil, fmt.Errorf("parse the Postgres URL: %w", err)
	}
	if e.admin, err = pgx.Connect(ctx, o.pgURL); err != nil {
		return nil, fmt.Errorf("connect to Postgres: %w", err)
	}
	if _, err = e.admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return nil, fmt.Errorf("create database %s: %w", name, err)
	}
	u := *base
	u.Path = "/" + name
	e.pgURL = &u
	if e.db, err = pgx.Connect(ctx, u.String()); err != nil {
		return nil, fmt.Errorf("connect to database %s: %w", name, err)
	}
	for _, q := range []string{createTable, "CREATE PUBLICATION " + name + " FOR TABLE public." + table} {
		if _, err = e.db.Exec(ctx, q); err != nil {
			return nil, fmt.Errorf("set up database %s: %s: %w", name, q, err)
		}
	}

	// Records carry the broker's append time, the end of the measured
	// latency.
	if e.kafka, err = kafkaenv.New(ctx, strings.Split(o.brokers, ","), e.topic, "_schemas_"+name); err != nil {
		return nil, err
	}

	if e.dir, err = os.MkdirTemp("", name+"-"); err != nil {
		return nil, err
	}
	e.stateDir = filepath.Join(e.dir, "state")
	if err = os.Mkdir(e.stateDir, 0o700); err != nil {
		return nil, err
	}
	e.configFile = filepath.Join(e.dir, "connector.json")
	return e, e.writeConfig(base, o.producer, o.transforms)
}

// writeConfig writes the connector configuration, as a user would, to
// e.configFile; with transforms, a chain of three that routes the table's
// changes to e.topic, unwraps Debezium's envelope and renames a column.
func (e *runEnv) writeConfig(base *url.URL, p pipeline.Producer, transforms bool) error {
	pw, _ := base.User.Password()
	sslmode := base.Query().Get("sslmode")
	if sslmode == "" {
		sslmode = "prefer"
	}
	port := base.Port()
	if port == "" {
		port = "5432"
	}
	cfg := map[string]string{
		"connector.class":   "io.debezium.connector.postgresql.PostgresConnector",
		"database.hostname": base.Hostname(), "database.port": port,
		"database.user": base.User.Username(), "database.password": pw,
		"database.dbname": e.name, "database.sslmode": sslmode,
		"topic.prefix": e.name, "slot.name": e.name,
		"publication.name": e.name, "publication.autocreate.mode": "disabled",
		"table.include.list": "public." + table,
		"snapshot.mode":      "no_data",
	}
	if transforms {
		maps.Copy(cfg, map[string]string{
			"transforms":                   "route,unwrap,rename",
			"transforms.route.type":        "org.apache.kafka.connect.transforms.RegexRouter",
			"transforms.route.regex":       `([^.]+)\.public\.([^.]+)`,
			"transforms.route.replacement": "$1-$2",
			"transforms.unwrap.type":       "io.debezium.transforms.ExtractNewRecordState",
			"transforms.rename.type":       "org.apache.kafka.connect.transforms.ReplaceField$Value",
			"transforms.rename.renames":    "txt:text",
		})
	}
	p.Apply(cfg)
	b, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	return os.WriteFile(e.configFile, b, 0o600)
}

// waitSlotActive waits until sluice holds its slot (it is streaming), and
// returns the pid of the walsender serving it.
func (e *runEnv) waitSlotActive(ctx context.Context, c *pipeline.Child) (int, error) {
	return e.waitActive(ctx, e.name, c.Failed)
}

// waitActive waits until slot is in use and returns its walsender's pid;
// failed reports a reader that gave up.
func (e *runEnv) waitActive(ctx context.Context, slot string, failed func() error) (int, error) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if err := failed(); err != nil {
			return 0, err
		}
		var pid *int32
		err := e.admin.QueryRow(ctx, "SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1", slot).Scan(&pid)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return 0, fmt.Errorf("read slot %s: %w", slot, err)
		}
		if pid != nil {
			return int(*pid), nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return 0, fmt.Errorf("slot %s not in use within 60s", slot)
}

// records returns how many records the run's topic holds.
func (e *runEnv) records(ctx context.Context) (int64, error) { return e.kafka.Records(ctx) }

// waitRecords waits until the topic holds at least want records and returns
// when that was seen (polled every 10 ms). It fails when the pipeline stops
// or the count does not move for stall.
func (e *runEnv) waitRecords(ctx context.Context, o options, c *pipeline.Child, want int64, stall time.Duration) (time.Time, error) {
	return e.kafka.WaitRecords(ctx, want, stall, c.Failed, func(n, want int64, perSecond float64) {
		logf(o, "%d of %d records, %.0f/s", n, want, perSecond)
	})
}

// close drops the slots, the database and the topics, stops the registry
// and removes the directory. It reports failures on stderr and goes on.
func (e *runEnv) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	warn := func(what string, err error) {
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench/postgres: clean-up: %s: %v\n", what, err)
		}
	}
	if e.db != nil {
		e.db.Close(ctx)
	}
	if e.admin != nil {
		for _, slot := range []string{e.name, e.rawSlot} {
			// A slot left behind would retain WAL forever; wait for its reader to go.
			for range 100 {
				_, err := e.admin.Exec(ctx, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", slot)
				if err == nil {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
		_, err := e.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+e.name+" WITH (FORCE)")
		warn("drop database "+e.name, err)
		var left int
		e.admin.QueryRow(ctx, "SELECT count(*) FROM pg_replication_slots WHERE slot_name IN ($1, $2)", e.name, e.rawSlot).Scan(&left)
		if left > 0 {
			warn("drop slots", fmt.Errorf("%d of %s, %s remain: drop them with pg_drop_replication_slot", left, e.name, e.rawSlot))
		}
		e.admin.Close(ctx)
	}
	if e.kafka != nil {
		warn("Kafka", e.kafka.Close())
	}
	if e.dir != "" {
		warn("remove "+e.dir, os.RemoveAll(e.dir))
	}
}
