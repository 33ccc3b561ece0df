package main

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/testenv"
)

// TestRunRefusesListenersOpenBeyondLoopback checks that a listener beyond
// loopback without authentication stops the daemon before it starts,
// naming the setting, and that the explicit opt-out is a warning.
func TestRunRefusesListenersOpenBeyondLoopback(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sluice.json")
	writeJSON(t, cfg, `{"state.dir": "`+dir+`/state", "rest": {"listen": ":0"}, "registry": {"listen": "0.0.0.0:0"}}`)
	code, out, errs := sluice(t, "run", "--config", cfg)
	want := cfg + `: rest.listen: ":0" listens beyond loopback without authentication: set rest.auth (user and password, or tokens), listen on 127.0.0.1, or set rest.allow.unauthenticated to true to serve it to anyone who can reach it` + "\n" +
		cfg + `: registry.listen: "0.0.0.0:0" listens beyond loopback without authentication: set rest.auth (user and password, or tokens), listen on 127.0.0.1, or set registry.allow.unauthenticated to true to serve it to anyone who can reach it` + "\n" +
		"sluice: 2 problem(s) in the configuration\n"
	if code != exitUsage || out != "" || errs != want {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s\nwant exit %d and:\n%s", code, out, errs, exitUsage, want)
	}

	// Asked for explicitly: the daemon starts and warns.
	writeJSON(t, cfg, `{"state.dir": "`+dir+`/state", "rest": {"allow.unauthenticated": true}, "registry": {"listen": "`+freeAddr(t)+`"},
		"kafka": {"embedded": {"listen": "`+freeAddr(t)+`"}}, "sse": {"listen": ":0", "allow.unauthenticated": true}}`)
	d := startDaemon(t, []string{"SLUICE_REST_LISTEN=0.0.0.0:0", "SLUICE_LOG_FORMAT=json"}, "--config", cfg)
	for _, w := range []string{
		`"level":"WARN","msg":"rest.listen 0.0.0.0:0 serves without authentication beyond loopback (rest.allow.unauthenticated): anyone who can reach it can use it"`,
		`"level":"WARN","msg":"sse.listen :0 serves SSE sinks with auth.type none beyond loopback (sse.allow.unauthenticated): anyone who can reach it can read their streams"`,
	} {
		if !strings.Contains(d.log(), w) {
			t.Errorf("the log lacks %s:\n%s", w, d.log())
		}
	}
}

