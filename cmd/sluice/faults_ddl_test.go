package main

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/testenv/mysqltest"
)

// schemaChanges are the statements TestFaultSchemaChangesUnderLoad runs on
// the workload table, in order: a column added, retyped, moved (MariaDB
// alone can), dropped, another added with a default, and a NOT NULL one
// with a default. Each keeps the registry's default compatibility
// (BACKWARD): the last only because its schema carries the default. (The dropped column added
// again with another type would not: the schema without it is the first
// version again, so the registry compares the new one with the retyped.)
var schemaChanges = map[faultSource][]string{
	onPostgres: {
		"ALTER TABLE items ADD COLUMN extra integer",
		"ALTER TABLE items ALTER COLUMN extra TYPE bigint",
		"ALTER TABLE items DROP COLUMN extra",
		"ALTER TABLE items ADD COLUMN note text DEFAULT 'x'",
		"ALTER TABLE items ADD COLUMN flag integer NOT NULL DEFAULT 0",
	},
	onMariaDB: {
		"ALTER TABLE items ADD COLUMN extra int",
		"ALTER TABLE items MODIFY extra bigint FIRST",
		"ALTER TABLE items MODIFY v text NOT NULL AFTER id",
		"ALTER TABLE items DROP COLUMN extra",
		"ALTER TABLE items ADD COLUMN note varchar(20) DEFAULT 'x' AFTER id",
		"ALTER TABLE items ADD COLUMN flag int NOT NULL DEFAULT 0",
	},
}

// TestFaultSchemaChangesUnderLoad changes the workload table's columns
// while transactions stream — adds, retypes, moves, drops — and kills the
// daemon with SIGKILL a moment after each change, so that it resumes from a
// position before it and decodes the rows after it again. Every change
// arrives with its values in the right fields, in order per key. On
// MariaDB, whose binlog rows carry no column names, the connector is then
// stopped, its offsets set back to a position before the first schema
// change and resumed: every change since is delivered again, decoded with
// the table as it was when the change was committed.
func TestFaultSchemaChangesUnderLoad(t *testing.T) {
	for _, src := range []faultSource{onPostgres, onMariaDB} {
		t.Run(src.String(), func(t *testing.T) {
			r := newFaultRig(t, src, rigOptions{})
			alter := r.alterFunc(t)
			d := r.start()
			r.waitState("RUNNING", 60*time.Second)
			from := r.writer.Next()
			stopWriter := r.writer.Start(t.Context(), 100)
			time.Sleep(1500 * time.Millisecond)
			mark, rewind := r.writer.Next(), ""
			if src == onMariaDB {
				rewind = r.serverOffset(d)
			}
			for _, ddl := range schemaChanges[src] {
				time.Sleep(300*time.Millisecond + rand.N(700*time.Millisecond))
				alter(ddl)
				time.Sleep(rand.N(800 * time.Millisecond))
				d.kill9()
				d = r.start()
				r.waitState("RUNNING", 60*time.Second)
			}
			time.Sleep(time.Second)
			if err := stopWriter(); err != nil {
				t.Fatalf("workload: %v", err)
			}
			rep, _ := r.verify(from, true)
			t.Logf("%d schema changes, a kill after each; %s", len(schemaChanges[src]), rep)
			if src == onPostgres {
				d.terminate(20 * time.Second)
				return
			}

			d.expect("PUT", "/connectors/source/stop", "", 202, "")
			r.waitState("STOPPED", 30*time.Second)
			d.expect("PATCH", "/connectors/source/offsets", rewind, 200, `{"message": "The offsets for this connector have been altered successfully"}`)
			d.expect("PUT", "/connectors/source/resume", "", 202, "")
			r.waitState("RUNNING", 60*time.Second)
			replayed := r.waitReplayed(mark, time.Minute)
			rep, _ = r.verify(from, true)
			t.Logf("offsets set back to before the first schema change (%s): %d changes delivered again; %s", strings.TrimSpace(rewind), replayed, rep)
			d.terminate(20 * time.Second)
		})
	}
}

// serverOffset is the source's position as GET /connectors/source/offsets
// answers it (its {"server": …} partition; the schema history's is left
// out), in the form PATCH takes.
func (r *faultRig) serverOffset(d *daemonProc) string {
	r.t.Helper()
	code, body := d.call("GET", "/connectors/source/offsets", "")
	var doc struct {
		Offsets []struct {
			Partition map[string]any  `json:"partition"`
			Offset    json.RawMessage `json:"offset"`
		} `json:"offsets"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil || code != 200 {
		r.t.Fatalf("GET /connectors/source/offsets: %d %s (%v)", code, body, err)
	}
	for _, o := range doc.Offsets {
		if o.Partition["server"] == r.name {
			b, _ := json.Marshal(map[string]any{"offsets": []any{map[string]any{"partition": o.Partition, "offset": o.Offset}}})
			return string(b)
		}
	}
	r.t.Fatalf("no offset under {\"server\": %q}: %s", r.name, body)
	return ""
}

// alterFunc returns a function running a statement on the rig's database
// (on MariaDB, naming the workload table by its database).
func (r *faultRig) alterFunc(t *testing.T) func(string) {
	if r.pg != nil {
		return func(sql string) { r.pg.exec(t, sql) }
	}
	admin := mysqltest.Connect(t)
	mysqltest.Exec(t, admin, "USE "+r.name)
	return func(sql string) { mysqltest.Exec(t, admin, sql) }
}

// waitReplayed waits until every insert and update of seq from on has
// arrived at least twice and returns how many there are.
func (r *faultRig) waitReplayed(from int64, within time.Duration) int {
	r.t.Helper()
	var want []int64
	for _, c := range r.writer.Log() {
		if c.Seq >= from && c.Op != event.OpDelete {
			want = append(want, c.Seq)
		}
	}
	for deadline := time.Now().Add(within); ; time.Sleep(500 * time.Millisecond) {
		seen := map[int64]int{}
		for _, e := range r.events() {
			if e.Op == event.OpCreate || e.Op == event.OpUpdate {
				seen[e.Seq]++
			}
		}
		short := 0
		for _, s := range want {
			if seen[s] < 2 {
				short++
			}
		}
		if short == 0 {
			return len(want)
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%d of the %d inserts and updates from %d on not delivered again %v after the offsets were set back; logs:\n%s", short, len(want), from, within, r.d.log())
		}
	}
}
