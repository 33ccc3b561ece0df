package main

import (
	"context"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/go-mysql-org/go-mysql/client"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/sluice-cdc/sluice/bench/internal/baseline"
	"github.com/sluice-cdc/sluice/bench/internal/sourcebench"
	"github.com/sluice-cdc/sluice/connectors/kafka"
)

// table is the benchmark table: rows of about 200 bytes (id, four integers,
// a timestamp and 150 characters of text: rowgen), as bench/postgres's.
const table = "rows"

const createTable = "CREATE TABLE `rows` (" +
	"id  BIGINT NOT NULL PRIMARY KEY," +
	"a   INT NOT NULL," +
	"b   INT NOT NULL," +
	"c   BIGINT NOT NULL," +
	"d   INT NOT NULL," +
	"ts  TIMESTAMP(6) NOT NULL," +
	"txt TEXT NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"

// marker is the table of the one change Debezium's connectors capture
// before the backlog (baseline.Workers.Prepare); sluice does not capture it.
const createMarker = "CREATE TABLE marker (id INT NOT NULL PRIMARY KEY) ENGINE=InnoDB"

// server is where and as whom the benchmark connects, from -dsn.
type server struct {
	host     string
	port     int
	user     string
	password string
}

var dsnForm = regexp.MustCompile(`^([^:@]*)(?::(.*))?@tcp\(([^)]*)\)(?:/.*)?$`)

// parseDSN reads user:password@tcp(host:port)/db, the Go MySQL driver's form.
func parseDSN(dsn string) (server, error) {
	m := dsnForm.FindStringSubmatch(dsn)
	if m == nil {
		return server{}, fmt.Errorf("-dsn %q: want user:password@tcp(host:port)/db", dsn)
	}
	host, portText, err := net.SplitHostPort(m[3])
	if err != nil {
		return server{}, fmt.Errorf("-dsn: %w", err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return server{}, fmt.Errorf("-dsn: port %q", portText)
	}
	return server{host: host, port: port, user: m[1], password: m[2]}, nil
}

func (s server) addr() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

// connect opens a session on db ("" for none) that may send several
// statements in one query, in UTC.
func (s server) connect(db string) (*client.Conn, error) {
	c, err := client.Connect(s.addr(), s.user, s.password, db, func(c *client.Conn) error {
		c.SetCapability(gomysql.CLIENT_MULTI_STATEMENTS)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("connect to %s@%s: %w", s.user, s.addr(), err)
	}
	if _, err := c.Execute("SET time_zone = '+00:00'"); err != nil {
		c.Close()
		return nil, fmt.Errorf("set the session time zone: %w", err)
	}
	return c, nil
}

// binlogPos is a position in the server's binlog.
type binlogPos struct {
	file string
	pos  int64
}

// masterStatus returns the end of the server's binlog.
func masterStatus(c *client.Conn) (binlogPos, error) {
	r, err := c.Execute("SHOW MASTER STATUS")
	if err != nil {
		return binlogPos{}, fmt.Errorf("SHOW MASTER STATUS: %w", err)
	}
	if r.RowNumber() != 1 {
		return binlogPos{}, fmt.Errorf("SHOW MASTER STATUS: no binlog (is log_bin on?)")
	}
	file, _ := r.GetString(0, 0)
	pos, err := r.GetInt(0, 1)
	return binlogPos{file, pos}, err
}

// binlogSizes returns the size of each binlog file on the server.
func binlogSizes(c *client.Conn) (map[string]int64, error) {
	r, err := c.Execute("SHOW BINARY LOGS")
	if err != nil {
		return nil, fmt.Errorf("SHOW BINARY LOGS: %w", err)
	}
	out := map[string]int64{}
	for i := range r.RowNumber() {
		name, _ := r.GetString(i, 0)
		size, _ := r.GetInt(i, 1)
		out[name] = size
	}
	return out, nil
}

// binlogBytes is the length of binlog between two positions.
func binlogBytes(c *client.Conn, from, to binlogPos) (int64, error) {
	if from.file == to.file {
		return to.pos - from.pos, nil
	}
	sizes, err := binlogSizes(c)
	if err != nil {
		return 0, err
	}
	var n int64
	for name, size := range sizes {
		switch {
		case name == from.file:
			n += size - from.pos
		case name == to.file:
			n += to.pos
		case name > from.file && name < to.file:
			n += size
		}
	}
	return n, nil
}

// runEnv is what one run owns: the topic, registry and directory of
// sourcebench.Env, and a database with the table; with -debezium, the
// marker table and Debezium's connectors. close removes all of it.
type runEnv struct {
	*sourcebench.Env // Name is the database and topic prefix

	serverID int
	srv      server
	admin    *client.Conn // on no database: CREATE, DROP and the binlog's status
	db       *client.Conn // on the run's database: the load

	workers *baseline.Workers
	dbz     map[baseline.Variant]baseline.Connector // each named as its topic prefix
}

// newRunEnv creates the run's topic, registry, database and table, and
// writes the connector configuration.
func newRunEnv(ctx context.Context, o *options, kind string, run int) (e *runEnv, err error) {
	srv, err := parseDSN(o.dsn)
	if err != nil {
		return nil, err
	}
	name := sourcebench.NewName(kind)
	e = &runEnv{srv: srv, serverID: o.serverID + run - 1}
	if e.Env, err = sourcebench.NewEnv(ctx, &o.Options, name, name+"."+name+"."+table); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			e.close()
		}
	}()
	if e.admin, err = e.srv.connect(""); err != nil {
		return nil, err
	}
	if _, err = e.admin.Execute("CREATE DATABASE " + name); err != nil {
		return nil, fmt.Errorf("create database %s: %w", name, err)
	}
	if e.db, err = e.srv.connect(name); err != nil {
		return nil, err
	}
	if _, err = e.db.Execute(createTable); err != nil {
		return nil, fmt.Errorf("create table %s.%s: %w", name, table, err)
	}
	cfg := e.config()
	if o.workers != nil {
		if _, err = e.db.Execute(createMarker); err != nil {
			return nil, fmt.Errorf("create table %s.marker: %w", name, err)
		}
		e.workers = o.workers
		e.dbz = e.debeziumConnectors(cfg, o.DebeziumVariants(run))
		// JSON, as Debezium writes through Kafka Connect's JsonConverter.
		cfg[kafka.KeyConverterKey], cfg[kafka.ValueConverterKey] = kafka.JSONConverterClass, kafka.JSONConverterClass
	}
	return e, e.WriteConfig(cfg)
}

