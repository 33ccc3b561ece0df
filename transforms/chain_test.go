package transforms

import (
	"reflect"
	"testing"

	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

// The seed document's Postgres example routes with RegexRouter.
var seedRouting = map[string]string{
	"transforms":                   "route",
	"transforms.route.type":        "org.apache.kafka.connect.transforms.RegexRouter",
	"transforms.route.regex":       "([^.]+)\\.([^.]+)\\.([^.]+)",
	"transforms.route.replacement": "$1-$3",
}

func TestRegexRouterAsTheSeedExampleUsesIt(t *testing.T) {
	chain, ps := Build(seedRouting)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	for topic, want := range map[string]string{"cdc.public.orders": "cdc-orders", "cdc.orders": "cdc.orders", "a.b.c.d": "a.b.c.d"} {
		in := &record.Record{Topic: topic, Value: event.Row{int32(1)}, ValueSchema: &event.Schema{Type: event.Struct, Fields: []event.Field{{Name: "id", Schema: &event.Schema{Type: event.Int32}}}}}
		for range 2 { // the second time, the route is remembered
			out, err := chain.Apply(in)
			if err != nil || out.Topic != want {
				t.Errorf("%s routed to %v (%v), want %s", topic, out, err, want)
			}
		}
		if in.Topic != topic {
			t.Errorf("the input record was modified: topic %s", in.Topic)
		}
	}
}

func TestJavaReplacementSyntax(t *testing.T) {
	for java, goTemplate := range map[string]string{"$1-copy": "${1}-copy", "$1abc$22": "${1}abc${22}", `\$1`: "$$1", "cost$": "cost$$", `a\\b`: `a\b`} {
		if got := javaReplacement(java); got != goTemplate {
			t.Errorf("javaReplacement(%q) = %q, want %q", java, got, goTemplate)
		}
	}
	chain, _ := Build(map[string]string{"transforms": "r", "transforms.r.type": "RegexRouter", "transforms.r.regex": "(.*)", "transforms.r.replacement": "$1abc"})
	out, _ := chain.Apply(&record.Record{Topic: "t"})
	if out.Topic != "tabc" {
		t.Fatalf("$1abc gave %q, want tabc as in Java", out.Topic)
	}
}

func TestFilterWithPredicates(t *testing.T) {
	chain, ps := Build(map[string]string{
		"transforms":                     "dropTombstones,onlyOrders",
		"transforms.dropTombstones.type": "Filter", "transforms.dropTombstones.predicate": "tomb",
		"transforms.onlyOrders.type": "org.apache.kafka.connect.transforms.Filter", "transforms.onlyOrders.predicate": "orders", "transforms.onlyOrders.negate": "true",
		"predicates":             "tomb,orders",
		"predicates.tomb.type":   "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
		"predicates.orders.type": "TopicNameMatches", "predicates.orders.pattern": ".*orders",
	})
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	v := event.Row{int32(1)}
	cases := []struct {
		r    *record.Record
		kept bool
	}{
		{&record.Record{Topic: "p.public.orders", Value: v}, true},
		{&record.Record{Topic: "p.public.orders"}, false}, // a tombstone
		{&record.Record{Topic: "p.public.customers", Value: v}, false},
		{&record.Record{Topic: "p.public.orders_archive", Value: v}, false}, // the pattern matches whole names
	}
	for _, tc := range cases {
		out, err := chain.Apply(tc.r)
		if err != nil || (out != nil) != tc.kept {
			t.Errorf("%s (tombstone %v): kept %v, want %v (%v)", tc.r.Topic, tc.r.Tombstone(), out != nil, tc.kept, err)
		}
	}
	hh, _ := Build(map[string]string{"transforms": "f", "transforms.f.type": "Filter", "transforms.f.predicate": "h",
		"predicates": "h", "predicates.h.type": "HasHeaderKey", "predicates.h.name": "skip"})
	if out, _ := hh.Apply(&record.Record{Topic: "t", Headers: []record.Header{{Key: "skip"}}}); out != nil {
		t.Error("HasHeaderKey: a record with the header was kept")
	}
	if out, _ := hh.Apply(&record.Record{Topic: "t", Headers: []record.Header{{Key: "other"}}}); out == nil {
		t.Error("HasHeaderKey: a record without the header was dropped")
	}
}

func TestBuildProblemsNameTheirKeys(t *testing.T) {
	_, ps := Build(map[string]string{
		"transforms":            "route,nope,route",
		"transforms.route.type": "RegexRouter", "transforms.route.regex": "(", "transforms.route.colour": "red",
		"transforms.route.predicate": "missing", "transforms.route.negate": "maybe",
		"transforms.nope.type":  "com.example.Nope",
		"transforms.ghost.type": "Filter",
		"predicates":            "p",
		"predicates.p.type":     "TopicNameMatches",
	})
	want := conf.Problems{
		{Key: "predicates.p.pattern", Message: "missing required configuration"},
		{Key: "transforms", Message: `"route" is listed twice`},
		{Key: "transforms.ghost.type", Message: `"ghost" is not listed in transforms`},
		{Key: "transforms.nope.type", Message: `unknown transform "com.example.Nope"; this build has: ` + typeNames()},
		{Key: "transforms.route.colour", Message: "unknown configuration key"},
		{Key: "transforms.route.negate", Message: `invalid value "maybe": not a boolean (true or false)`},
		{Key: "transforms.route.predicate", Message: `predicate "missing" is not listed in predicates`},
		{Key: "transforms.route.regex", Message: "invalid regular expression \"(\": error parsing regexp: missing closing ): `(`"},
		{Key: "transforms.route.replacement", Message: "missing required configuration"},
	}
	if !reflect.DeepEqual(dedupe(ps), want) {
		t.Fatalf("problems\n%v\nwant\n%v", ps, want)
	}
}

// dedupe drops the second report of a transform listed twice.
func dedupe(ps conf.Problems) conf.Problems {
	seen := map[conf.Problem]bool{}
	var out conf.Problems
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

func TestNoTransformsIsNoChain(t *testing.T) {
	if c, ps := Build(map[string]string{"topic.prefix": "p"}); c != nil || ps != nil {
		t.Fatalf("Build = %v, %v; want nil, nil", c, ps)
	}
}
