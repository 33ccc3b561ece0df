package sourcetest

import "testing"

// Driver is what a source supplies to run the suite: its class and a way
// to make an empty database for each scenario.
type Driver interface {
	// Class is the name the source registers its class under
	// (connectors.Lookup), as a user writes it in connector.class.
	Class() string
	// RequiredKeys are the configuration keys a user must write; leaving
	// any one out must be an error that names it.
	RequiredKeys() []string
	// NewDatabase makes an empty database (a Postgres database, a MariaDB
	// schema) of the scenario's own, dropped when t ends. The suite calls
	// it from the scenario's goroutine, and starts sources on it only
	// afterwards, so their cleanups run before the database's.
	NewDatabase(t *testing.T) Database
}

// Database is one scenario's database. Statements are the SQL that
// PostgreSQL and MariaDB both accept, with bare table names that resolve in
// this database: CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(100), n INT),
// INSERT, UPDATE, DELETE, ALTER TABLE t ADD COLUMN c INT and DROP COLUMN c.
// Exec and Tx are safe for concurrent use; they return once the
// statements are committed, or the error of the statement that failed.
type Database interface {
	// Config is a configuration, as a user writes it, that captures every
	// table of this database (and nothing else) with snapshot.mode initial,
	// under a topic.prefix no other scenario uses.
	Config() map[string]string
	// Exec runs each statement in a transaction of its own (autocommit).
	Exec(stmts ...string) error
	// Tx runs the statements in one transaction and commits it; on an
	// error it rolls the transaction back.
	Tx(stmts ...string) error
	// Table is a table's name as include and exclude lists match it and
	// as it appears in topic names: "public.t", "db_x.t".
	Table(name string) string
}
