package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/jackc/pgx/v5"

	"github.com/sluice-cdc/sluice/schema/registry"
	"github.com/sluice-cdc/sluice/testenv"
	"github.com/sluice-cdc/sluice/testenv/faults"
	"github.com/sluice-cdc/sluice/testenv/kafkatest"
	"github.com/sluice-cdc/sluice/testenv/mysqltest"
	"github.com/sluice-cdc/sluice/testenv/registrytest"
	"github.com/sluice-cdc/sluice/testenv/topictest"
)

// faultsLong says whether the fault scenarios run their long forms
// (make faults sets SLUICE_FAULTS=long) rather than their short ones.
func faultsLong() bool { return os.Getenv("SLUICE_FAULTS") == "long" }

// startPrivate starts services of the test's own for a scenario that
// kills, freezes or restarts them. Their start alone takes from ten
// seconds to a minute, so make test (SLUICE_FAULTS unset) skips these
// scenarios: make faults runs them long, and SLUICE_FAULTS=short runs
// their short forms.
func startPrivate(t *testing.T, services ...string) *faults.Private {
	t.Helper()
	return startPrivateWith(t, nil, services...)
}

// startPrivateWith is startPrivate with environ added to the services'
// environment (faults.StartPrivateWith).
func startPrivateWith(t *testing.T, environ []string, services ...string) *faults.Private {
	t.Helper()
	if os.Getenv("SLUICE_FAULTS") == "" {
		t.Skipf("starts a private %s: make faults runs it, or set SLUICE_FAULTS=short", strings.Join(services, ", "))
	}
	return faults.StartPrivateWith(t, environ, services...)
}

// byLength picks a scenario's setting for its short or long form.
func byLength[T any](short, long T) T {
	if faultsLong() {
		return long
	}
	return short
}

// faultRig is a daemon with one source connector capturing a workload
// table, on a Kafka (the test environment's, or a private one for
// scenarios that harm the broker) with the registry in the test; its
// state directory survives restarts, so a restarted daemon resumes.
type faultRig struct {
	t        *testing.T
	brokers  []string
	reg      *registrytest.Registry
	name     string // the database, slot, publication and topic prefix
	topic    string // the workload table's topic
	table    string // the workload table, as the writer names it
	writer   *faults.Writer
	pg       *database // the Postgres database, for a test's own statements; nil on MariaDB
	config   string    // the daemon's configuration file
	conns    string    // the connectors directory
	env      []string
	source   map[string]string // the source connector's configuration; it is named "source"
	regProxy *faults.Proxy     // between the daemon and the registry, with rigOptions.regCut
	d        *daemonProc
}

// faultSource is the database a rig captures.
type faultSource int

const (
	onPostgres faultSource = iota
	onMariaDB
)

func (s faultSource) String() string { return [...]string{"postgres", "mariadb"}[s] }

// rigOptions change what newFaultRig sets up.
type rigOptions struct {
	brokers []string          // Kafka; the test environment's when nil
	regCut  bool              // the daemon reaches the registry through a proxy the test can cut (the rig's regProxy)
	keys    map[string]string // source keys added to the connector's
	viaREST bool              // the test creates the connector through REST; else it is a file every start runs
}

