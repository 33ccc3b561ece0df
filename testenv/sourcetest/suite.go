// Package sourcetest is the acceptance suite every source connector
// passes. A source supplies a Driver — its class, the keys a user must
// write, and a way to make a database, configure the source on it and write
// to it — and calls Run from a test; the suite owns the scenarios:
// snapshot then stream under concurrent writes, stop and restart, SIGKILL
// of a child process, columns added and dropped, filters, configuration
// errors, and what Running promises.
//
// Scenarios run the source in-process as the daemon does (the class's
// Spec.Parse and NewSource, kafka.NewSourceWriter) against the real
// database and Kafka from testenv, with an embedded schema registry, and
// assert the exact data read back from Kafka. The SIGKILL scenario runs the
// source in a child process: the driver's test binary itself, which is why
// a driver's package runs its tests through Main:
//
//	func TestMain(m *testing.M) { sourcetest.Main(m) }
//	func TestAcceptance(t *testing.T) { sourcetest.Run(t, driver{}) }
//
// A connector's own integration tests run their source the same two ways
// through a Target: StartSource in-process, StartChild in a child process.
// Scenarios and checks that every source's tests run, but on tables and
// with hooks each source supplies, live here too: the SIGKILL scenario
// under conversion failures (KillDuringConversionFailures), the checks of
// a table's topic after a snapshot under a workload (CheckRebuilt,
// CheckReadPositions, CheckHeld), and snapshots through signals
// (RunSnapshot, CheckSnapshotBySurrogateKey).
package sourcetest

import (
	"maps"
	"strings"
	"testing"

	"github.com/sluice-cdc/sluice/schema/registry"
	"github.com/sluice-cdc/sluice/testenv"
	"github.com/sluice-cdc/sluice/testenv/kafkatest"
	"github.com/sluice-cdc/sluice/testenv/registrytest"
	"github.com/sluice-cdc/sluice/testenv/topictest"
)

// Target is where the sources a test starts write: a Kafka cluster and a
// schema registry. A connector's own tests make one to run its source
// in-process (StartSource) or in a child process (StartChild) as the
// suite does.
type Target struct {
	Brokers  []string
	Registry *registry.Client
	// RegistryURL is the registry's address, for a child process.
	RegistryURL string
}

// Suite is one run of the scenarios for one driver: the Kafka cluster, the
// registry and the reader of topics its scenarios share.
type Suite struct {
	Target
	driver Driver
	// Reader reads the scenarios' topics back, decoded with Registry.
	Reader *topictest.Reader
}

// Run runs every scenario of the suite against d's source, each as a
// subtest. It skips, or fails under testenv.EnvRequired, when the test
// services are missing.
func Run(t *testing.T, d Driver) {
	t.Run("configuration", func(t *testing.T) { testConfig(t, d) })
	s := newSuite(t, d)
	for _, sc := range []struct {
		name string
		run  func(*testing.T, *Suite)
	}{
		{"snapshot then stream under concurrent writes has no gap and no overlap", testSnapshotThenStream},
		{"restart after a clean stop resumes with no duplicates", testCleanRestart},
		{"SIGKILL during multi-row transactions loses no committed change", testKill},
		{"a column added and dropped mid-stream", testColumnAddDrop},
		{"table include list and column exclude list", testIncludeFilters},
		{"table exclude list", testExcludeFilter},
		{"Running means capturing", testRunningMeansCapturing},
	} {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, s) })
	}
}

func newSuite(t *testing.T, d Driver) *Suite {
	t.Helper()
	brokers := testenv.KafkaBrokers(t)
	name := testenv.Name(t, "_schemas_acceptance")
	kafkatest.DeleteTopicsAtCleanup(t, brokers, func(topic string) bool { return topic == name })
	reg := registrytest.Start(t, brokers, name)
	return &Suite{Target: Target{Brokers: brokers, Registry: reg.Client, RegistryURL: reg.URL}, driver: d,
		Reader: topictest.NewReader(brokers, reg.Client)}
}

// database makes a scenario's database and returns it with its
// configuration; the scenario's topics are deleted when t ends.
func (s *Suite) database(t *testing.T) (Database, map[string]string) {
	t.Helper()
	db := s.driver.NewDatabase(t)
	cfg := db.Config()
	prefix := cfg["topic.prefix"]
	if prefix == "" {
		t.Fatal("the driver's configuration has no topic.prefix")
	}
	kafkatest.DeleteTopicsAtCleanup(t, s.Brokers, func(topic string) bool { return strings.HasPrefix(topic, prefix+".") })
	return db, cfg
}

// topic is the topic of a table of db under the configuration cfg:
// <topic.prefix>.<schema or database>.<table>.
func topic(cfg map[string]string, db Database, table string) string {
	return cfg["topic.prefix"] + "." + db.Table(table)
}

// with returns a copy of cfg with the keys of kv (key, value, key, value…)
// set.
func with(cfg map[string]string, kv ...string) map[string]string {
	out := maps.Clone(cfg)
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// mustExec runs statements each in autocommit, failing the test on an error.
func mustExec(t testing.TB, db Database, stmts ...string) {
	t.Helper()
	if err := db.Exec(stmts...); err != nil {
		t.Fatal(err)
	}
}

// mustTx runs statements in one transaction, failing the test on an error.
func mustTx(t testing.TB, db Database, stmts ...string) {
	t.Helper()
	if err := db.Tx(stmts...); err != nil {
		t.Fatal(err)
	}
}
