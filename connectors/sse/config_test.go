package sse

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-cdc/sluice/schema/jsontext"
)

func TestConfigProblemsNameTheKey(t *testing.T) {
	jwksFile := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(jwksFile, []byte(`{"keys": []}`), 0o600); err != nil {
		t.Fatal(err)
	}
	base := func(extra ...string) map[string]string {
		raw := map[string]string{"connector.class": "sse", "topics": "p.public.orders"}
		for i := 0; i < len(extra); i += 2 {
			raw[extra[i]] = extra[i+1]
		}
		return raw
	}
	for _, tc := range []struct {
		raw  map[string]string
		want string
	}{
		{map[string]string{"connector.class": "sse"}, "topics: missing required configuration: give topics or topics.regex"},
		{base("topics.regex", "p\\..*"), "topics.regex: give either topics or topics.regex, not both"},
		{base("format", "csv"), `format: invalid value "csv": must be one of envelope, flat`},
		{base("sse.path", "streams"), `sse.path: invalid path "streams": want an absolute URL path such as /streams/orders, without query, '..' or empty segments`},
		{base("event.name", "a\nb"), `event.name: invalid event name "a\nb": CR, LF and NUL are not allowed`},
		{base("auth.type", "none,jwt"), `auth.type: invalid value "none,jwt": none cannot be combined with other types`},
		{base("auth.type", "token"), "auth.tokens: missing required configuration: auth.type includes token"},
		{base("auth.type", "token", "auth.tokens", "ops:short"), `auth.tokens: entry 1 (token "ops"): the secret must be at least 16 characters`},
		{base("auth.type", "token", "auth.tokens", "ops:0123456789abcdef:op=x"), `auth.tokens: entry 1 (token "ops"): filter: invalid parameter op: unknown operation "x": want one of c, u, d, r, t`},
		{base("auth.type", "jwt", "auth.jwt.algorithms", "HS256,none"), `auth.jwt.algorithms: unsupported algorithm "none": must be among HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA (as spelled there)`},
		{base("auth.type", "jwt"), "auth.jwt.jwks.url: missing required configuration: RS256 accepted (auth.jwt.algorithms) needs public keys: set auth.jwt.jwks.url, auth.jwt.jwks.file, auth.jwt.public.key.file or auth.jwt.rsa.public.key"},
		{base("auth.type", "jwt", "auth.jwt.algorithms", "HS256", "auth.jwt.hmac.secret", "short"), "auth.jwt.hmac.secret: an HS algorithm is accepted (auth.jwt.algorithms) and needs a secret of at least 32 bytes"},
		{base("auth.type", "jwt", "auth.jwt.jwks.url", "https://idp/keys", "auth.jwt.jwks.file", jwksFile), "auth.jwt.jwks.url: give either auth.jwt.jwks.file or auth.jwt.jwks.url, not both"},
		{base("auth.type", "jwt", "auth.jwt.jwks.url", "ftp://idp/keys"), `auth.jwt.jwks.url: invalid URL "ftp://idp/keys": want https://host/path (or http://)`},
		{base("auth.type", "jwt", "auth.jwt.jwks.file", "/nonexistent/jwks.json"), "auth.jwt.jwks.file: cannot read /nonexistent/jwks.json: no such file or directory"},
		{base("auth.type", "jwt", "auth.jwt.jwks.file", "config_test.go"), "auth.jwt.jwks.file: config_test.go: not a JWKS document: invalid character 'p' looking for beginning of value"},
		{base("auth.type", "jwt", "auth.jwt.public.key.file", "/nonexistent/key.pem"), "auth.jwt.public.key.file: cannot read /nonexistent/key.pem: no such file or directory"},
		{base("auth.type", "jwt", "auth.jwt.rsa.public.key", "hunter2"), "auth.jwt.rsa.public.key: not a PEM-encoded public key"},
		{base("heartbeat.interval.ms", "10"), "heartbeat.interval.ms: invalid value 10: must be between 100 and 3600000"},
		{base("subscriber.buffer", "10"), "subscriber.buffer: unknown configuration key"},
	} {
		c, err := Spec.Parse(tc.raw)
		if err == nil {
			_, err = ParseConfig(c, "orders")
		}
		if err == nil || err.Error() != tc.want {
			t.Errorf("%v:\n got %v\nwant %s", tc.raw, err, tc.want)
		}
	}
	c, err := Spec.Parse(base())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig(c, "orders")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Path != "/streams/orders" || cfg.Format != "envelope" || cfg.Heartbeat.Milliseconds() != 15000 || cfg.BufferSize != 256 || cfg.Auth.Static || cfg.Auth.JWT {
		t.Errorf("defaults: %+v", cfg)
	}
}

func TestFramesSplitDataAndStripCRLFNULFromFields(t *testing.T) {
	got := string(appendFrame(nil, "a\r\nb\x00c", "u\nevent: x", []byte("l1\nl2\r\nl3\rl4")))
	want := "id: abc\nevent: uevent: x\ndata: l1\ndata: l2\ndata: l3\ndata: l4\n\n"
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if got := string(jsontext.AppendString(nil, "q\"\\\x01\u2028\xff")); got != `"q\"\\\u0001\u2028\ufffd"` {
		t.Errorf("string: %s", got)
	}
	if strings.ContainsAny(string(appendFrame(nil, "", "", []byte("x"))), "\x00") {
		t.Error("NUL in frame")
	}
}

func TestIDsRoundTripAndRejectOtherLayouts(t *testing.T) {
	l := newLayout(map[string]int32{"a": 2, "b": 1})
	p := position{{5, 1 << 40}, {0}}
	id := l.encode(p)
	if !validIDChars(id) {
		t.Fatalf("id %q has invalid characters", id)
	}
	back, err := l.decode(id)
	if err != nil || back[0][0] != 5 || back[0][1] != 1<<40 || back[1][0] != 0 {
		t.Fatalf("decode: %v %v", back, err)
	}
	other := newLayout(map[string]int32{"a": 3, "b": 1})
	if _, err := other.decode(id); err == nil || err.Error() != `unknown event id: the partitions of topic "a" changed` {
		t.Errorf("other layout: %v", err)
	}
}
