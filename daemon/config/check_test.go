package config_test

import (
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	_ "github.com/sluice-cdc/sluice/connectors/elasticsearch"
	_ "github.com/sluice-cdc/sluice/connectors/postgres"
	_ "github.com/sluice-cdc/sluice/connectors/sse"
	"github.com/sluice-cdc/sluice/daemon/config"
	"github.com/sluice-cdc/sluice/daemon/internal/testclass"
)

// TestCheckSeedConfigs checks the example pipeline of the repository
// (Debezium's Postgres and MySQL sources, Confluent's Elasticsearch sink,
// as users write them, passwords read from the environment): the MySQL
// class is not in this package's test build.
func TestCheckSeedConfigs(t *testing.T) {
	dir, err := filepath.Abs("../../examples/connectors/orders")
	if err != nil {
		t.Fatal(err)
	}
	files, ps := config.LoadDir(dir)
	if len(ps) > 0 || len(files) != 3 {
		t.Fatalf("LoadDir: %d files, %v", len(files), ps)
	}
	env := map[string]string{"PG_PASSWORD": "example", "MYSQL_PASSWORD": "example"}
	r := &config.Resolver{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	want := map[string]config.Problems{
		"elasticsearch-sink-connector": nil,
		"mysql-source-connector": {{File: dir + "/mysql-source-connector.json", Connector: "mysql-source-connector", Key: "connector.class",
			Message: `unknown connector class "io.debezium.connector.mysql.MySqlConnector"; this build has: elasticsearch, postgres, sluice-test, sse`}},
		"postgresql-source-connector": nil,
	}
	for _, f := range files {
		checked, ps := config.Check(f, r)
		if (checked == nil) == (want[f.Name] == nil) || !reflect.DeepEqual(ps, want[f.Name]) {
			t.Errorf("%s:\n got %#v\nwant %#v", f.Name, ps, want[f.Name])
		}
	}
}

func TestCheckProblems(t *testing.T) {
	secrets := t.TempDir()
	os.WriteFile(filepath.Join(secrets, "db.properties"), []byte("# comment\npassword = s3cret\nport: 99999\n"), 0o600)
	os.WriteFile(filepath.Join(secrets, "db.json"), []byte(`{"prefix": "from-json"}`), 0o600)
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "x.properties"), []byte("password=nope\n"), 0o600)
	os.Symlink(filepath.Join(outside, "x.properties"), filepath.Join(secrets, "link.properties"))
	env := map[string]string{"PW": "envsecret", "SLUICE_REST_AUTH_PASSWORD": "daemon"}
	r := &config.Resolver{
		LookupEnv:    func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		AllowedPaths: []string{secrets},
	}
	base := func(kv ...string) map[string]string {
		m := map[string]string{"connector.class": testclass.Alias, "topic.prefix": "cdc"}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "-" {
				delete(m, kv[i])
			} else {
				m[kv[i]] = kv[i+1]
			}
		}
		return m
	}
	tests := []struct {
		name string
		cfg  map[string]string
		want config.Problems // Connector is always "c"
	}{
		{"valid with references", base("database.password", "${env:PW}", "topic.prefix", "${file:"+secrets+"/db.json:prefix}", "count", "3"), nil},
		{"missing class", base("connector.class", "-"), config.Problems{{Key: "connector.class", Message: "missing required configuration"}}},
		{"unknown class", base("connector.class", "com.example.Nope"),
			config.Problems{{Key: "connector.class", Message: `unknown connector class "com.example.Nope"; this build has: elasticsearch, postgres, sluice-test, sse`}}},
		{"unknown key, wrong type, missing required key, bad enum", base("topic.prefix", "-", "colour", "red", "count", "many", "behavior", "dance"), config.Problems{
			{Key: "behavior", Message: `invalid value "dance": must be one of run, fail, permanent, finish, panic, linger`},
			{Key: "colour", Message: "unknown configuration key"},
			{Key: "count", Message: `invalid value "many": not an integer`},
			{Key: "topic.prefix", Message: "missing required configuration"}}},
		{"kafka client overrides", base("producer.override.linger.ms", "10", "producer.override.sasl.jaas.config", "x", "consumer.override.bootstrap.servers", "evil:9092"), config.Problems{
			{Key: "consumer.override.bootstrap.servers", Message: "Kafka client override not allowed; connector class sluice-test allows: producer.override.linger.ms"},
			{Key: "producer.override.sasl.jaas.config", Message: "Kafka client override not allowed; connector class sluice-test allows: producer.override.linger.ms"}}},
		{"transform keys of unlisted aliases", base("transforms", "route", "transforms.route.type", "RegexRouter", "transforms.route.regex", "(.*)", "transforms.route.replacement", "$1-copy", "transforms.other.type", "Filter", "predicates.p.type", "x"), config.Problems{
			{Key: "predicates.p.type", Message: `"p" is not listed in predicates`},
			{Key: "transforms.other.type", Message: `"other" is not listed in transforms`}}},
		{"references that cannot resolve", base(
			"database.password", "${env:NOPE}",
			"offset.key", "${env:SLUICE_REST_AUTH_PASSWORD}",
			"error.message", "${file:"+outside+"/x.properties:password}",
			"offset.value", "${file:"+secrets+"/link.properties:password}",
			"topic.prefix", "${file:"+secrets+"/db.properties:nokey}",
			"behavior", "${file:relative:key}"), config.Problems{
			{Key: "behavior", Message: "cannot resolve ${file:relative:key}: the path must be absolute"},
			{Key: "database.password", Message: "cannot resolve ${env:NOPE}: environment variable NOPE is not set"},
			{Key: "error.message", Message: "cannot resolve ${file:" + outside + "/x.properties:password}: " + outside + "/x.properties is not under config.providers.file.allowed.paths"},
			{Key: "offset.key", Message: "cannot resolve ${env:SLUICE_REST_AUTH_PASSWORD}: variables starting with SLUICE_ hold the daemon's own settings and cannot be referenced"},
			{Key: "offset.value", Message: "cannot resolve ${file:" + secrets + "/link.properties:password}: " + secrets + "/link.properties is not under config.providers.file.allowed.paths"},
			{Key: "topic.prefix", Message: "cannot resolve ${file:" + secrets + "/db.properties:nokey}: " + secrets + "/db.properties has no key \"nokey\""}}},
		{"resolved values never appear in messages", base("count", "${file:"+secrets+"/db.properties:port}", "behavior", "${env:PW}"), config.Problems{
			{Key: "behavior", Message: `invalid value "${env:PW}": must be one of run, fail, permanent, finish, panic, linger`},
			{Key: "count", Message: "invalid value ${file:" + secrets + "/db.properties:port}: must be between 0 and 100"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i := range tc.want {
				tc.want[i].Connector = "c"
			}
			checked, ps := config.Check(config.Connector{Name: "c", Config: tc.cfg}, r)
			if !reflect.DeepEqual(ps, tc.want) {
				t.Fatalf("problems:\n got %#v\nwant %#v", ps, tc.want)
			}
			if tc.want == nil && checked == nil {
				t.Fatal("no problems but nothing checked")
			}
		})
	}
}

