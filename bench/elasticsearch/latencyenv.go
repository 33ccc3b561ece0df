package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors/elasticsearch"
	"github.com/sluice-cdc/sluice/schema/registry"
	"github.com/sluice-cdc/sluice/schema/registry/embedded"
)

// latencyEnv is what one latency run sets up: a database with the table
// prefilled, the topic, a registry served by the driver, a source daemon
// streaming the table to Kafka and a sink daemon writing the topic to
// Elasticsearch. close removes all of it.
type latencyEnv struct {
	db, slot      string // the database, and the slot and publication
	topic, schema string // the change topic, the registry's topic
	index, group  string
	dir           string // the daemons' files

	brokers []string
	admin   *pgx.Conn // on the server's own database
	conn    *pgx.Conn // on db: the load
	kafka   *kgo.Client
	adm     *kadm.Client
	es      *esClient
	emb     *embedded.Registry
	regSrv  *httptest.Server
	reg     *registry.Client

	source, sink *daemon
	prefill      int64
}

// newLatencyEnv sets a run up with prefill rows, until one change went end
// to end (the topic exists, the sink consumes it, the index has its
// mapping). On error what was set up is removed.
func newLatencyEnv(ctx context.Context, o options, bin string, prefill int64) (e *latencyEnv, err error) {
	suffix := randomSuffix()
	name := "benchlat_" + suffix
	e = &latencyEnv{db: name, slot: name, topic: name + ".public.items", schema: "_schemas_" + name,
		index: name + ".public.items", group: elasticsearch.GroupID("es-" + suffix), brokers: strings.Split(o.brokers, ","),
		prefill: prefill}
	defer func() {
		if err != nil {
			e.close()
		}
	}()
	if e.dir, err = os.MkdirTemp("", "bench-es-latency-"); err != nil {
		return e, err
	}
	if e.kafka, err = kgo.NewClient(kgo.SeedBrokers(e.brokers...)); err != nil {
		return e, fmt.Errorf("create Kafka client: %w", err)
	}
	e.adm = kadm.NewClient(e.kafka)
	if e.es, err = newES(o.esURL); err != nil {
		return e, err
	}
	dbURL, err := e.createDatabase(ctx, o.pgURL)
	if err != nil {
		return e, err
	}
	if e.conn, err = pgx.Connect(ctx, dbURL.String()); err != nil {
		return e, fmt.Errorf("connect to database %s: %w", e.db, err)
	}
	// Before the slot exists: the prefill is not captured.
	if err := prefillRows(ctx, e.conn, o.seed, prefill); err != nil {
		return e, err
	}
	if err := e.startRegistry(ctx); err != nil {
		return e, err
	}
	if err := createAppendTimeTopic(ctx, e.adm, e.topic); err != nil {
		return e, err
	}
	if err := e.startDaemons(ctx, o, bin, dbURL, name, suffix); err != nil {
		return e, err
	}
	return e, e.firstChange(ctx)
}

// createDatabase creates the run's database and returns its URL.
func (e *latencyEnv) createDatabase(ctx context.Context, pgURL string) (*url.URL, error) {
	var err error
	if e.admin, err = pgx.Connect(ctx, pgURL); err != nil {
		return nil, fmt.Errorf("connect to Postgres: %w", err)
	}
	if _, err := e.admin.Exec(ctx, "CREATE DATABASE "+e.db); err != nil {
		return nil, fmt.Errorf("create database %s: %w", e.db, err)
	}
	u, err := url.Parse(pgURL)
	if err != nil {
		return nil, fmt.Errorf("parse -pg: %w", err)
	}
	u.Path = "/" + e.db
	return u, nil
}

// startRegistry serves an embedded registry on a topic of the run's own,
// as an external registry would be.
func (e *latencyEnv) startRegistry(ctx context.Context) error {
	var err error
	if e.emb, err = embedded.New(ctx, e.brokers, embedded.WithReplicationFactor(1), embedded.WithTopic(e.schema)); err != nil {
		return fmt.Errorf("start embedded registry: %w", err)
	}
	if err := e.emb.WaitReady(ctx); err != nil {
		return fmt.Errorf("wait for embedded registry: %w", err)
	}
	e.regSrv = httptest.NewServer(e.emb)
	e.reg, err = registry.New(e.regSrv.URL)
	return err
}

