package conf

import (
	"errors"
	"reflect"
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
