package httpauth

import (
	"net/http"
	"testing"
)

func TestAllow(t *testing.T) {
	userAndTokens := New("admin", "s3cret", "first-token-0123", "second-token-012")
	onlyTokens := New("", "", "first-token-0123")
	onlyUser := New("admin", "s3cret")
	basic := func(user, password string) http.Header {
		r, _ := http.NewRequest("GET", "/", nil)
		r.SetBasicAuth(user, password)
		return r.Header
	}
	bearer := func(v string) http.Header { return http.Header{"Authorization": {v}} }
	cases := []struct {
		name  string
		creds *Credentials
		h     http.Header
		want  bool
	}{
		{"basic right", userAndTokens, basic("admin", "s3cret"), true},
		{"basic wrong password", userAndTokens, basic("admin", "s3creT"), false},
		{"basic wrong user", userAndTokens, basic("Admin", "s3cret"), false},
		{"basic empty password", userAndTokens, basic("admin", ""), false},
		{"first token", userAndTokens, bearer("Bearer first-token-0123"), true},
		{"last token", userAndTokens, bearer("Bearer second-token-012"), true},
		{"scheme in lower case", userAndTokens, bearer("bearer second-token-012"), true},
		{"wrong token", userAndTokens, bearer("Bearer third-token-0123"), false},
		{"token prefix", userAndTokens, bearer("Bearer first-token"), false},
		{"empty token", userAndTokens, bearer("Bearer "), false},
		{"other scheme", userAndTokens, bearer("Token first-token-0123"), false},
		{"missing", userAndTokens, http.Header{}, false},
		{"basic without a user configured", onlyTokens, basic("", ""), false},
		{"token as basic password", onlyTokens, basic("x", "first-token-0123"), false},
		{"token without tokens configured", onlyUser, bearer("Bearer s3cret"), false},
		{"nil credentials", nil, basic("admin", "s3cret"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.creds.Allow(&http.Request{Header: c.h}); got != c.want {
				t.Errorf("Allow = %v, want %v", got, c.want)
			}
		})
	}
}

func TestFind(t *testing.T) {
	secrets := []Secret{Hash("a-secret"), Hash("b-secret"), Hash("c-secret")}
	for got, want := range map[string]int{"a-secret": 0, "c-secret": 2, "d-secret": -1, "": -1, "a-secretx": -1} {
		if i := Find(secrets, got); i != want {
			t.Errorf("Find(%q) = %d, want %d", got, i, want)
		}
	}
}

func TestConfiguredAndChallenge(t *testing.T) {
	cases := []struct {
		creds      *Credentials
		configured bool
		challenge  string
	}{
		{New("admin", "p", "tok"), true, `Basic realm="r", charset="UTF-8", Bearer realm="r"`},
		{New("admin", "p"), true, `Basic realm="r", charset="UTF-8"`},
		{New("", "", "tok"), true, `Bearer realm="r"`},
		{New("", ""), false, ``},
	}
	for _, c := range cases {
		if c.creds.Configured() != c.configured || c.creds.Challenge("r") != c.challenge {
			t.Errorf("Configured = %v, Challenge = %q; want %v, %q", c.creds.Configured(), c.creds.Challenge("r"), c.configured, c.challenge)
		}
	}
	var none *Credentials
	if none.Configured() {
		t.Error("nil credentials are configured")
	}
}
