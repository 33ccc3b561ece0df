package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadDefaults(t *testing.T) {
	d, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := withClusterDefaults(&Daemon{
		StateDir: "sluice-state", ShutdownTimeoutMS: 30000,
		REST: REST{Listen: "127.0.0.1:8083"}, SSE: SSE{Listen: "127.0.0.1:8080"},
		Log: Log{Level: "info", Format: "json"},
	})
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("defaults:\n got %+v\nwant %+v", d, want)
	}
	if d.EmbeddedKafka() != "127.0.0.1:9092" || d.EmbeddedRegistry() != "127.0.0.1:8081" || d.ShutdownTimeout().Seconds() != 30 {
		t.Fatalf("embedded kafka %q, registry %q, timeout %v", d.EmbeddedKafka(), d.EmbeddedRegistry(), d.ShutdownTimeout())
	}
}

func TestLoadFileAndEnvironment(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "sluice.json", `{
	  "state.dir": "/var/lib/sluice",
	  "rest": {"listen": ":9083", "auth": {"user": "admin", "password": "pw", "tokens": ["0123456789abcdef"]}},
	  "kafka": {"bootstrap.servers": "kafka-1:9092,kafka-2:9092", "sasl": {"mechanism": "SCRAM-SHA-512", "username": "u", "password": "p"}},
	  "schema.registry": {"url": "http://schema-registry:8081"},
	  "log": {"format": "text"},
	  "shutdown.timeout.ms": 5000,
	  "config.providers": {"file": {"allowed.paths": ["/run/secrets"]}}
	}`)
	env := []string{
		"SLUICE_REST_LISTEN=127.0.0.1:18083",                // overrides the file
		"SLUICE_KAFKA_SASL_PASSWORD=from-env",               // overrides inside a group
		"SLUICE_LOG_LEVEL=debug",                            // sets what the file leaves to the default
		"SLUICE_CONFIG_PROVIDERS_FILE_ALLOWED_PATHS=/a, /b", // lists are comma-separated
		"SLUICE_SSE_LISTEN=:18080",
		"SLUICE_TEST_PG_URL=postgres://x", // belongs to tests: ignored silently
		"SLUICE_RESTLISTEN=oops",          // names no setting: a warning
		"PATH=/bin",
	}
	d, err := Load(path, env)
	if err != nil {
		t.Fatal(err)
	}
	want := withClusterDefaults(&Daemon{
		StateDir: "/var/lib/sluice", ShutdownTimeoutMS: 5000,
		REST:            REST{Listen: "127.0.0.1:18083", Auth: &Auth{User: "admin", Password: "pw", Tokens: []string{"0123456789abcdef"}}},
		SSE:             SSE{Listen: ":18080"},
		Kafka:           Kafka{BootstrapServers: "kafka-1:9092,kafka-2:9092", SASL: &SASL{Mechanism: "SCRAM-SHA-512", Username: "u", Password: "from-env"}},
		SchemaRegistry:  SchemaRegistry{URL: "http://schema-registry:8081"},
		Log:             Log{Level: "debug", Format: "text"},
		ConfigProviders: ConfigProviders{File: FileProvider{AllowedPaths: []string{"/a", "/b"}}},
		Warnings:        []string{"environment variable SLUICE_RESTLISTEN names no setting; ignored"},
	})
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("loaded:\n got %+v\nwant %+v", d, want)
	}
	if d.EmbeddedKafka() != "" || d.EmbeddedRegistry() != "" {
		t.Fatalf("external cluster, yet embedded kafka %q, registry %q", d.EmbeddedKafka(), d.EmbeddedRegistry())
	}
}