// newFaultRig creates the workload table on the source database and
// writes the daemon's configuration and the source connector's ("source").
func newFaultRig(t *testing.T, src faultSource, o rigOptions) *faultRig {
	t.Helper()
	sluiceBinary(t)
	brokers := o.brokers
	if brokers == nil {
		brokers = testenv.KafkaBrokers(t)
	}
	r := &faultRig{t: t, brokers: brokers, name: testenv.Name(t, "flt")}
	seed := uint64(time.Now().UnixNano())
	t.Logf("workload seed %d", seed)
	var cfg map[string]string
	switch src {
	case onPostgres:
		pgURL, err := url.Parse(testenv.PostgresURL(t))
		if err != nil {
			t.Fatal(err)
		}
		db := newDatabase(t)
		r.name, r.pg = db.name, db
		db.exec(t, fmt.Sprintf(faults.TableDDL, "items"))
		conn, err := pgx.ConnectConfig(t.Context(), db.conn.Config().Copy())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(context.Background()) })
		r.table, r.topic = "items", r.name+".public.items"
		r.writer = faults.NewWriter(faults.Postgres{Conn: conn}, r.table, 5, seed)
		password, _ := pgURL.User.Password()
		r.env = append(r.env, "SOURCE_PASSWORD="+password)
		cfg = map[string]string{"connector.class": "postgres", "database.hostname": pgURL.Hostname(), "database.port": pgURL.Port(),
			"database.user": pgURL.User.Username(), "database.dbname": db.name, "database.sslmode": "disable",
			"slot.name": db.name, "publication.name": db.name, "table.include.list": "public.items"}
	case onMariaDB:
		srv := mysqltest.Lookup(t)
		admin := mysqltest.Connect(t)
		mysqltest.Exec(t, admin, "CREATE DATABASE "+r.name, fmt.Sprintf(faults.TableDDL, r.name+".items"))
		t.Cleanup(func() { mysqltest.Exec(t, admin, "DROP DATABASE IF EXISTS "+r.name) })
		conn, err := client.Connect(srv.Addr, srv.User, srv.Password, r.name)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		r.table, r.topic = "items", r.name+"."+r.name+".items"
		r.writer = faults.NewWriter(faults.MariaDB{Conn: conn}, r.table, 5, seed)
		r.env = append(r.env, "SOURCE_PASSWORD="+srv.Password)
		cfg = map[string]string{"connector.class": "mariadb", "database.hostname": srv.Host(), "database.port": srv.Port(),
			"database.user": srv.User, "database.server.id": fmt.Sprint(10000 + rand.IntN(100000)),
			"database.include.list": r.name, "table.include.list": r.name + ".items"}
	}
	cfg["database.password"] = "${env:SOURCE_PASSWORD}"
	cfg["topic.prefix"] = r.name
	for k, v := range o.keys {
		cfg[k] = v
	}
	kafkatest.DeleteTopicsAtCleanup(t, brokers, func(name string) bool { return strings.HasPrefix(name, r.name) || name == "_schemas_"+r.name })
	r.reg = registrytest.Start(t, brokers, "_schemas_"+r.name)
	regURL := r.reg.URL
	if o.regCut {
		u, err := url.Parse(regURL)
		if err != nil {
			t.Fatal(err)
		}
		r.regProxy = faults.NewProxy(t, u.Host)
		regURL = "http://" + r.regProxy.Addr()
	}
	dir := t.TempDir()
	r.conns = filepath.Join(dir, "connectors")
	os.Mkdir(r.conns, 0o700)
	r.config = filepath.Join(dir, "sluice.json")
	writeJSON(t, r.config, `{"state.dir": "`+dir+`/state", "shutdown.timeout.ms": 10000,
		"kafka": {"bootstrap.servers": "`+strings.Join(brokers, ",")+`"}, "schema.registry": {"url": "`+regURL+`"}}`)
	r.source = cfg
	if !o.viaREST {
		writeJSON(t, filepath.Join(r.conns, "source.json"), connectorJSON("source", cfg))
	}
	r.env = append(r.env, "SLUICE_REST_LISTEN=127.0.0.1:0", "SLUICE_LOG_FORMAT=json")
	return r
}

// connectorJSON is a connector's definition for the REST API or a file.
func connectorJSON(name string, cfg map[string]string) string {
	b, _ := json.Marshal(map[string]any{"name": name, "config": cfg})
	return string(b)
}

// start starts the daemon on the rig's state.
func (r *faultRig) start() *daemonProc {
	r.t.Helper()
	r.d = startDaemon(r.t, r.env, "--config", r.config, "--connectors-dir", r.conns)
	return r.d
}

// state is the source connector's state as GET /status reports it.
func (r *faultRig) state() string {
	_, body := r.d.call("GET", "/connectors/source/status", "")
	if i := strings.Index(body, `"connector":{"state":"`); i >= 0 {
		s := body[i+len(`"connector":{"state":"`):]
		return s[:strings.IndexByte(s, '"')]
	}
	return body
}

// waitState waits until the source connector is in state, polling often
// so that what follows comes right after, and returns how long it took.
func (r *faultRig) waitState(state string, within time.Duration) time.Duration {
	r.t.Helper()
	began := time.Now()
	for deadline := began.Add(within); ; time.Sleep(2 * time.Millisecond) {
		if got := r.state(); got == state {
			return time.Since(began)
		} else if time.Now().After(deadline) {
			r.t.Fatalf("source still %s after %v, want %s; logs:\n%s", got, within, state, r.d.log())
		}
	}
}