// TestPublicSSEStreamsNeedAnExplicitChoice checks that, on an SSE listener
// beyond loopback, a sink without authentication fails saying what to set,
// and one with authentication serves.
func TestPublicSSEStreamsNeedAnExplicitChoice(t *testing.T) {
	dir := t.TempDir()
	kafkaAddr := freeAddr(t)
	cfg := filepath.Join(dir, "sluice.json")
	writeJSON(t, cfg, `{"state.dir": "`+dir+`/state", "registry": {"listen": "`+freeAddr(t)+`"}, "kafka": {"embedded": {"listen": "`+kafkaAddr+`"}}, "sse": {"listen": "0.0.0.0:0"}}`)
	d := startDaemon(t, []string{"SLUICE_REST_LISTEN=127.0.0.1:0", "SLUICE_LOG_FORMAT=json"}, "--config", cfg)
	cl, err := kgo.NewClient(kgo.SeedBrokers(kafkaAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(t.Context(), 1, 1, nil, "pub.public.orders"); err != nil {
		t.Fatal(err)
	}
	if code, body := d.call("POST", "/connectors", `{"name": "public", "config": {"connector.class": "sse", "topics": "pub.public.orders"}}`); code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	if code, body := d.call("POST", "/connectors", `{"name": "private", "config": {"connector.class": "sse", "topics": "pub.public.orders",
		"auth.type": "token", "auth.tokens": "web:web-token-0123456789"}}`); code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	want := `serve stream \"public\" on /streams/public (sse.path): sse.listen 0.0.0.0:0 is beyond loopback and this stream has auth.type none: ` +
		`set auth.type to token or jwt, listen on 127.0.0.1 (sse.listen), or set sse.allow.unauthenticated to true to serve public streams`
	d.waitFor("the public stream to fail", func() bool {
		_, body := d.call("GET", "/connectors/public/status", "")
		return strings.Contains(body, `"state":"FAILED"`) && strings.Contains(body, want)
	})
	d.waitFor("the private stream to run", func() bool {
		_, body := d.call("GET", "/connectors/private/status", "")
		return strings.Contains(body, `"state":"RUNNING"`)
	})
}

// TestDefaultListenersAreLoopback checks where a daemon started without
// authentication and without listen addresses serves.
func TestDefaultListenersAreLoopback(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sluice.json")
	writeJSON(t, cfg, `{"state.dir": "`+dir+`/state", "kafka": {"embedded": {"listen": "`+freeAddr(t)+`"}}}`)
	code, out, errs := sluice(t, "validate", "--config", cfg)
	if code != exitOK || errs != "" || out != "ok: daemon config ("+cfg+") and 0 connector(s)\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	l, ps := load(daemonFlags{config: cfg})
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	if d := l.daemon; d.REST.Listen != "127.0.0.1:8083" || d.EmbeddedRegistry() != "127.0.0.1:8081" || d.SSE.Listen != "127.0.0.1:8080" {
		t.Fatalf("REST %s, registry %s, SSE %s", d.REST.Listen, d.EmbeddedRegistry(), d.SSE.Listen)
	}
}

// credentialCase is a request to one listener with one credential.
type credentialCase struct {
	name   string
	auth   string // the Authorization header; empty for none
	status int
}

// expectStatus sends a GET with auth to u and checks the answer's status.
func expectStatus(t *testing.T, listener, u string, cases ...credentialCase) {
	t.Helper()
	for _, c := range cases {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("%s, %s: %v", listener, c.name, err)
		} else {
			resp.Body.Close()
			if resp.StatusCode != c.status {
				t.Errorf("%s, %s: status %d, want %d", listener, c.name, resp.StatusCode, c.status)
			}
		}
		cancel()
	}
}

func basicAuth(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

// TestEveryListenerChecksEveryCredential runs a daemon with a REST user and
// two tokens, the embedded registry (which takes the same credentials) and
// an SSE sink with static tokens and JWTs, and knocks on each with each
// kind of credential: right, wrong and missing.
func TestEveryListenerChecksEveryCredential(t *testing.T) {
	dir := t.TempDir()
	kafkaAddr, registryAddr, sseAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	cfg := filepath.Join(dir, "sluice.json")
	writeJSON(t, cfg, `{"state.dir": "`+dir+`/state", "rest": {"auth": {"user": "admin", "password": "rest-password", "tokens": ["first-rest-token-0123", "second-rest-token-012"]}},
		"registry": {"listen": "`+registryAddr+`"}, "kafka": {"embedded": {"listen": "`+kafkaAddr+`"}}, "sse": {"listen": "`+sseAddr+`"}}`)
	d := startDaemon(t, []string{"SLUICE_REST_LISTEN=127.0.0.1:0", "SLUICE_LOG_FORMAT=json"}, "--config", cfg)

	admin, first, second := basicAuth("admin", "rest-password"), "Bearer first-rest-token-0123", "Bearer second-rest-token-012"
	common := []credentialCase{
		{"basic", admin, 200}, {"first token", first, 200}, {"second token", second, 200},
		{"wrong password", basicAuth("admin", "rest-passwore"), 401}, {"wrong user", basicAuth("root", "rest-password"), 401},
		{"wrong token", "Bearer third-rest-token-0123", 401}, {"token as basic password", basicAuth("admin", "first-rest-token-0123"), 401},
		{"nothing", "", 401},
	}
	expectStatus(t, "REST API", d.base+"/connectors", common...)
	expectStatus(t, "REST API", d.base+"/healthz", credentialCase{"health without credentials", "", 200})
	expectStatus(t, "registry", "http://"+registryAddr+"/subjects", common...)

	// An SSE sink on a topic that exists.
	cl, err := kgo.NewClient(kgo.SeedBrokers(kafkaAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(t.Context(), 1, 1, nil, "sec.public.orders"); err != nil {
		t.Fatal(err)
	}
	const hmacSecret = "0123456789abcdef0123456789abcdef"
	req, _ := http.NewRequest("POST", d.base+"/connectors", strings.NewReader(`{"name": "orders", "config": {"connector.class": "sse", "topics": "sec.public.orders",
		"auth.type": "token,jwt", "auth.tokens": "web:web-token-0123456789", "auth.jwt.algorithms": "HS256", "auth.jwt.hmac.secret": "`+hmacSecret+`"}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("create the SSE sink: %s", resp.Status)
	}
	stream := "http://" + sseAddr + "/streams/orders"
	d.waitFor("the stream", func() bool {
		resp, err := http.Get(stream)
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 401
	})
	sign := func(claims jwt.MapClaims, secret string) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + s
	}
	exp := time.Now().Add(time.Hour).Unix()
	expectStatus(t, "SSE", stream,
		credentialCase{"static token", "Bearer web-token-0123456789", 200},
		credentialCase{"JWT", sign(jwt.MapClaims{"exp": exp, "streams": []string{"orders"}}, hmacSecret), 200},
		credentialCase{"wrong static token", "Bearer web-token-0123456780", 401},
		credentialCase{"JWT with a wrong signature", sign(jwt.MapClaims{"exp": exp, "streams": []string{"orders"}}, hmacSecret+"x"), 401},
		credentialCase{"expired JWT", sign(jwt.MapClaims{"exp": time.Now().Add(-time.Hour).Unix(), "streams": []string{"orders"}}, hmacSecret), 401},
		credentialCase{"REST token", first, 401},
		credentialCase{"basic", admin, 401},
		credentialCase{"nothing", "", 401},
	)
}

// TestSecretsNeverLeak runs connectors whose passwords are known secrets,
// given literally, through ${env:...} and through ${file:...}, makes them
// fail (a host that refuses, a database that refuses the password, an
// Elasticsearch that is not there), asks every endpoint that shows
// connectors, validates configs that hold them, and looks for the secrets
// in every answer and every log line.
func TestSecretsNeverLeak(t *testing.T) {
	pgURL, err := url.Parse(testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{
		"literal":   "literal-Secret-7f3a9c",
		"env":       "env-Secret-b81d44",
		"file":      "file-Secret-c0ffee",
		"database":  "database-Secret-5e5e5e",
		"es":        "es-Secret-a11ce5",
		"rest":      "rest-Secret-d00d12",
		"sse token": "sse-token-Secret-0f0f0f",
		"sse hmac":  "sse-hmac-Secret-0123456789abcdef0123",
	}
	dir := t.TempDir()
	secretsDir := filepath.Join(dir, "secrets")
	os.Mkdir(secretsDir, 0o700)
	if err := os.WriteFile(filepath.Join(secretsDir, "db.properties"), []byte("password="+secrets["file"]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "sluice.json")
	writeJSON(t, cfg, `{"state.dir": "`+dir+`/state", "rest": {"auth": {"user": "admin", "password": "`+secrets["rest"]+`"}},
		"registry": {"listen": "`+freeAddr(t)+`"}, "kafka": {"embedded": {"listen": "`+freeAddr(t)+`"}}, "log": {"level": "debug"},
		"config.providers": {"file": {"allowed.paths": ["`+secretsDir+`"]}}}`)
	d := startDaemon(t, []string{"SLUICE_REST_LISTEN=127.0.0.1:0", "SLUICE_LOG_FORMAT=json", "DB_SECRET=" + secrets["env"]}, "--config", cfg)
	admin := basicAuth("admin", secrets["rest"])
	var answers strings.Builder
	call := func(method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, d.base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", admin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		answers.WriteString(method + " " + path + " → " + resp.Status + "\n" + string(b) + "\n")
		return resp.StatusCode, string(b)
	}
	pg := func(host, port, user, password, prefix string) string {
		return `{"connector.class": "postgres", "database.hostname": "` + host + `", "database.port": "` + port + `", "database.user": "` + user + `",
			"database.password": "` + password + `", "database.dbname": "app", "topic.prefix": "` + prefix + `"}`
	}
	connectors := map[string]string{
		"literal":  pg("127.0.0.1", "1", "cdc", secrets["literal"], "literal"),
		"env":      pg("127.0.0.1", "1", "cdc", "${env:DB_SECRET}", "env"),
		"file":     pg("127.0.0.1", "1", "cdc", "${file:"+secretsDir+"/db.properties:password}", "file"),
		"database": pg(pgURL.Hostname(), pgURL.Port(), pgURL.User.Username(), secrets["database"], "database"),
		"es": `{"connector.class": "elasticsearch", "topics": "literal.public.orders", "connection.url": "http://127.0.0.1:1",
			"connection.username": "elastic", "connection.password": "` + secrets["es"] + `"}`,
		"sse": `{"connector.class": "sse", "topics": "literal.public.orders", "auth.type": "token,jwt", "auth.tokens": "web:` + secrets["sse token"] + `",
			"auth.jwt.algorithms": "HS256", "auth.jwt.hmac.secret": "` + secrets["sse hmac"] + `"}`,
	}
	for name, c := range connectors {
		if code, body := call("POST", "/connectors", `{"name": "`+name+`", "config": `+c+`}`); code != 201 {
			t.Fatalf("create %s: %d %s", name, code, body)
		}
	}
	// Each connector shows why it cannot work in its status (the SSE sink
	// waits for its topic).
	for name := range connectors {
		if name == "sse" {
			continue
		}
		d.waitFor(name+"'s trace", func() bool {
			_, body := call("GET", "/connectors/"+name+"/status", "")
			return strings.Contains(body, `"trace"`)
		})
	}
	for name, c := range connectors {
		for _, path := range []string{"", "/config", "/status", "/tasks", "/tasks/0/status", "/offsets", "/topics"} {
			call("GET", "/connectors/"+name+path, "")
		}
		call("PUT", "/connectors/"+name+"/config", c)
		class := map[string]string{"es": "elasticsearch", "sse": "sse"}[name]
		if class == "" {
			class = "postgres"
		}
		call("PUT", "/connector-plugins/"+class+"/config/validate", c)
		// An invalid config holding the secret, refused.
		call("POST", "/connectors", `{"name": "`+name+`-bad", "config": `+strings.Replace(c, `"connector.class"`, `"colour": "red", "connector.class"`, 1)+`}`)
	}
	for _, path := range []string{"/connectors?expand=status&expand=info", "/metrics", "/admin/loggers"} {
		call("GET", path, "")
	}
	code, out, errs := sluice(t, "validate", "--config", cfg)
	answers.WriteString("sluice validate → " + out + errs)
	if code != exitOK {
		t.Errorf("sluice validate: exit %d: %s", code, errs)
	}
	d.terminate(30 * time.Second)

	outputs := map[string]string{"answers": answers.String(), "log": d.log()}
	for what, text := range outputs {
		for name, secret := range secrets {
			if i := strings.Index(text, secret); i >= 0 {
				t.Errorf("the %s secret is in the %s: …%s…", name, what, text[max(0, i-300):min(len(text), i+100)])
			}
		}
	}
	// The outputs are what they should be, not empty.
	for _, want := range []string{`"database.password": "[hidden]"`, `"database.password":"${env:DB_SECRET}"`, "connection refused"} {
		if !strings.Contains(strings.ReplaceAll(answers.String(), `":"`, `": "`), strings.ReplaceAll(want, `":"`, `": "`)) {
			t.Errorf("the answers lack %s", want)
		}
	}
}