// Sinks take transforms as sources do: a valid chain is accepted, and bad
// transform settings are problems naming the full key.
func TestCheckSinkTransforms(t *testing.T) {
	r := &config.Resolver{LookupEnv: func(string) (string, bool) { return "", false }}
	sinks := map[string]map[string]string{
		"elasticsearch": {"connector.class": "io.confluent.connect.elasticsearch.ElasticsearchSinkConnector", "connection.url": "http://es:9200", "topics": "cdc.public.orders"},
		"sse":           {"connector.class": "sse", "topics": "cdc.public.orders"},
	}
	for class, base := range sinks {
		with := func(kv ...string) map[string]string {
			cfg := maps.Clone(base)
			for i := 0; i < len(kv); i += 2 {
				cfg[kv[i]] = kv[i+1]
			}
			return cfg
		}
		valid := with("transforms", "route,unwrap",
			"transforms.route.type", "org.apache.kafka.connect.transforms.RegexRouter",
			"transforms.route.regex", `cdc\.public\.(.*)`, "transforms.route.replacement", "$1",
			"transforms.route.predicate", "notAudit", "transforms.route.negate", "true",
			"predicates", "notAudit", "predicates.notAudit.type", "TopicNameMatches", "predicates.notAudit.pattern", ".*audit",
			"transforms.unwrap.type", "io.debezium.transforms.ExtractNewRecordState", "transforms.unwrap.add.fields", "op,lsn")
		if checked, ps := config.Check(config.Connector{Name: "c", Config: valid}, r); checked == nil || ps != nil {
			t.Errorf("%s with valid transforms: %v", class, ps)
		}
		bad := with("transforms", "route,cast",
			"transforms.route.type", "RegexRouter", "transforms.route.regex", "(",
			"transforms.cast.type", "Cast$Value", "transforms.cast.spec", "v:decimal",
			"transforms.drop.type", "Filter")
		want := config.Problems{
			{Connector: "c", Key: "transforms.cast.spec", Message: "invalid type found in casting spec: decimal"},
			{Connector: "c", Key: "transforms.drop.type", Message: `"drop" is not listed in transforms`},
			{Connector: "c", Key: "transforms.route.regex", Message: "invalid regular expression \"(\": error parsing regexp: missing closing ): `(`"},
			{Connector: "c", Key: "transforms.route.replacement", Message: "missing required configuration"},
		}
		if checked, ps := config.Check(config.Connector{Name: "c", Config: bad}, r); checked != nil || !reflect.DeepEqual(ps, want) {
			t.Errorf("%s with bad transforms:\n got %#v\nwant %#v", class, ps, want)
		}
	}
}

