package conf

import (
	"errors"
	"reflect"
	"regexp"
	"testing"
)

var testSpec = &Spec{
	Prefixes: []string{"transforms"},
	Keys: []Key{
		{Name: "host", Type: String, Required: true},
		{Name: "port", Type: Int, Default: "5432", Min: 1, Max: 65535},
		{Name: "enabled", Type: Boolean, Default: "true"},
		{Name: "mode", Type: String, Default: "initial", Allowed: []string{"initial", "never"}},
		{Name: "tables", Type: List, Check: RegexList},
		{Name: "old.name", Type: String, Deprecated: "use host"},
	},
}

func TestParseAcceptsAndDefaults(t *testing.T) {
	c, err := testSpec.Parse(map[string]string{"host": "db", "tables": " a.b , c.* ,", "transforms.x.type": "Y", "mode": "NEVER", "old.name": "x"})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.String("host"); got != "db" {
		t.Errorf("host = %q", got)
	}
	if got := c.Int("port"); got != 5432 {
		t.Errorf("port = %d, want default 5432", got)
	}
	if !c.Bool("enabled") {
		t.Error("enabled should default to true")
	}
	if got := c.Enum("mode"); got != "never" {
		t.Errorf("mode = %q, want never", got)
	}
	if got := c.List("tables"); !reflect.DeepEqual(got, []string{"a.b", "c.*"}) {
		t.Errorf("tables = %q", got)
	}
	if c.Given("port") || !c.Given("host") {
		t.Error("Given is wrong")
	}
	if got := c.Warnings(); len(got) != 1 || got[0] != (Problem{"old.name", "use host"}) {
		t.Errorf("warnings = %v", got)
	}
	if got := c.Raw(); !reflect.DeepEqual(got, map[string]string{"host": "db", "tables": " a.b , c.* ,", "transforms.x.type": "Y", "mode": "NEVER", "old.name": "x"}) {
		t.Errorf("raw = %v", got)
	}
}

func TestParseReportsEveryProblemByKey(t *testing.T) {
	_, err := testSpec.Parse(map[string]string{"port": "99999", "enabled": "yes please", "mode": "sometimes", "tables": "a(", "colour": "blue"})
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("err = %v, want Problems", err)
	}
	want := Problems{
		{"colour", "unknown configuration key"},
		{"host", "missing required configuration"},
		{"port", "invalid value 99999: must be between 1 and 65535"},
		{"enabled", `invalid value "yes please": not a boolean (true or false)`},
		{"mode", `invalid value "sometimes": must be one of initial, never`},
		{"tables", "invalid regular expression \"a(\": error parsing regexp: missing closing ): `a(`"},
	}
	if !reflect.DeepEqual(ps, want) {
		t.Errorf("problems:\n got %v\nwant %v", ps, want)
	}
}

func TestParseRejectsNonInteger(t *testing.T) {
	_, err := testSpec.Parse(map[string]string{"host": "h", "port": "54x"})
	if err == nil || err.Error() != `port: invalid value "54x": not an integer` {
		t.Errorf("err = %v", err)
	}
}

// TestParseIgnoredUnsupportedAndFamilies covers keys kept for configurations
// written for Debezium: an ignored key is accepted with a warning saying
// why; an unsupported key is accepted at its default only, and otherwise
// refused with what to do instead; a family matches every name of its
// pattern.
func TestParseIgnoredUnsupportedAndFamilies(t *testing.T) {
	spec := &Spec{Keys: []Key{
		{Name: "max.queue.size", Type: String, Ignored: "sluice bounds its queues itself"},
		{Name: "slot.failover", Type: String, Default: "false", Unsupported: "create the slot yourself"},
		{Name: "converters", Type: String, Unsupported: "use transforms"},
		{Name: "column.mask.with.<n>.chars", Type: String, Unsupported: "use MaskField", Pattern: regexp.MustCompile(`^column\.mask\.with\.[0-9]+\.chars$`)},
	}}
	c, err := spec.Parse(map[string]string{"max.queue.size": "8192", "slot.failover": "FALSE", "converters": ""})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Warnings(); !reflect.DeepEqual(got, []Problem{{"max.queue.size", "has no effect in sluice: sluice bounds its queues itself"}}) {
		t.Errorf("warnings = %v", got)
	}
	_, err = spec.Parse(map[string]string{"slot.failover": "true", "converters": "boolean", "column.mask.with.12.chars": "public.users.ssn", "column.mask.with.x.chars": "a"})
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("err = %v, want Problems", err)
	}
	want := Problems{
		{"column.mask.with.12.chars", "not supported by sluice: use MaskField"},
		{"column.mask.with.x.chars", "unknown configuration key"},
		{"slot.failover", `not supported by sluice (only "false" is): create the slot yourself`},
		{"converters", "not supported by sluice: use transforms"},
	}
	if !reflect.DeepEqual(ps, want) {
		t.Errorf("problems:\n got %v\nwant %v", ps, want)
	}
}

func TestUnknownKeySuggestsTheClosestDeclaredKey(t *testing.T) {
	spec := &Spec{Keys: []Key{
		{Name: "database.hostname", Type: String},
		{Name: "database.port", Type: Int, Default: "5432"},
		{Name: "table.include.list", Type: List},
		{Name: "mode", Type: String},
		{Name: "column.mask.with.N.chars", Type: String, Pattern: regexp.MustCompile(`^column\.mask\.with\.\d+\.chars$`)},
	}}
	cases := []struct{ key, want string }{
		{"databse.hostname", "unknown configuration key; did you mean database.hostname?"},  // a letter left out
		{"database.hostnmae", "unknown configuration key; did you mean database.hostname?"}, // two swapped
		{"Database.Port", "unknown configuration key; did you mean database.port?"},
		{"table.include.lists", "unknown configuration key; did you mean table.include.list?"},
		{"database.user", "unknown configuration key"}, // more than two edits from every key
		{"mod", "unknown configuration key"},           // too short to guess
		{"column.mask.with.x.chars", "unknown configuration key"},
	}
	for _, tc := range cases {
		_, err := spec.Parse(map[string]string{tc.key: "x"})
		var ps Problems
		if !errors.As(err, &ps) || len(ps) != 1 || ps[0] != (Problem{tc.key, tc.want}) {
			t.Errorf("%s: %v, want %s: %s", tc.key, err, tc.key, tc.want)
		}
	}
}

func TestValueChecksOneKey(t *testing.T) {
	for _, tc := range []struct {
		raw    map[string]string
		key    string
		want   string
		wantOK bool
	}{
		{map[string]string{"port": " 6543 "}, "port", "6543", true},
		{map[string]string{}, "port", "5432", true},
		{map[string]string{"port": " "}, "port", "5432", true},
		{map[string]string{"port": "0"}, "port", "", false},
		{map[string]string{"port": "x", "colour": "blue"}, "port", "", false},
		{map[string]string{"colour": "blue"}, "mode", "initial", true},
		{map[string]string{}, "colour", "", false},
	} {
		if got, ok := testSpec.Value(tc.raw, tc.key); got != tc.want || ok != tc.wantOK {
			t.Errorf("Value(%v, %q) = %q, %v; want %q, %v", tc.raw, tc.key, got, ok, tc.want, tc.wantOK)
		}
	}
}
