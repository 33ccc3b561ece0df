package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/sluice-cdc/sluice/bench/internal/kafkaenv"
	"github.com/sluice-cdc/sluice/bench/internal/pipeline"

	// The source class the pipeline runs.
	_ "github.com/sluice-cdc/sluice/connectors/mysql"
)

// table is the benchmark table: rows of about 200 bytes (id, four integers,
// a timestamp and 150 characters of text), as bench/postgres's.
const table = "rows"

const createTable = "CREATE TABLE `rows` (" +
	"id  BIGINT NOT NULL PRIMARY KEY," +
	"a   INT NOT NULL," +
	"b   INT NOT NULL," +
	"c   BIGINT NOT NULL," +
	"d   INT NOT NULL," +
	"ts  TIMESTAMP(6) NOT NULL," +
	"txt TEXT NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"

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

// runEnv is what one run owns: a database with the table, the table's
// topic (append-time timestamps) and a schema registry, and a directory
// for the connector's config and state. close removes all of it.
type runEnv struct {
	name     string // database and topic prefix
	topic    string
	serverID int
	srv      server
	admin    *client.Conn // on no database: CREATE, DROP and the binlog's status
	db       *client.Conn // on the run's database: the load
	kafka    *kafkaenv.Env

	dir, stateDir, configFile string
}

// newRunEnv creates the run's database, table, topic and registry, and
// writes the connector configuration.
func newRunEnv(ctx context.Context, o options, kind string, run int) (e *runEnv, err error) {
	suffix := make([]byte, 5)
	rand.Read(suffix)
	name := "bench_" + kind + "_" + hex.EncodeToString(suffix)
	e = &runEnv{name: name, topic: name + "." + name + "." + table, serverID: o.serverID + run - 1}
	defer func() {
		if err != nil {
			e.close()
		}
	}()
	if e.srv, err = parseDSN(o.dsn); err != nil {
		return nil, err
	}
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
	return e, e.writeConfig(o.producer)
}

// writeConfig writes the connector configuration, as a user would, to
// e.configFile: Debezium's MySQL keys, the connector's defaults otherwise.
func (e *runEnv) writeConfig(p pipeline.Producer) error {
	cfg := map[string]string{
		"connector.class":   "mysql",
		"database.hostname": e.srv.host, "database.port": strconv.Itoa(e.srv.port),
		"database.user": e.srv.user, "database.password": e.srv.password,
		"database.server.id":    strconv.Itoa(e.serverID),
		"topic.prefix":          e.name,
		"database.include.list": e.name,
		"table.include.list":    e.name + "." + table,
		"snapshot.mode":         "no_data",
	}
	p.Apply(cfg)
	b, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	return os.WriteFile(e.configFile, b, 0o600)
}

// startChild starts the pipeline process for e and waits until it reports
// ready. profile, when set, is where it writes its CPU profile.
func (e *runEnv) startChild(ctx context.Context, o options, profile string) (*pipeline.Child, error) {
	args := []string{"-role", "sluice", "-config", e.configFile, "-registry", e.kafka.RegistryURL,
		"-state", e.stateDir, "-brokers", o.brokers}
	if profile != "" {
		args = append(args, "-cpuprofile", profile)
	}
	if o.verbose {
		args = append(args, "-v")
	}
	return pipeline.Start(ctx, append(args, o.producer.Args()...)...)
}

// waitRecords waits until the topic holds at least want records and returns
// when that was seen (polled every 10 ms). It fails when the pipeline stops
// or the count does not move for stall.
func (e *runEnv) waitRecords(ctx context.Context, o options, c *pipeline.Child, want int64, stall time.Duration) (time.Time, error) {
	return e.kafka.WaitRecords(ctx, want, stall, c.Failed, func(n, want int64, perSecond float64) {
		logf(o, "%d of %d records, %.0f/s", n, want, perSecond)
	})
}

// close drops the database and the topics, stops the registry and removes
// the directory. It reports failures on stderr and goes on. The binlog
// the run wrote stays: it is the server's to expire.
func (e *runEnv) close() {
	warn := func(what string, err error) {
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench/mysql: clean-up: %s: %v\n", what, err)
		}
	}
	if e.db != nil {
		e.db.Close()
	}
	if e.admin != nil {
		_, err := e.admin.Execute("DROP DATABASE IF EXISTS " + e.name)
		warn("drop database "+e.name, err)
		e.admin.Close()
	}
	if e.kafka != nil {
		warn("Kafka", e.kafka.Close(e.name)) // and the schema-change topic, <topic.prefix>
	}
	if e.dir != "" {
		warn("remove "+e.dir, os.RemoveAll(e.dir))
	}
}
