// Package testenv gives integration tests the addresses of the real services
// sluice works with — PostgreSQL, MariaDB, Kafka and Elasticsearch — that
// testenv/up.sh starts on 127.0.0.1 (see testenv/README.md).
//
// Each helper returns the address that up.sh exported. When it is not set the
// test is skipped with a hint on how to start the services, or fails instead
// when SLUICE_TESTENV_REQUIRED is set (as in CI), so a missing service is never
// mistaken for a passing test. The helpers are safe to call from parallel tests.
package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// Environment variables written by testenv/up.sh.
const (
	EnvPostgresURL      = "SLUICE_TEST_PG_URL"        // postgres://sluice:sluice@127.0.0.1:PORT/sluice?sslmode=disable
	EnvMySQLDSN         = "SLUICE_TEST_MYSQL_DSN"     // sluice:sluice@tcp(127.0.0.1:PORT)/sluice
	EnvKafkaBrokers     = "SLUICE_TEST_KAFKA_BROKERS" // 127.0.0.1:PORT
	EnvElasticsearchURL = "SLUICE_TEST_ES_URL"        // http://127.0.0.1:PORT

	// EnvRequired, when non-empty, turns a missing service into a test failure.
	EnvRequired = "SLUICE_TESTENV_REQUIRED"
)

// PostgresURL returns the URL of a PostgreSQL server with wal_level=logical,
// as role sluice (LOGIN, REPLICATION, SUPERUSER) on database sluice. Add
// replication=database to its query for a logical replication connection.
func PostgresURL(t testing.TB) string {
	t.Helper()
	return lookup(t, EnvPostgresURL, "PostgreSQL")
}

// MySQLDSN returns a go-sql-driver style DSN, user:password@tcp(host:port)/db,
// of a MariaDB server that writes ROW binlogs with full row images and
// metadata and GTIDs; the user holds all privileges, replication included.
func MySQLDSN(t testing.TB) string {
	t.Helper()
	return lookup(t, EnvMySQLDSN, "MariaDB")
}

// KafkaBrokers returns the seed brokers, host:port separated by commas, of a
// single-node Kafka cluster that creates topics on first use.
func KafkaBrokers(t testing.TB) []string {
	t.Helper()
	return strings.Split(lookup(t, EnvKafkaBrokers, "Kafka"), ",")
}

// KafkaSASL is the SASL_SSL listener of the test broker.
type KafkaSASL struct {
	Brokers        []string
	User, Password string // a SCRAM-SHA-512 user
	CAFile         string // PEM of the CA that signed the broker's certificate
}

// KafkaSASLSSL returns the test broker's SASL_SSL listener (SCRAM-SHA-512,
// a certificate testenv/up.sh made at start).
func KafkaSASLSSL(t testing.TB) KafkaSASL {
	t.Helper()
	const what = "Kafka SASL_SSL listener"
	return KafkaSASL{Brokers: strings.Split(lookup(t, "SLUICE_TEST_KAFKA_SASL_SSL_BROKERS", what), ","),
		User: lookup(t, "SLUICE_TEST_KAFKA_SASL_USER", what), Password: lookup(t, "SLUICE_TEST_KAFKA_SASL_PASSWORD", what),
		CAFile: lookup(t, "SLUICE_TEST_KAFKA_CA_FILE", what)}
}

// ElasticsearchURL returns the base URL of a single-node Elasticsearch
// cluster without security.
func ElasticsearchURL(t testing.TB) string {
	t.Helper()
	return lookup(t, EnvElasticsearchURL, "Elasticsearch")
}

// Name returns prefix followed by '_' and 12 random hex digits: a name for a
// table, slot, publication, topic or index that no other test or earlier run
// uses. It is lower case, so it suits every one of those services.
func Name(t testing.TB, prefix string) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("testenv: random name: %v", err)
	}
	return strings.ToLower(prefix) + "_" + hex.EncodeToString(b)
}

func lookup(t testing.TB, name, service string) string {
	t.Helper()
	if v := os.Getenv(name); v != "" {
		return v
	}
	const hint = "start the test services with `eval \"$(make -s testenv-up)\"` (or `eval \"$(testenv/up.sh)\"`), or run `make test`"
	if os.Getenv(EnvRequired) != "" {
		t.Fatalf("%s is not set, and %s requires %s: %s", name, EnvRequired, service, hint)
	}
	t.Skipf("%s is not set, so there is no %s to test against: %s", name, service, hint)
	return ""
}
