package sourcetest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/connectors/metrics"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/testenv/topictest"
)

// ConversionFailures is what a source's tests supply to run
// KillDuringConversionFailures: a database of theirs holding two empty
// tables, t (id INT PRIMARY KEY, v of a text type) and marker (id INT
// PRIMARY KEY), and the source's ways of writing to it and of naming a
// transaction.
type ConversionFailures struct {
	Target
	// Config is the source's configuration capturing t and marker; the
	// scenario sets event.processing.failure.handling.mode and
	// errors.deadletterqueue.topic.name on copies of it.
	Config map[string]string
	// DeadLetterTopic is the dead-letter topic the scenario configures.
	DeadLetterTopic string
	// Topic returns the topic of a table of the database.
	Topic func(table string) string
	// Rejected is the value of v that the source, as its tests build it,
	// refuses to convert.
	Rejected string
	// Commit runs the statements in one transaction, failing the test on
	// an error, and returns the transaction's id as FailMessage takes it.
	Commit func(stmts ...string) string
	// FailMessage matches the error the source stops with, in fail mode,
	// at the change of t holding Rejected in transaction tx.
	FailMessage func(tx string) *regexp.Regexp
	// Capturing, when set, waits until the first child captures changes:
	// those committed from then on reach it.
	Capturing func()
	// Retire ends the last child of warn mode once it has delivered
	// everything committed so far, having stored a position from which a
	// restart delivers nothing of that again.
	Retire func(*Child)
}

// KillDuringConversionFailures kills a source in warn mode with a
// dead-letter topic again and again while changes, some of which do not
// convert, are committed; then restarts it in fail mode, where it stops at
// the next failing change, each time at the same one, and in skip mode,
// where it goes on. Every change that converts is delivered, every other
// one is in the dead-letter topic, and none of them in the table's topic.
// The source runs in child processes on one state directory.
func KillDuringConversionFailures(t *testing.T, f ConversionFailures) {
	dlq := f.DeadLetterTopic
	mode := func(m string) map[string]string {
		return with(f.Config, "event.processing.failure.handling.mode", m, "errors.deadletterqueue.topic.name", dlq)
	}
	reader := topictest.NewReader(f.Brokers, f.Registry)
	state := t.TempDir()
	c := f.StartChild(t, mode("warn"), state)
	if f.Capturing != nil {
		f.Capturing()
	}
	rejected := func(id int) bool { return id%7 == 3 }
	value := func(id int) string {
		if rejected(id) {
			return f.Rejected
		}
		return "ok"
	}
	next := 1
	write := func(n int) {
		for range n {
			// Transactions of one to three rows.
			var stmts []string
			for range 1 + rand.IntN(3) {
				stmts = append(stmts, fmt.Sprintf("INSERT INTO t VALUES (%d, '%s')", next, value(next)))
				next++
			}
			f.Commit(stmts...)
		}
	}
	for kill := range 4 {
		write(20 + rand.IntN(40))
		time.Sleep(time.Duration(100+rand.IntN(400)) * time.Millisecond)
		c.Kill()
		t.Logf("kill %d after id %d", kill+1, next-1)
		c = f.StartChild(t, mode("warn"), state)
	}
	// A marker row read as a streamed change (op c) says that the child
	// has read every change committed before it. Count alone would not:
	// a child resuming a snapshot that a kill interrupted reads rows
	// committed after the snapshot's position (the marker among them) as
	// well as streaming them (at least once).
	marker := func(id int32) {
		t.Helper()
		_, ok := reader.ReadUntil(t, f.Topic("marker"), nil, func(rs []topictest.Record) bool {
			return slices.ContainsFunc(rs, func(r topictest.Record) bool {
				_, change, err := r.Change()
				return err == nil && change.Op == event.OpCreate && change.After[0] == id
			})
		})
		if !ok {
			t.Fatalf("marker %d: not streamed to %s", id, f.Topic("marker"))
		}
	}
	write(20)
	f.Commit("INSERT INTO marker VALUES (1)")
	marker(1)
	f.Retire(c)

	// fail mode stops at the next failing change, and at the same one
	// after a restart.
	for ; !rejected(next); next++ {
		f.Commit(fmt.Sprintf("INSERT INTO t VALUES (%d, 'ok')", next))
	}
	failing := next
	tx := f.Commit(fmt.Sprintf("INSERT INTO t VALUES (%d, '%s')", failing, value(failing)))
	next++
	write(5)
	var first string
	for attempt := range 2 {
		c = f.StartChild(t, mode("fail"), state)
		if err := c.Wait(t, 60*time.Second); err == nil {
			t.Fatalf("attempt %d: the child exited cleanly: %s", attempt, c.Output())
		}
		out := c.Output()
		line := strings.TrimSpace(out[strings.LastIndex(out, "child: ")+len("child: "):])
		if !f.FailMessage(tx).MatchString(line) {
			t.Fatalf("attempt %d: the child ended with %q, want %s", attempt, line, f.FailMessage(tx))
		}
		if attempt == 0 {
			first = line
		} else if line != first {
			t.Errorf("the restart stopped at %q, the first run at %q", line, first)
		}
	}
	c = f.StartChild(t, mode("skip"), state)
	f.Commit("INSERT INTO marker VALUES (2)")
	marker(2)

	var seen []int
	for _, r := range reader.ReadAll(t, f.Topic("t"), nil) {
		_, change, err := r.Change()
		if err != nil {
			t.Fatal(err)
		}
		id := int(change.After[0].(int32))
		if rejected(id) {
			t.Errorf("row %d, which does not convert, reached the table's topic", id)
		}
		seen = append(seen, id)
	}
	lettered := checkDeadLettered(t, f.Brokers, dlq, func() { c.Alive(t) }, next-1, rejected, seen)
	t.Logf("%d rows, %d of them in the dead-letter topic; fail mode stopped twice at row %d", next-1, lettered, failing)
}

