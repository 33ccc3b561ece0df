package compat_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/testenv"
	"github.com/sluice-cdc/sluice/testenv/compat"
	"github.com/sluice-cdc/sluice/testenv/kafkatest"
	"github.com/sluice-cdc/sluice/testenv/registrytest"
	"github.com/sluice-cdc/sluice/testenv/sourcetest"
)

// readWait bounds how long both sides may take to write every change.
const readWait = 3 * time.Minute

// settle is how long no new record may arrive before the topics are taken
// as complete.
const settle = 2 * time.Second

// jsonConverters are the converter keys of the sluice source compared with
// Debezium: Kafka Connect's JsonConverter with schemas, as the Debezium
// worker has them.
var jsonConverters = map[string]string{
	"key.converter":                  "org.apache.kafka.connect.json.JsonConverter",
	"key.converter.schemas.enable":   "true",
	"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
	"value.converter.schemas.enable": "true",
}

// with returns a copy of base with the entries of each of more.
func with(base map[string]string, more ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range append([]map[string]string{base}, more...) {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// sides are the topic prefixes of one comparison: Debezium's, sluice's
// with the JSON converter and sluice's with the Avro converter.
type sides struct {
	dbz, json, avro string
}

// schemaChanges names the topic named by the prefix itself, a MySQL
// connector's schema-change topic.
const schemaChanges = "(schema changes)"

// startSluice starts sluice's two sides, configured by config and side
// (the keys of one side's prefix): one with the JSON converter, one with
// the Avro converter and a registry of its own. It returns where they
// write, and the two sources.
func startSluice(t *testing.T, brokers []string, config map[string]string, s sides, side func(prefix string) map[string]string) (sourcetest.Target, *sourcetest.Source, *sourcetest.Source) {
	t.Helper()
	reg := registrytest.Start(t, brokers, testenv.Name(t, "_schemas"))
	target := sourcetest.Target{Brokers: brokers, Registry: reg.Client, RegistryURL: reg.URL}
	return target, target.StartSource(t, with(config, side(s.json), jsonConverters)), target.StartSource(t, with(config, side(s.avro)))
}

// tableOf is the table part of a topic of prefix p (schemaChanges for the
// topic p), "" for another topic.
func tableOf(topic, p string) string {
	if topic == p {
		return schemaChanges
	}
	rest, ok := strings.CutPrefix(topic, p+".")
	if !ok {
		return ""
	}
	return rest
}

// topicOf is the topic of a table of prefix p, as tableOf reads it.
func topicOf(p, table string) string {
	if table == schemaChanges {
		return p
	}
	return p + "." + table
}

// readAll reads every topic of the three prefixes from its start until
// each side has written a record to its topic of the table named done and
// no new record has come for settle; it returns the records by topic.
// Each of alive is called between polls, to fail the test when a side has
// stopped.
func readAll(t *testing.T, target sourcetest.Target, s sides, done string, alive ...func()) map[string][]*kgo.Record {
	t.Helper()
	re := "^(" + regexp.QuoteMeta(s.dbz) + "|" + regexp.QuoteMeta(s.json) + "|" + regexp.QuoteMeta(s.avro) + `)(\..*)?$`
	cl := kafkatest.NewClient(t, target.Brokers, kgo.ConsumeRegex(), kgo.ConsumeTopics(re),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.MetadataMinAge(250*time.Millisecond), kgo.MetadataMaxAge(time.Second))
	out := map[string][]*kgo.Record{}
	finished := func() bool {
		for _, p := range []string{s.dbz, s.json, s.avro} {
			if len(out[topicOf(p, done)]) == 0 {
				return false
			}
		}
		return true
	}
	last := time.Now()
	for deadline := time.Now().Add(readWait); ; {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		fs := cl.PollFetches(ctx)
		cancel()
		fs.EachError(func(topic string, _ int32, err error) {
			if ctx.Err() == nil {
				t.Fatalf("read %s: %v", topic, err)
			}
		})
		fs.EachRecord(func(r *kgo.Record) {
			out[r.Topic] = append(out[r.Topic], r)
			last = time.Now()
		})
		for _, check := range alive {
			check()
		}
		if finished() && time.Since(last) > settle {
			return out
		}
		if time.Now().After(deadline) {
			counts := map[string]int{}
			for topic, rs := range out {
				counts[topic] = len(rs)
			}
			t.Fatalf("the sides did not write their %s records within %s; records per topic: %v", done, readWait, counts)
		}
	}
}

// allowance is a difference the comparison accepts, and why.
type allowance struct {
	// path matches the paths of the differences allowed.
	path *regexp.Regexp
	// when, if set, limits the allowance to the differences it accepts.
	when   judge
	reason string
	// known marks a difference that is sluice's to remove: the test fails
	// once it no longer occurs, so that the list stays true.
	known bool
}

// judge accepts a difference d found between the values of Debezium's
// record and sluice's (parsed; sluice's is nil for a record only Debezium
// wrote).
type judge func(dbz, sluice *compat.Value, d compat.Difference) bool

// inRecords accepts the differences of Debezium records that match.
func inRecords(match func(dbz *compat.Value) bool) judge {
	return func(dbz, _ *compat.Value, _ compat.Difference) bool { return dbz != nil && match(dbz) }
}

// sameTransaction accepts transaction ids ("txId:LSN" on Postgres) that
// differ only after their ':'.
func sameTransaction(_, _ *compat.Value, d compat.Difference) bool {
	w, _, ok1 := strings.Cut(d.Want, ":")
	g, _, ok2 := strings.Cut(d.Got, ":")
	return ok1 && ok2 && w == g
}

// sameCollections accepts differences in a transaction END's
// data_collections when both list the same tables with the same counts.
func sameCollections(dbz, sluice *compat.Value, _ compat.Difference) bool {
	list := func(v *compat.Value) []string {
		var out []string
		if dc := v.Get("payload.data_collections"); dc != nil {
			for _, e := range dc.Elems {
				out = append(out, e.String())
			}
		}
		slices.Sort(out)
		return out
	}
	return dbz != nil && sluice != nil && slices.Equal(list(dbz), list(sluice))
}

func allow(pathRE, reason string, when judge) allowance {
	return allowance{path: regexp.MustCompile("^(" + pathRE + ")$"), when: when, reason: reason}
}

func known(pathRE, what string) allowance {
	return allowance{path: regexp.MustCompile("^(" + pathRE + ")$"), reason: what, known: true}
}

// snapshotRecord accepts the records a snapshot wrote (source.snapshot
// neither false nor absent).
func snapshotRecord(v *compat.Value) bool {
	s := v.Get("payload.source.snapshot")
	return s != nil && s.Kind == 's' && s.Text != "false"
}

// setAside removes from topic's records those that match accepts, each
// counted as the difference named what: records that only Debezium
// writes. It returns the values of those removed.
func setAside(c *checker, recs map[string][]*kgo.Record, topic, what string, accepts func(*compat.Value) bool) []*compat.Value {
	var kept []*kgo.Record
	var removed []*compat.Value
	for i, r := range recs[topic] {
		if v, err := compat.Parse(r.Value); err == nil && accepts(v) {
			c.check(topic, i, r, nil, []compat.Difference{{Path: what, Got: "(absent)", Want: "(present)"}})
			removed = append(removed, v)
			continue
		}
		kept = append(kept, r)
	}
	recs[topic] = kept
	return removed
}

// snapshotRead accepts the records of snapshot reads.
func snapshotRead(v *compat.Value) bool {
	op := v.Get("payload.op")
	return op != nil && op.Text == "r"
}

// checker judges differences against the allowed ones, remembering which
// allowances were used and reporting each difference not allowed once.
type checker struct {
	allowed []allowance
	used    []int
	order   []string
	seen    map[string][]string
}

func newChecker(allowed []allowance) *checker {
	return &checker{allowed: allowed, used: make([]int, len(allowed)), seen: map[string][]string{}}
}

// check judges the differences found in record i of table (dbz is
// Debezium's record, sluice sluice's or nil).
func (c *checker) check(table string, i int, dbz, sluice *kgo.Record, ds []compat.Difference) {
	dbzValue, _ := compat.Parse(dbz.Value)
	var sluiceValue *compat.Value
	if sluice != nil {
		sluiceValue, _ = compat.Parse(sluice.Value)
	}
next:
	for _, d := range ds {
		for j, a := range c.allowed {
			if a.path.MatchString(d.Path) && (a.when == nil || a.when(dbzValue, sluiceValue, d)) {
				c.used[j]++
				continue next
			}
		}
		k := table + ": " + d.String()
		if _, ok := c.seen[k]; !ok {
			c.order = append(c.order, k)
		}
		c.seen[k] = append(c.seen[k], fmt.Sprintf("%d (%s)", i, opOf(dbz)))
	}
}

// report fails the test with every difference not allowed and every known
// difference that no longer occurs, and logs the allowed ones.
func (c *checker) report(t *testing.T) {
	t.Helper()
	for j, a := range c.allowed {
		switch {
		case a.known && c.used[j] == 0:
			t.Errorf("known difference %s no longer occurs (%s): remove it from the list", a.path, a.reason)
		case a.known:
			t.Logf("known difference, %d×, %s: %s", c.used[j], a.path, a.reason)
		default:
			t.Logf("allowed %d× %s: %s", c.used[j], a.path, a.reason)
		}
	}
	for _, k := range c.order {
		recs := c.seen[k]
		if len(recs) > 4 {
			recs = append(recs[:4:4], fmt.Sprintf("… %d in all", len(c.seen[k])))
		}
		t.Errorf("%s [records %s]", k, strings.Join(recs, ", "))
	}
}

// compareTopics compares, topic by topic and record by record in offset
// order, what sluice wrote with the JSON converter with what Debezium
// wrote. It returns the Debezium records by table, for the Avro comparison.
func compareTopics(t *testing.T, c *checker, recs map[string][]*kgo.Record, s sides) map[string][]*kgo.Record {
	t.Helper()
	mapping := func(v string) string { return strings.ReplaceAll(v, s.json, s.dbz) }
	byTable := map[string][]*kgo.Record{}
	var tables []string
	for topic, rs := range recs {
		if table := tableOf(topic, s.dbz); table != "" {
			byTable[table] = rs
			tables = append(tables, table)
		} else if table := tableOf(topic, s.json); table != "" && recs[topicOf(s.dbz, table)] == nil {
			tables = append(tables, table)
		}
	}
	slices.Sort(tables)
	for _, table := range tables {
		want, got := recs[topicOf(s.dbz, table)], recs[topicOf(s.json, table)]
		if len(want) != len(got) {
			t.Errorf("table %s: sluice wrote %d records, Debezium %d:\n%s", table, len(got), len(want), listing(want, got))
		}
		for i := 0; i < min(len(want), len(got)); i++ {
			for _, part := range []struct {
				name      string
				want, got []byte
			}{{"key", want[i].Key, got[i].Key}, {"value", want[i].Value, got[i].Value}} {
				if part.want == nil || part.got == nil {
					if (part.want == nil) != (part.got == nil) {
						t.Errorf("%s record %d: %s is %q, Debezium's %q", table, i, part.name, part.got, part.want)
					}
					continue
				}
				w, err := compat.Parse(part.want)
				if err != nil {
					t.Fatalf("%s record %d: Debezium's %s %s: %v", table, i, part.name, part.want, err)
				}
				g, err := compat.Parse(part.got)
				if err != nil {
					t.Fatalf("%s record %d: sluice's %s %s: %v", table, i, part.name, part.got, err)
				}
				c.check(table, i, want[i], got[i], compat.Diff(part.name, w, g, mapping))
			}
		}
	}
	return byTable
}

// opOf names a record by its op: a tombstone, a change's op, or "ddl" for
// a schema change.
func opOf(r *kgo.Record) string {
	if r.Value == nil {
		return "tombstone"
	}
	v, err := compat.Parse(r.Value)
	if err != nil || v.Get("payload.op") == nil {
		return "ddl"
	}
	return v.Get("payload.op").Text
}

// listing shows two record lists side by side by their ops.
func listing(want, got []*kgo.Record) string {
	var b strings.Builder
	for i := 0; i < max(len(want), len(got)); i++ {
		w, g := "-", "-"
		if i < len(want) {
			w = opOf(want[i])
		}
		if i < len(got) {
			g = opOf(got[i])
		}
		fmt.Fprintf(&b, "  %d: debezium %s, sluice %s\n", i, w, g)
	}
	return b.String()
}

// compareAvroSchemas checks that the Avro schemas sluice registered for
// each table's keys and values, mapped back to Kafka Connect schemas, are
// the Connect schemas of Debezium's records, each distinct schema once.
func compareAvroSchemas(t *testing.T, c *checker, target sourcetest.Target, recs map[string][]*kgo.Record, dbzByTable map[string][]*kgo.Record, s sides) {
	t.Helper()
	mapping := func(v string) string { return strings.ReplaceAll(v, s.avro, s.dbz) }
	checked := map[string]bool{}
	for topic, rs := range recs {
		table := tableOf(topic, s.avro)
		if table == "" {
			continue
		}
		dbz := dbzByTable[table]
		for i := 0; i < min(len(rs), len(dbz)); i++ {
			for _, part := range []struct {
				name      string
				avro, dbz []byte
			}{{"key", rs[i].Key, dbz[i].Key}, {"value", rs[i].Value, dbz[i].Value}} {
				if part.avro == nil || part.dbz == nil {
					continue
				}
				id, _, err := schema.SplitFrame(part.avro)
				if err != nil {
					t.Fatalf("%s record %d: %s: %v", topic, i, part.name, err)
				}
				want, err := compat.Parse(part.dbz)
				if err != nil {
					t.Fatal(err)
				}
				use := fmt.Sprint(table, part.name, id, want.Get("schema"))
				if checked[use] {
					continue
				}
				checked[use] = true
				reg, err := target.Registry.Schema(context.Background(), int(id))
				if err != nil {
					t.Fatalf("%s record %d: schema %d: %v", topic, i, id, err)
				}
				connect, err := schema.FromAvro(reg.Text)
				if err != nil {
					t.Fatalf("%s record %d: schema %d: %v", topic, i, id, err)
				}
				js, err := schema.ConnectJSON{}.AppendSchema(nil, connect)
				if err != nil {
					t.Fatalf("%s record %d: schema %d as Connect JSON: %v", topic, i, id, err)
				}
				got, err := compat.Parse(js)
				if err != nil {
					t.Fatal(err)
				}
				c.check(table+" (Avro schema "+fmt.Sprint(id)+" as Connect)", i, dbz[i], nil, compat.Diff(part.name+".schema", want.Get("schema"), got, mapping))
			}
		}
	}
}
