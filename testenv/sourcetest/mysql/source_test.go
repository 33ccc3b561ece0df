// Package mysql_test runs the source acceptance suite against the MySQL
// source on the test MariaDB.
package mysql_test

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/go-mysql-org/go-mysql/client"

	_ "github.com/sluice-cdc/sluice/connectors/mysql"
	"github.com/sluice-cdc/sluice/testenv"
	"github.com/sluice-cdc/sluice/testenv/sourcetest"
)

func TestMain(m *testing.M) { sourcetest.Main(m) }

func TestAcceptance(t *testing.T) { sourcetest.Run(t, driver{}) }

// driver gives each scenario a database (schema) of its own on the test
// MariaDB, captured under a server id of its own.
type driver struct{}

func (driver) Class() string { return "mysql" }

func (driver) RequiredKeys() []string {
	return []string{"connector.class", "database.hostname", "database.user", "database.server.id", "topic.prefix"}
}

func (driver) NewDatabase(t *testing.T) sourcetest.Database {
	dsn := testenv.MySQLDSN(t)
	cred, rest, ok1 := strings.Cut(dsn, "@tcp(")
	addr, _, ok2 := strings.Cut(rest, ")/")
	if !ok1 || !ok2 {
		t.Fatalf("cannot read %s %q: want user:password@tcp(host:port)/db", testenv.EnvMySQLDSN, dsn)
	}
	d := &database{name: testenv.Name(t, "accept"), addr: addr, serverID: 100000 + rand.IntN(1<<30)}
	d.user, d.pass, _ = strings.Cut(cred, ":")
	var err error
	if d.conn, err = client.Connect(addr, d.user, d.pass, ""); err != nil {
		t.Fatalf("connect to MariaDB at %s: %v", addr, err)
	}
	if _, err := d.conn.Execute("CREATE DATABASE " + d.name); err != nil {
		d.conn.Close()
		t.Fatalf("create database %s: %v", d.name, err)
	}
	t.Cleanup(func() {
		if _, err := d.conn.Execute("DROP DATABASE IF EXISTS " + d.name); err != nil {
			t.Logf("drop database %s: %v", d.name, err)
		}
		d.conn.Close()
	})
	if _, err := d.conn.Execute("USE " + d.name); err != nil {
		t.Fatal(err)
	}
	return d
}

type database struct {
	name, addr, user, pass string
	serverID               int
	mu                     sync.Mutex // serialises the use of conn
	conn                   *client.Conn
}

func (d *database) Config() map[string]string {
	host, port, _ := strings.Cut(d.addr, ":")
	return map[string]string{
		"connector.class":   "io.debezium.connector.mysql.MySqlConnector",
		"database.hostname": host, "database.port": port,
		"database.user": d.user, "database.password": d.pass,
		"database.server.id": strconv.Itoa(d.serverID), "topic.prefix": d.name,
		"database.include.list":       d.name,
		"producer.override.linger.ms": "1",
	}
}

func (d *database) Table(name string) string { return d.name + "." + name }

func (d *database) Exec(stmts ...string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range stmts {
		if _, err := d.conn.Execute(s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

func (d *database) Tx(stmts ...string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.conn.Begin(); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	for _, s := range stmts {
		if _, err := d.conn.Execute(s); err != nil {
			d.conn.Rollback()
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	if err := d.conn.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
