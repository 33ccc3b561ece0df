package sse_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sluice-cdc/sluice/schema/event"
)

const hmacSecret = "0123456789abcdef0123456789abcdef"

// jwtToken signs claims with alg and key; kid, when not empty, goes in the header.
func jwtToken(t *testing.T, alg string, key any, claims map[string]any, kid ...string) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.GetSigningMethod(alg), jwt.MapClaims(claims))
	if len(kid) > 0 {
		tok.Header["kid"] = kid[0]
	}
	signed, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

func TestAuthenticationAuthorizationCORSAndCaps(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	pub := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	e := newEnv(t, false)
	e.produce(change(event.OpCreate, 99, 1, "0.00", ""))
	e.start("orders", map[string]string{
		"auth.type":                 "token,jwt",
		"auth.tokens":               "ops:ops-secret-0123456789;shop:shop-secret-0123456789:table=public.orders&op=c,u",
		"auth.jwt.algorithms":       "HS256,RS256",
		"auth.jwt.hmac.secret":      hmacSecret,
		"auth.jwt.rsa.public.key":   pub,
		"auth.jwt.clock.skew.ms":    "0",
		"cors.allowed.origins":      "https://app.example",
		"max.connections.per.token": "1",
	})
	exp := float64(time.Now().Add(time.Hour).Unix())
	hs := func(claims map[string]any) string {
		return "Bearer " + jwtToken(t, "HS256", []byte(hmacSecret), claims)
	}
	good := map[string]any{"sub": "alice", "exp": exp, "streams": []string{"orders"}}
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"exp":9999999999,"streams":["*"]}`)) + "."

	for _, tc := range []struct {
		name, query string
		header      map[string]string
		status      int
		body        string
	}{
		{"no token", "", nil, 401, "missing bearer token"},
		{"not bearer", "", map[string]string{"Authorization": "Basic b3BzOng="}, 401, "the Authorization header must be: Bearer <token>"},
		{"wrong static token", "", map[string]string{"Authorization": "Bearer ops-secret-wrong"}, 401, "invalid token"},
		{"static token", "", map[string]string{"Authorization": "Bearer ops-secret-0123456789"}, 200, ""},
		{"token filter narrowed", "?op=c", map[string]string{"Authorization": "Bearer shop-secret-0123456789"}, 200, ""},
		{"table outside token filter", "?table=public.users", map[string]string{"Authorization": "Bearer shop-secret-0123456789"}, 403, `table "public.users" is not allowed for this token`},
		{"op outside token filter", "?op=c,d", map[string]string{"Authorization": "Bearer shop-secret-0123456789"}, 403, "operations outside c,u are not allowed for this token"},
		{"alg none", "", map[string]string{"Authorization": "Bearer " + none}, 401, `invalid token: algorithm "none" is not accepted`},
		{"HS256", "", map[string]string{"Authorization": hs(good)}, 200, ""},
		{"RS256", "", map[string]string{"Authorization": "Bearer " + jwtToken(t, "RS256", rsaKey, map[string]any{"sub": "bob", "exp": exp, "streams": []string{"*"}})}, 200, ""},
		{"RS256 signed by another key", "", map[string]string{"Authorization": "Bearer " + jwtToken(t, "HS256", []byte(pub), map[string]any{"exp": exp, "streams": []string{"*"}})}, 401, "invalid token: bad signature"},
		{"expired", "", map[string]string{"Authorization": hs(map[string]any{"exp": float64(time.Now().Add(-time.Second).Unix()), "streams": []string{"orders"}})}, 401, "token expired"},
		{"no exp", "", map[string]string{"Authorization": hs(map[string]any{"streams": []string{"orders"}})}, 401, "invalid token: no exp claim"},
		{"other stream", "", map[string]string{"Authorization": hs(map[string]any{"exp": exp, "streams": []string{"users"}})}, 403, `the token does not allow stream "orders"`},
		{"origin not allowed", "", map[string]string{"Authorization": "Bearer ops-secret-0123456789", "Origin": "https://evil.example"}, 403, `origin "https://evil.example" is not allowed (cors.allowed.origins)`},
		{"query token disabled", "?access_token=ops-secret-0123456789", nil, 401, "missing bearer token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, resp := e.open("/streams/orders"+tc.query, tc.header)
			if c != nil {
				c.close()
				if tc.status != 200 {
					t.Fatalf("status 200, want %d %q", tc.status, tc.body)
				}
				return
			}
			if got := body(resp); resp.StatusCode != tc.status || got != tc.body {
				t.Errorf("status %d %q, want %d %q", resp.StatusCode, got, tc.status, tc.body)
			}
			if tc.status == 401 && resp.Header.Get("WWW-Authenticate") != `Bearer realm="sluice", error="invalid_token"` {
				t.Errorf("WWW-Authenticate: %q", resp.Header.Get("WWW-Authenticate"))
			}
		})
	}

	t.Run("CORS allowed origin", func(t *testing.T) {
		c, resp := e.open("/streams/orders", map[string]string{"Authorization": "Bearer ops-secret-0123456789", "Origin": "https://app.example"})
		if c == nil {
			t.Fatalf("status %d %s", resp.StatusCode, body(resp))
		}
		defer c.close()
		if got := c.resp.Header.Get("Access-Control-Allow-Origin"); got != "https://app.example" {
			t.Errorf("Access-Control-Allow-Origin %q", got)
		}
	})

	t.Run("per-token cap", func(t *testing.T) {
		var c *client
		for deadline := time.Now().Add(5 * time.Second); c == nil && time.Now().Before(deadline); {
			// The connections of the earlier cases are released when the server notices them gone.
			c, _ = e.open("/streams/orders", map[string]string{"Authorization": "Bearer ops-secret-0123456789"})
			time.Sleep(10 * time.Millisecond)
		}
		if c == nil {
			t.Fatal("the earlier connections of the token were not released")
		}
		defer c.close()
		c.next(5 * time.Second)
		_, resp := e.open("/streams/orders", map[string]string{"Authorization": "Bearer ops-secret-0123456789"})
		if resp == nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "3" || body(resp) != "too many subscribers: try again later" {
			t.Errorf("second connection of the token: %v", resp)
		}
	})

	t.Run("stream closed when the JWT expires", func(t *testing.T) {
		soon := float64(time.Now().Add(1500 * time.Millisecond).Unix())
		c, resp := e.open("/streams/orders", map[string]string{"Authorization": hs(map[string]any{"sub": "carol", "exp": soon, "streams": []string{"orders"}})})
		if c == nil {
			t.Fatalf("status %d %s", resp.StatusCode, body(resp))
		}
		deadline := time.After(5 * time.Second)
		for {
			select {
			case _, ok := <-c.frames:
				if !ok {
					return
				}
			case <-deadline:
				t.Fatal("stream still open 5s after the token expired")
			}
		}
	})
}