// checkDeadLettered checks that of the rows with ids 1 to rows, each that
// rejected names is in the dead-letter topic dlq, its id in the record's
// "after", and each other one among delivered, the ids read from the
// table's topic. alive, called between polls of dlq, fails the test when
// the source stopped. It returns how many rows dlq holds.
func checkDeadLettered(t testing.TB, brokers []string, dlq string, alive func(), rows int, rejected func(id int) bool, delivered []int) int {
	t.Helper()
	seen := map[int]bool{}
	for _, id := range delivered {
		seen[id] = true
	}
	lettered := map[int]bool{}
	for _, r := range topictest.NewRawReader(brokers).ReadAll(t, dlq, alive) {
		var m struct {
			After struct {
				ID string `json:"id"`
			} `json:"after"`
		}
		if err := json.Unmarshal(r.Raw.Value, &m); err != nil {
			t.Fatal(err)
		}
		var id int
		fmt.Sscan(m.After.ID, &id)
		lettered[id] = true
	}
	var missing, unlettered []int
	for id := 1; id <= rows; id++ {
		switch {
		case rejected(id) && !lettered[id]:
			unlettered = append(unlettered, id)
		case !rejected(id) && !seen[id]:
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 || len(unlettered) > 0 {
		t.Fatalf("of %d rows, missing from the table's topic: %v; missing from the dead-letter topic: %v", rows, missing, unlettered)
	}
	return len(lettered)
}

// FailedChanges reads sluice_source_failed_changes_total, the changes that
// did not convert, from reg, the registry a source started by StartSource
// records its metrics in (WithMetrics).
func FailedChanges(t testing.TB, reg *metrics.Registry) int {
	t.Helper()
	var b strings.Builder
	if err := reg.WritePrometheus(&b); err != nil {
		t.Fatal(err)
	}
	var n int
	for _, line := range strings.Split(b.String(), "\n") {
		if v, ok := strings.CutPrefix(line, `sluice_source_failed_changes_total{connector="test"} `); ok {
			fmt.Sscan(v, &n)
		}
	}
	return n
}