// startDaemons starts the source daemon and, once it streams, the sink
// daemon, each with one connector on the connectors' defaults.
func (e *latencyEnv) startDaemons(ctx context.Context, o options, bin string, dbURL *url.URL, prefix, suffix string) error {
	pw, _ := dbURL.User.Password()
	var err error
	e.source, err = startDaemon(bin, filepath.Join(e.dir, "source"), o.brokers, e.regSrv.URL, map[string]any{
		"name": "pg-" + suffix, "config": map[string]string{
			"connector.class": "postgres", "database.hostname": dbURL.Hostname(), "database.port": dbURL.Port(),
			"database.user": dbURL.User.Username(), "database.password": pw, "database.dbname": e.db,
			"database.sslmode": "disable", "slot.name": e.slot, "publication.name": e.slot,
			"topic.prefix": prefix, "table.include.list": "public.items", "snapshot.mode": "no_data",
		}}, "streaming started")
	if err != nil {
		return err
	}
	if err := e.source.waitFor(ctx, "streaming started", time.Minute); err != nil {
		return err
	}
	e.sink, err = startDaemon(bin, filepath.Join(e.dir, "sink"), o.brokers, e.regSrv.URL, map[string]any{
		"name": "es-" + suffix, "config": map[string]string{
			"connector.class": "elasticsearch", "connection.url": o.esURL, "topics": e.topic,
			"behavior.on.null.values": "delete",
		}}, "connector running")
	if err != nil {
		return err
	}
	return e.sink.waitFor(ctx, "connector running", time.Minute)
}

// failed returns an error once a daemon exited or logged an error.
func (e *latencyEnv) failed() error {
	return errors.Join(e.source.failed(), e.sink.failed())
}

// firstChange updates the last prefilled row (the load never updates it)
// and waits until a search finds it.
func (e *latencyEnv) firstChange(ctx context.Context) error {
	if _, err := e.conn.Exec(ctx, "UPDATE items SET qty = qty + 1 WHERE id = $1", e.prefill); err != nil {
		return fmt.Errorf("first change: %w", err)
	}
	return e.es.waitSearchable(ctx, e.index, e.prefill, e.failed)
}

// close stops the daemons and removes what the run created; failures are
// logged.
func (e *latencyEnv) close() {
	for _, d := range []*daemon{e.sink, e.source} {
		if d != nil {
			if err := d.stop(); err != nil {
				slog.Warn("stop daemon", "connector", d.name, "error", err)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if e.regSrv != nil {
		e.regSrv.Close()
	}
	if e.emb != nil {
		e.emb.Close()
	}
	if e.conn != nil {
		e.conn.Close(ctx)
	}
	if e.adm != nil {
		if _, err := e.adm.DeleteTopics(ctx, e.topic, e.schema); err != nil {
			slog.Warn("delete topics", "topics", []string{e.topic, e.schema}, "error", err)
		}
		if _, err := e.adm.DeleteGroup(ctx, e.group); err != nil {
			slog.Warn("delete consumer group", "group", e.group, "error", err)
		}
		e.kafka.Close()
	}
	if e.es != nil {
		if err := e.es.deleteIndex(ctx, e.index); err != nil {
			slog.Warn("delete index", "index", e.index, "error", err)
		}
	}
	if e.admin != nil {
		if _, err := e.admin.Exec(ctx, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", e.slot); err != nil {
			slog.Warn("drop replication slot", "slot", e.slot, "error", err)
		}
		if _, err := e.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+e.db+" WITH (FORCE)"); err != nil {
			slog.Warn("drop database", "database", e.db, "error", err)
		}
		e.admin.Close(ctx)
	}
	if e.dir != "" {
		os.RemoveAll(e.dir)
	}
}
