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

	"github.com/sluice-cdc/sluice/bench/internal/daemon"
	"github.com/sluice-cdc/sluice/bench/internal/pgdb"
	"github.com/sluice-cdc/sluice/connectors/elasticsearch"
	"github.com/sluice-cdc/sluice/schema/registry"
	"github.com/sluice-cdc/sluice/schema/registry/embedded"
)

// latencyEnv is what one latency run sets up: a database with the table
// prefilled, the topic, a registry served by the driver, a source daemon
// streaming the table to Kafka and a sink daemon writing the topic to
// Elasticsearch. close removes all of it.
type latencyEnv struct {
	slot          string // the slot and publication
	topic, schema string // the change topic, the registry's topic
	index, group  string
	dir           string // the daemons' files

	brokers []string
	pg      *pgdb.DB  // the run's database
	conn    *pgx.Conn // on it: the load
	kafka   *kgo.Client
	adm     *kadm.Client
	es      *esClient
	emb     *embedded.Registry
	regSrv  *httptest.Server
	reg     *registry.Client

	source, sink *daemon.Daemon
	prefill      int64
}

// newLatencyEnv sets a run up with prefill rows, until one change went end
// to end (the topic exists, the sink consumes it, the index has its
// mapping). On error what was set up is removed.
func newLatencyEnv(ctx context.Context, o options, bin string, prefill int64) (e *latencyEnv, err error) {
	suffix := randomSuffix()
	name := "benchlat_" + suffix
	e = &latencyEnv{slot: name, topic: name + ".public.items", schema: "_schemas_" + name,
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
	if e.pg, err = pgdb.Create(ctx, o.pgURL, name); err != nil {
		return e, err
	}
	if e.conn, err = pgx.Connect(ctx, e.pg.URL.String()); err != nil {
		return e, fmt.Errorf("connect to database %s: %w", e.pg.Name, err)
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
	if err := e.startDaemons(ctx, o, bin, e.pg.URL, name, suffix); err != nil {
		return e, err
	}
	return e, e.firstChange(ctx)
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
	e.source, err = daemon.Start(bin, filepath.Join(e.dir, "source"), o.brokers, e.regSrv.URL, map[string]any{
		"name": "pg-" + suffix, "config": map[string]string{
			"connector.class": "postgres", "database.hostname": dbURL.Hostname(), "database.port": dbURL.Port(),
			"database.user": dbURL.User.Username(), "database.password": pw, "database.dbname": e.pg.Name,
			"database.sslmode": "disable", "slot.name": e.slot, "publication.name": e.slot,
			"topic.prefix": prefix, "table.include.list": "public.items", "snapshot.mode": "no_data",
		}}, "streaming started")
	if err != nil {
		return err
	}
	if err := e.source.WaitFor(ctx, "streaming started", time.Minute); err != nil {
		return err
	}
	e.sink, err = daemon.Start(bin, filepath.Join(e.dir, "sink"), o.brokers, e.regSrv.URL, map[string]any{
		"name": "es-" + suffix, "config": map[string]string{
			"connector.class": "elasticsearch", "connection.url": o.esURL, "topics": e.topic,
			"behavior.on.null.values": "delete",
		}}, "connector running")
	if err != nil {
		return err
	}
	return e.sink.WaitFor(ctx, "connector running", time.Minute)
}

// failed returns an error once a daemon exited or logged an error.
func (e *latencyEnv) failed() error {
	return errors.Join(e.source.Failed(), e.sink.Failed())
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
	for _, d := range []*daemon.Daemon{e.sink, e.source} {
		if d != nil {
			if err := d.Stop(); err != nil {
				slog.Warn("stop daemon", "connector", d.Name(), "error", err)
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
	if e.pg != nil {
		if err := e.pg.Drop(ctx, e.slot); err != nil {
			slog.Warn("drop the run's database", "error", err)
		}
	}
	if e.dir != "" {
		os.RemoveAll(e.dir)
	}
}