// debeziumConnectors are the run's Debezium connectors of variants: sluice's
// configuration cfg with Debezium's MariaDB class, a topic prefix and
// server id of their own, the marker table and a file schema history in
// their worker's directory. The server may be shared: the snapshot takes
// no locks (no DDL runs meanwhile), and a row event of another database
// that Debezium cannot decode (such as a date of February 31) is logged
// and skipped rather than failing the connector.
func (e *runEnv) debeziumConnectors(cfg map[string]string, variants []baseline.Variant) map[baseline.Variant]baseline.Connector {
	out := map[baseline.Variant]baseline.Connector{}
	for i, v := range variants {
		name := e.Name + "_dbz_" + string(v)
		c := maps.Clone(cfg)
		maps.Copy(c, map[string]string{
			"connector.class":        "io.debezium.connector.mariadb.MariaDbConnector",
			"topic.prefix":           name,
			"database.server.id":     strconv.Itoa(e.serverID + 1000*(i+1)),
			"table.include.list":     e.Name + "." + table + "," + e.Name + ".marker",
			"include.schema.changes": "false", "snapshot.locking.mode": "none",
			"event.deserialization.failure.handling.mode":               "warn",
			"schema.history.internal":                                   "io.debezium.storage.file.history.FileSchemaHistory",
			"schema.history.internal.file.filename":                     filepath.Join(e.workers.Dir(v), name+".history"),
			"schema.history.internal.store.only.captured.databases.ddl": "true",
			"schema.history.internal.skip.unparseable.ddl":              "true",
			"tasks.max": "1", "topic.creation.default.partitions": "1", "topic.creation.default.replication.factor": "-1",
		})
		out[v] = baseline.Connector{Name: name, Config: c, Topic: name + "." + e.Name + "." + table, MarkerTopic: name + "." + e.Name + ".marker"}
	}
	return out
}

// config is the connector configuration: Debezium's MySQL keys, the
// connector's defaults otherwise.
func (e *runEnv) config() map[string]string {
	return map[string]string{
		"connector.class":   "mysql",
		"database.hostname": e.srv.host, "database.port": strconv.Itoa(e.srv.port),
		"database.user": e.srv.user, "database.password": e.srv.password,
		"database.server.id":    strconv.Itoa(e.serverID),
		"topic.prefix":          e.Name,
		"database.include.list": e.Name,
		"table.include.list":    e.Name + "." + table,
		"snapshot.mode":         "no_data",
	}
}

// close drops the database, then the topics (the schema-change topic,
// <topic.prefix>, too), the registry and the directory
// (sourcebench.Env.Close). It reports failures on stderr and goes on. The
// binlog the run wrote stays: it is the server's to expire.
func (e *runEnv) close() {
	topics := []string{e.Name}
	if e.workers != nil {
		e.workers.Remove(e.dbz)
		for _, c := range e.dbz {
			topics = append(topics, c.Topic, c.MarkerTopic)
			os.Remove(c.Config["schema.history.internal.file.filename"])
		}
	}
	if e.db != nil {
		e.db.Close()
	}
	if e.admin != nil {
		_, err := e.admin.Execute("DROP DATABASE IF EXISTS " + e.Name)
		e.Warn("drop database "+e.Name, err)
		e.admin.Close()
	}
	e.Close(topics...)
}
