package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-cdc/sluice/bench/internal/baseline"
	"github.com/sluice-cdc/sluice/bench/internal/pipeline"
	"github.com/sluice-cdc/sluice/bench/internal/sourcebench"
	"github.com/sluice-cdc/sluice/connectors/kafka"
)

// table is the benchmark table; its columns are those of the run's shape.
const table = "rows"

// marker is the table of the one change Debezium's connectors capture
// before the backlog (baseline.Workers.Prepare); sluice does not capture it.
const createMarker = `CREATE TABLE public.marker (id integer PRIMARY KEY)`

// runEnv is what one run owns: the topic, registry and directory of
// sourcebench.Env, and a database with the table and its publication;
// with -debezium, the marker table, a publication of both tables and
// Debezium's connectors. close removes all of it, the replication slots
// included.
type runEnv struct {
	*sourcebench.Env // Name is the database, sluice's slot and the publication

	rawSlot string   // the slot pg_recvlogical reads
	pgURL   *url.URL // of the run's database
	admin   *pgx.Conn
	db      *pgx.Conn

	workers *baseline.Workers
	dbz     map[baseline.Variant]baseline.Connector // each named as its slot and topic prefix
}

// newRunEnv creates the topic, registry, database, table and publication
// of run (from 1), and writes the connector configuration.
func newRunEnv(ctx context.Context, o *options, kind string, run int) (e *runEnv, err error) {
	name := sourcebench.NewName(kind)
	topic := name + ".public." + table
	if o.transforms {
		topic = name + "-" + table // where the route transform sends the changes
	}
	base, err := url.Parse(o.pgURL)
	if err != nil {
		return nil, fmt.Errorf("parse the Postgres URL: %w", err)
	}
	e = &runEnv{rawSlot: name + "_raw"}
	if e.Env, err = sourcebench.NewEnv(ctx, &o.Options, name, topic); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			e.close()
		}
	}()
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
	setup := []string{o.shape.create, "CREATE PUBLICATION " + name + " FOR TABLE public." + table}
	cfg := e.config(base, o.transforms)
	if o.workers != nil {
		setup = append(setup, createMarker, "CREATE PUBLICATION "+name+"_dbz FOR TABLE public."+table+", public.marker")
		e.workers = o.workers
		e.dbz = e.debeziumConnectors(cfg, o.DebeziumVariants(run))
		// JSON, as Debezium writes through Kafka Connect's JsonConverter.
		cfg[kafka.KeyConverterKey], cfg[kafka.ValueConverterKey] = kafka.JSONConverterClass, kafka.JSONConverterClass
	}
	for _, q := range setup {
		if _, err = e.db.Exec(ctx, q); err != nil {
			return nil, fmt.Errorf("set up database %s: %s: %w", name, q, err)
		}
	}
	return e, e.WriteConfig(cfg)
}

// debeziumConnectors are the run's Debezium connectors of variants:
// sluice's configuration cfg with a slot and topic prefix of their own, on
// a publication of the table and the marker table.
func (e *runEnv) debeziumConnectors(cfg map[string]string, variants []baseline.Variant) map[baseline.Variant]baseline.Connector {
	out := map[baseline.Variant]baseline.Connector{}
	for _, v := range variants {
		name := e.Name + "_dbz_" + string(v)
		c := maps.Clone(cfg)
		maps.Copy(c, map[string]string{
			"topic.prefix": name, "slot.name": name, "plugin.name": "pgoutput",
			"publication.name": e.Name + "_dbz", "table.include.list": "public." + table + ",public.marker",
			"tasks.max": "1", "topic.creation.default.partitions": "1", "topic.creation.default.replication.factor": "-1",
		})
		out[v] = baseline.Connector{Name: name, Config: c, Topic: name + ".public." + table, MarkerTopic: name + ".public.marker"}
	}
	return out
}

// config is the connector configuration; with transforms, a chain of three
// that routes the table's changes to e.Topic, unwraps Debezium's envelope
// and renames a column.
func (e *runEnv) config(base *url.URL, transforms bool) map[string]string {
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
		"database.dbname": e.Name, "database.sslmode": sslmode,
		"topic.prefix": e.Name, "slot.name": e.Name,
		"publication.name": e.Name, "publication.autocreate.mode": "disabled",
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
	return cfg
}

// waitSlotActive waits until sluice's source reports running and holds
// its slot (it is streaming), and returns the pid of the walsender serving
// it. A slot is active while it is being created too, which can take
// seconds on a busy server (the creation waits for running transactions):
// stopping the source then drops the half-made slot, and changes written
// before the next start's slot would be missed. Running says the slot
// exists and the start position is fixed.
func (e *runEnv) waitSlotActive(ctx context.Context, c *pipeline.Child) (int, error) {
	if err := c.WaitRunning(ctx, 60*time.Second); err != nil {
		return 0, err
	}
	return e.waitActive(ctx, e.Name, c.Failed)
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

// close drops the slots and the database, then the topics, the registry and
// the directory (sourcebench.Env.Close). It reports failures on stderr and
// goes on.
func (e *runEnv) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if e.db != nil {
		e.db.Close(ctx)
	}
	if e.workers != nil {
		e.workers.Remove(e.dbz)
	}
	slots := []string{e.Name, e.rawSlot}
	var topics []string
	for _, c := range e.dbz {
		slots = append(slots, c.Name)
		topics = append(topics, c.Topic, c.MarkerTopic)
	}
	if e.admin != nil {
		for _, slot := range slots {
			// A slot left behind would retain WAL forever; wait for its reader to go.
			for range 100 {
				_, err := e.admin.Exec(ctx, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", slot)
				if err == nil {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
		_, err := e.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+e.Name+" WITH (FORCE)")
		e.Warn("drop database "+e.Name, err)
		var left int
		e.admin.QueryRow(ctx, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = ANY($1)", slots).Scan(&left)
		if left > 0 {
			e.Warn("drop slots", fmt.Errorf("%d of %s remain: drop them with pg_drop_replication_slot", left, strings.Join(slots, ", ")))
		}
		e.admin.Close(ctx)
	}
	e.Close(topics...)
}