func TestLoadEnvironmentMakesGroupsPresent(t *testing.T) {
	d, err := Load("", []string{"SLUICE_REGISTRY_LISTEN=127.0.0.1:18081", "SLUICE_KAFKA_EMBEDDED_LISTEN=127.0.0.1:19092"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Registry == nil || d.Registry.Listen != "127.0.0.1:18081" || d.EmbeddedRegistry() != "127.0.0.1:18081" || d.EmbeddedKafka() != "127.0.0.1:19092" {
		t.Fatalf("registry %+v, embedded kafka %q", d.Registry, d.EmbeddedKafka())
	}
}

func TestLoadProblems(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		file string // content; empty for no file
		env  []string
		want Problems // File "F" stands for the config file
	}{
		{
			name: "unknown keys at every depth, wrong types",
			file: `{"rest": {"listen": 8083, "lisen": ":1"}, "kafka": {"sasl": {"mech": "PLAIN"}}, "shutdown.timeout.ms": "30s", "extra": 1, "sse": [], "rest.listen": ":1"}`,
			want: Problems{
				{File: "F", Key: "extra", Message: "unknown setting"},
				{File: "F", Key: "kafka.sasl.mech", Message: "unknown setting"},
				{File: "F", Key: "rest.lisen", Message: "unknown setting"},
				{File: "F", Key: "rest.listen", Message: "must be a string, not a number"},
				{File: "F", Key: "rest.listen", Message: "unknown setting"},
				{File: "F", Key: "shutdown.timeout.ms", Message: "must be an integer, not a string"},
				{File: "F", Key: "sse", Message: "must be an object, not an array"},
				// what decoding left behind is checked too
				{File: "F", Key: "kafka", Message: "sasl and tls apply to an external cluster: set kafka.bootstrap.servers"},
				{File: "F", Key: "kafka.sasl.mechanism", Message: `invalid value "": must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512`},
				{File: "F", Key: "kafka.sasl.username", Message: "missing required setting"},
				{File: "F", Key: "kafka.sasl.password", Message: "missing required setting"},
			},
		},
		{
			name: "bad JSON",
			file: `{"rest": {`,
			want: Problems{{File: "F", Message: "invalid JSON: unexpected EOF"}},
		},
		{
			name: "bad environment values",
			env:  []string{"SLUICE_SHUTDOWN_TIMEOUT_MS=soon", "SLUICE_KAFKA_TLS_INSECURE_SKIP_VERIFY=maybe"},
			want: Problems{
				{File: "environment", Key: "SLUICE_SHUTDOWN_TIMEOUT_MS", Message: `invalid value "soon": not an integer`},
				{File: "environment", Key: "SLUICE_KAFKA_TLS_INSECURE_SKIP_VERIFY", Message: `invalid value "maybe": not a boolean (true or false)`},
				{File: "daemon config", Key: "kafka", Message: "sasl and tls apply to an external cluster: set kafka.bootstrap.servers"},
			},
		},
		{
			name: "conflicting and incomplete choices",
			file: `{"kafka": {"bootstrap.servers": "k:9092,bad", "embedded": {}}, "registry": {"listen": "nope"}, "schema.registry": {"url": "ftp://x", "user": "u"},
			        "rest": {"auth": {"user": "a:b", "tokens": ["short"]}}, "log": {"level": "loud", "format": "xml"}, "config.providers": {"file": {"allowed.paths": ["rel"]}}}`,
			want: Problems{
				{File: "F", Key: "registry.listen", Message: `invalid listen address "nope": want host:port or :port`},
				{File: "F", Key: "rest.auth", Message: "user and password must be set together"},
				{File: "F", Key: "rest.auth.user", Message: "must not contain ':' (HTTP basic authentication separates user and password with it)"},
				{File: "F", Key: "rest.auth.tokens[0]", Message: "a bearer token must be at least 16 characters"},
				{File: "F", Key: "kafka.embedded", Message: "cannot be combined with kafka.bootstrap.servers: choose the embedded broker or an external cluster"},
				{File: "F", Key: "kafka.bootstrap.servers", Message: `invalid broker address "bad": want host:port`},
				{File: "F", Key: "schema.registry.url", Message: `invalid URL "ftp://x": want http(s)://host:port`},
				{File: "F", Key: "registry", Message: "cannot be combined with schema.registry.url: choose the embedded registry or an external one"},
				{File: "F", Key: "schema.registry", Message: "user and password must be set together"},
				{File: "F", Key: "log.level", Message: `invalid value "loud": must be one of debug, info, warn, error`},
				{File: "F", Key: "log.format", Message: `invalid value "xml": must be json or text`},
				{File: "F", Key: "config.providers.file.allowed.paths[0]", Message: `must be an absolute path, not "rel"`},
			},
		},
		{
			name: "external kafka needs a registry",
			env:  []string{"SLUICE_KAFKA_BOOTSTRAP_SERVERS=k:9092"},
			want: Problems{{File: "daemon config", Key: "schema.registry.url", Message: `missing: an external Kafka cluster needs a schema registry (or add "registry" to serve the embedded one)`}},
		},
		{
			name: "rest TLS files must load",
			file: `{"rest": {"tls": {"cert.file": "/nonexistent/cert.pem"}}}`,
			want: Problems{{File: "F", Key: "rest.tls", Message: "cert.file and key.file must be set together"}},
		},
		{
			name: "sse TLS files must be set together",
			file: `{"sse": {"tls": {"key.file": "/nonexistent/key.pem"}}}`,
			want: Problems{{File: "F", Key: "sse.tls", Message: "cert.file and key.file must be set together"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := ""
			if tc.file != "" {
				path = writeFile(t, dir, filepath.Base(t.Name())+".json", tc.file)
			}
			for j := range tc.want {
				if tc.want[j].File == "F" {
					tc.want[j].File = path
				}
			}
			d, err := Load(path, tc.env)
			if d != nil {
				t.Fatalf("Load succeeded: %+v", d)
			}
			if !reflect.DeepEqual(err, tc.want) {
				t.Fatalf("problems:\n got %#v\nwant %#v", err, tc.want)
			}
		})
	}
}

func TestSettingsNameEveryVariable(t *testing.T) {
	seen := map[string]string{}
	for _, s := range Settings() {
		if other, dup := seen[s.Env]; dup {
			t.Errorf("%s and %s share %s", s.Path, other, s.Env)
		}
		seen[s.Env] = s.Path
	}
	for path, env := range map[string]string{
		"state.dir": "SLUICE_STATE_DIR", "rest.listen": "SLUICE_REST_LISTEN", "kafka.bootstrap.servers": "SLUICE_KAFKA_BOOTSTRAP_SERVERS",
		"schema.registry.url": "SLUICE_SCHEMA_REGISTRY_URL", "kafka.embedded.listen": "SLUICE_KAFKA_EMBEDDED_LISTEN",
		"rest.tls.cert.file": "SLUICE_REST_TLS_CERT_FILE", "sse.tls.key.file": "SLUICE_SSE_TLS_KEY_FILE", "shutdown.timeout.ms": "SLUICE_SHUTDOWN_TIMEOUT_MS",
	} {
		if seen[env] != path {
			t.Errorf("%s is %q, want %q", env, seen[env], path)
		}
	}
	if len(seen) != 59 {
		t.Errorf("%d settings", len(seen))
	}
}

// The worker converters come from the file and the environment, as the
// connector keys they stand for, and a class that is not one is a problem
// naming its setting.
func TestLoadWorkerConverters(t *testing.T) {
	path := writeFile(t, t.TempDir(), "sluice.json", `{
	  "key.converter": {"class": "org.apache.kafka.connect.storage.StringConverter"},
	  "value.converter": {"class": "json", "schemas.enable": false, "decimal.format": "NUMERIC"}
	}`)
	d, err := Load(path, []string{"SLUICE_VALUE_CONVERTER_REPLACE_NULL_WITH_DEFAULT=false"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
		"value.converter": "json", "value.converter.schemas.enable": "false",
		"value.converter.decimal.format": "NUMERIC", "value.converter.replace.null.with.default": "false",
	}
	if got := d.ConverterSettings(); !reflect.DeepEqual(got, want) {
		t.Errorf("converter settings\n got %v\nwant %v", got, want)
	}
	cfg, ps := d.Converters()
	if ps != nil || !cfg.Given("value.converter.schemas.enable") || cfg.Given("key.converter.schemas.enable") {
		t.Errorf("converters: %v, %v", cfg, ps)
	}

	bad := writeFile(t, t.TempDir(), "sluice.json", `{"value.converter": {"class": "org.apache.kafka.connect.storage.StringConverter", "decimal.format": "HEX"}}`)
	_, err = Load(bad, nil)
	var problems Problems
	if !errors.As(err, &problems) || len(problems) != 2 || problems[0].Key != "value.converter.class" || problems[1].Key != "value.converter.decimal.format" {
		t.Fatalf("problems: %v", err)
	}
}

func TestListenersAreLoopbackWithoutAuthentication(t *testing.T) {
	auth := `"auth": {"tokens": ["0123456789abcdef"]}`
	for _, tc := range []struct {
		name, file          string
		rest, registry, sse string
		warnings            []string
	}{
		{"no authentication", `{}`, "127.0.0.1:8083", "127.0.0.1:8081", "127.0.0.1:8080", nil},
		{"rest.auth", `{"rest": {` + auth + `}}`, ":8083", ":8081", "127.0.0.1:8080", nil},
		{"rest.auth and a registry group", `{"rest": {` + auth + `}, "registry": {}}`, ":8083", ":8081", "127.0.0.1:8080", nil},
		{"explicit loopback addresses", `{"rest": {"listen": "[::1]:9083"}, "registry": {"listen": "localhost:9081"}}`, "[::1]:9083", "localhost:9081", "127.0.0.1:8080", nil},
		{"authentication off by choice", `{"rest": {"listen": ":8083", "allow.unauthenticated": true}, "registry": {"listen": "0.0.0.0:8081", "allow.unauthenticated": true}, "sse": {"listen": ":8080", "allow.unauthenticated": true}}`,
			":8083", "0.0.0.0:8081", ":8080", []string{
				"rest.listen :8083 serves without authentication beyond loopback (rest.allow.unauthenticated): anyone who can reach it can use it",
				"registry.listen 0.0.0.0:8081 serves without authentication beyond loopback (registry.allow.unauthenticated): anyone who can reach it can use it",
				"sse.listen :8080 serves SSE sinks with auth.type none beyond loopback (sse.allow.unauthenticated): anyone who can reach it can read their streams",
			}},
		{"SSE beyond loopback: each sink's auth.type decides", `{"sse": {"listen": ":8080"}}`, "127.0.0.1:8083", "127.0.0.1:8081", ":8080", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Load(writeFile(t, t.TempDir(), "sluice.json", tc.file), nil)
			if err != nil {
				t.Fatal(err)
			}
			if d.REST.Listen != tc.rest || d.EmbeddedRegistry() != tc.registry || d.SSE.Listen != tc.sse || !reflect.DeepEqual(d.Warnings, tc.warnings) {
				t.Errorf("rest %q, registry %q, sse %q, warnings %q; want %q, %q, %q, %q", d.REST.Listen, d.EmbeddedRegistry(), d.SSE.Listen, d.Warnings, tc.rest, tc.registry, tc.sse, tc.warnings)
			}
		})
	}
}

func TestListenersBeyondLoopbackNeedAuthenticationOrAnExplicitChoice(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		env        []string
		want       Problems
	}{
		{"REST API on every interface", `{"rest": {"listen": ":8083"}}`, nil, Problems{{Key: "rest.listen", Message: `":8083" listens beyond loopback without authentication: ` +
			`set rest.auth (user and password, or tokens), listen on 127.0.0.1, or set rest.allow.unauthenticated to true to serve it to anyone who can reach it`}}},
		{"REST API from the environment", `{}`, []string{"SLUICE_REST_LISTEN=10.0.0.5:8083"}, Problems{{Key: "rest.listen", Message: `"10.0.0.5:8083" listens beyond loopback without authentication: ` +
			`set rest.auth (user and password, or tokens), listen on 127.0.0.1, or set rest.allow.unauthenticated to true to serve it to anyone who can reach it`}}},
		{"registry on a host name", `{"registry": {"listen": "sluice:8081"}}`, nil, Problems{{Key: "registry.listen", Message: `"sluice:8081" listens beyond loopback without authentication: ` +
			`set rest.auth (user and password, or tokens), listen on 127.0.0.1, or set registry.allow.unauthenticated to true to serve it to anyone who can reach it`}}},
		{"both credentials and the opt-out", `{"rest": {"auth": {"tokens": ["0123456789abcdef"]}, "allow.unauthenticated": true}}`, nil,
			Problems{{Key: "rest.allow.unauthenticated", Message: "is true while rest.auth is set: remove one of them"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "sluice.json", tc.file)
			for i := range tc.want {
				tc.want[i].File = path
			}
			d, err := Load(path, tc.env)
			if d != nil || !reflect.DeepEqual(err, tc.want) {
				t.Fatalf("problems:\n got %#v\nwant %#v", err, tc.want)
			}
		})
	}
}

// withClusterDefaults gives d the defaults of the cluster mode settings.
func withClusterDefaults(d *Daemon) *Daemon {
	d.ConfigStorageTopic, d.OffsetStorageTopic, d.StatusStorageTopic = "connect-configs", "connect-offsets", "connect-status"
	d.ConfigStorageReplicationFactor, d.OffsetStorageReplicationFactor, d.StatusStorageReplicationFactor = 3, 3, 3
	d.OffsetStoragePartitions, d.StatusStoragePartitions = 25, 5
	d.SessionTimeoutMS, d.HeartbeatIntervalMS, d.RebalanceTimeoutMS = 10000, 3000, 60000
	return d
}

func TestClusterSettings(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "sluice.json", `{
	  "group.id": "sluice-prod",
	  "kafka": {"bootstrap.servers": "kafka-1:9092"},
	  "schema.registry": {"url": "http://schema-registry:8081"},
	  "config.storage.replication.factor": -1,
	  "session.timeout.ms": 6000
	}`)
	d, err := Load(path, []string{"SLUICE_OFFSET_STORAGE_TOPIC=offsets"})
	if err != nil {
		t.Fatal(err)
	}
	if d.GroupID != "sluice-prod" || d.ConfigStorageReplicationFactor != -1 || d.SessionTimeoutMS != 6000 ||
		d.OffsetStorageTopic != "offsets" || d.StatusStorageTopic != "connect-status" || d.HeartbeatIntervalMS != 3000 {
		t.Fatalf("cluster settings: %+v", d)
	}

	path = writeFile(t, dir, "bad.json", `{
	  "group.id": "sluice-prod",
	  "status.storage.topic": "connect-configs",
	  "offset.storage.replication.factor": -2,
	  "heartbeat.interval.ms": 10000
	}`)
	_, err = Load(path, nil)
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("want problems, got %v", err)
	}
	got := map[string]bool{}
	for _, p := range ps {
		got[p.Key] = true
	}
	for _, key := range []string{"group.id", "status.storage.topic", "offset.storage.replication.factor", "heartbeat.interval.ms"} {
		if !got[key] {
			t.Errorf("no problem names %s; problems: %v", key, ps)
		}
	}
	if len(ps) != 4 {
		t.Errorf("want 4 problems, got %v", ps)
	}
}
