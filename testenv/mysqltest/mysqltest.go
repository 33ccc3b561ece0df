// Package mysqltest gives integration tests the test MariaDB that
// testenv/up.sh starts: its address and credentials, connections closed
// when the test ends, and statements that fail the test when they fail.
package mysqltest

import (
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/client"

	"github.com/sluice-cdc/sluice/testenv"
)

// Server is the test MariaDB and the test user, who holds every privilege.
type Server struct {
	Addr           string // host:port
	User, Password string
	DB             string // the test user's default database
}

// Host and Port split Addr.
func (s Server) Host() string { h, _, _ := strings.Cut(s.Addr, ":"); return h }

// Port is the port part of Addr.
func (s Server) Port() string { _, p, _ := strings.Cut(s.Addr, ":"); return p }

// Lookup returns the test server (see testenv.MySQLDSN for when it skips).
func Lookup(t testing.TB) Server {
	t.Helper()
	dsn := testenv.MySQLDSN(t)
	cred, rest, ok1 := strings.Cut(dsn, "@tcp(")
	addr, db, ok2 := strings.Cut(rest, ")/")
	user, pass, _ := strings.Cut(cred, ":")
	if !ok1 || !ok2 {
		t.Fatalf("mysqltest: cannot parse %s %q: want user:password@tcp(host:port)/db", testenv.EnvMySQLDSN, dsn)
	}
	return Server{Addr: addr, User: user, Password: pass, DB: db}
}

// Connect opens a connection as the test user, closed when the test ends.
func Connect(t testing.TB) *client.Conn {
	t.Helper()
	s := Lookup(t)
	conn, err := client.Connect(s.Addr, s.User, s.Password, "")
	if err != nil {
		t.Fatalf("mysqltest: connect to %s: %v", s.Addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// Exec runs each statement in turn, failing the test at the first error.
func Exec(t testing.TB, conn *client.Conn, sqls ...string) {
	t.Helper()
	for _, sql := range sqls {
		if _, err := conn.Execute(sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
}