// verify reads the topic back with an independent consumer until every
// change of seq from on has arrived (or none came for topictest.Wait), checks
// the rule and returns the report and how long the reading took.
func (r *faultRig) verify(from int64, allowDuplicates bool) (faults.Report, time.Duration) {
	r.t.Helper()
	reg, err := registry.New(r.reg.URL)
	if err != nil {
		r.t.Fatal(err)
	}
	log := r.writer.Log()
	began := time.Now()
	var rep faults.Report
	var convErr error
	alive := func() {
		select {
		case err := <-r.d.done:
			r.t.Fatalf("the daemon exited: %v; logs:\n%s", err, r.d.log())
		default:
		}
	}
	topictest.NewReader(r.brokers, reg).ReadUntil(r.t, r.topic, alive, func(rs []topictest.Record) bool {
		var evs []faults.Event
		if evs, convErr = faults.Events(rs); convErr != nil {
			return true
		}
		rep = faults.Verify(log, from, evs)
		return len(rep.Missing) == 0
	})
	if convErr != nil {
		r.t.Fatal(convErr)
	}
	took := time.Since(began)
	if err := rep.Check(allowDuplicates); err != nil {
		r.t.Fatalf("topic %s: %s\n%v\ndaemon logs:\n%s", r.topic, rep, err, r.d.log())
	}
	return rep, took
}

// verifyState reads the whole topic back and checks that a consumer
// upserting its events by key ends with the table: for scenarios whose
// snapshot must bring the rows written before the connector started.
func (r *faultRig) verifyState() faults.Report {
	r.t.Helper()
	rep := faults.VerifyState(r.writer.Log(), faults.Replay(r.events()))
	if err := rep.Check(false); err != nil {
		r.t.Fatalf("topic %s replayed by key differs from the table: %s\n%v", r.topic, rep, err)
	}
	return rep
}

// streamSome starts the daemon, commits 20 transactions once the source is
// RUNNING and checks that they arrived; it returns the daemon and the
// first change it checked.
func (r *faultRig) streamSome() (*daemonProc, int64) {
	r.t.Helper()
	d := r.start()
	r.waitState("RUNNING", 60*time.Second)
	from := r.writer.Next()
	r.steps(20)
	r.verify(from, false)
	return d, from
}

// startUnderLoad starts the daemon, waits until its source is RUNNING and
// starts the workload at rate transactions a second, which then runs for
// 2 s; it returns the daemon, the workload's first change and the
// function that stops the workload.
func (r *faultRig) startUnderLoad(rate int) (*daemonProc, int64, func() error) {
	r.t.Helper()
	d := r.start()
	r.waitState("RUNNING", 60*time.Second)
	from := r.writer.Next()
	stop := r.writer.Start(r.t.Context(), rate)
	time.Sleep(2 * time.Second)
	return d, from, stop
}

// steps commits n transactions of the workload.
func (r *faultRig) steps(n int) {
	r.t.Helper()
	for range n {
		if err := r.writer.Step(r.t.Context()); err != nil {
			r.t.Fatal(err)
		}
	}
}

// events reads the whole topic back.
func (r *faultRig) events() []faults.Event {
	r.t.Helper()
	reg, err := registry.New(r.reg.URL)
	if err != nil {
		r.t.Fatal(err)
	}
	evs, err := faults.Events(topictest.NewReader(r.brokers, reg).ReadAll(r.t, r.topic, nil))
	if err != nil {
		r.t.Fatal(err)
	}
	return evs
}

// recovered waits until the topic holds a change of seq from on — every
// change before it then arrived too, or the final verification says which
// did not — and returns how long after since that was, at most within.
func (r *faultRig) recovered(from int64, since time.Time, within time.Duration) time.Duration {
	r.t.Helper()
	reg, err := registry.New(r.reg.URL)
	if err != nil {
		r.t.Fatal(err)
	}
	reader := topictest.NewReader(r.brokers, reg)
	for deadline := since.Add(within); ; {
		_, ok := reader.ReadUntil(r.t, r.topic, nil, func(rs []topictest.Record) bool {
			evs, err := faults.Events(rs[max(len(rs)-200, 0):])
			if err != nil {
				return false
			}
			for _, e := range evs {
				if e.Seq >= from {
					return true
				}
			}
			return false
		})
		if ok {
			return time.Since(since)
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("no change from %d on in topic %s %v after the fault; source %s; daemon logs:\n%s", from, r.topic, within, r.state(), r.d.log())
		}
	}
}