func TestCheckResolvesButKeepsReferences(t *testing.T) {
	r := &config.Resolver{LookupEnv: func(k string) (string, bool) { return "envsecret", k == "PW" }}
	cfg := map[string]string{"connector.class": "sluice-test", "topic.prefix": "cdc", "database.password": "${env:PW}"}
	checked, ps := config.Check(config.Connector{Name: "c", Config: cfg}, r)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	if got := checked.Config.String("database.password"); got != "envsecret" {
		t.Fatalf("resolved password = %q", got)
	}
	if cfg["database.password"] != "${env:PW}" {
		t.Fatalf("the definition was changed: %v", cfg)
	}
}

func TestMaskAndUnmask(t *testing.T) {
	class := config.ClassOf(map[string]string{"connector.class": "sluice-test"})
	stored := map[string]string{
		"database.password": "literal", // conf.Password
		"api.token":         "tok",     // looks secret by name
		"sasl.jaas.config":  "x",
		"ssl.key.password":  "${file:/run/secrets/k:pw}", // a reference is shown as written
		"topic.prefix":      "cdc",
		"key.ignore":        "false",
	}
	shown := config.Mask(class, stored)
	want := map[string]string{"database.password": "[hidden]", "api.token": "[hidden]", "sasl.jaas.config": "[hidden]",
		"ssl.key.password": "${file:/run/secrets/k:pw}", "topic.prefix": "cdc", "key.ignore": "false"}
	if !reflect.DeepEqual(shown, want) {
		t.Fatalf("Mask:\n got %v\nwant %v", shown, want)
	}
	shown["topic.prefix"] = "new"
	if back := config.Unmask(class, stored, shown); !reflect.DeepEqual(back, map[string]string{
		"database.password": "literal", "api.token": "tok", "sasl.jaas.config": "x",
		"ssl.key.password": "${file:/run/secrets/k:pw}", "topic.prefix": "new", "key.ignore": "false"}) {
		t.Fatalf("Unmask = %v", back)
	}
}
