package sse_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/schema/event"
)

func pemOf(t *testing.T, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// jwk is the JWKS entry of a public key.
func jwk(t *testing.T, kid string, pub any) map[string]string {
	t.Helper()
	b64 := base64.RawURLEncoding.EncodeToString
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return map[string]string{"kty": "RSA", "kid": kid, "use": "sig", "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
	case *ecdsa.PublicKey:
		raw, _ := k.Bytes()
		return map[string]string{"kty": "EC", "kid": kid, "crv": "P-256", "x": b64(raw[1:33]), "y": b64(raw[33:])}
	case ed25519.PublicKey:
		return map[string]string{"kty": "OKP", "kid": kid, "crv": "Ed25519", "x": b64(k)}
	}
	t.Fatalf("no JWK for %T", pub)
	return nil
}

// authCase is a subscription attempt with a bearer token and its answer.
type authCase struct {
	name, token string
	status      int
	body        string
}

func (e *env) expectAuth(t *testing.T, path string, cases ...authCase) {
	t.Helper()
	for _, tc := range cases {
		c, resp := e.open(path, map[string]string{"Authorization": "Bearer " + tc.token})
		if c != nil {
			c.close()
			if tc.status != 200 {
				t.Errorf("%s: status 200, want %d %q", tc.name, tc.status, tc.body)
			}
			continue
		}
		if got := body(resp); resp.StatusCode != tc.status || got != tc.body {
			t.Errorf("%s: status %d %q, want %d %q", tc.name, resp.StatusCode, got, tc.status, tc.body)
		}
	}
}

func TestJWTAlgorithmsClaimsAndKeysFromPEM(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	otherRSA, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	edPub, edKey, _ := ed25519.GenerateKey(rand.Reader)
	keyFile := filepath.Join(t.TempDir(), "keys.pem")
	if err := os.WriteFile(keyFile, []byte(pemOf(t, &ecKey.PublicKey)+pemOf(t, edPub)+pemOf(t, &ec384.PublicKey)), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, false)
	e.produce(change(event.OpCreate, 99, 1, "0.00", ""))
	e.start("orders", map[string]string{
		"auth.type":                "jwt",
		"auth.jwt.algorithms":      "HS256,RS256,ES256,EdDSA",
		"auth.jwt.hmac.secret":     hmacSecret,
		"auth.jwt.rsa.public.key":  pemOf(t, &rsaKey.PublicKey),
		"auth.jwt.public.key.file": keyFile,
		"auth.jwt.issuer":          "https://idp.example",
		"auth.jwt.audience":        "sluice",
		"auth.jwt.clock.skew.ms":   "5000",
	})
	claims := func(change func(map[string]any)) map[string]any {
		c := map[string]any{"sub": "alice", "iss": "https://idp.example", "aud": []string{"other", "sluice"}, "exp": time.Now().Add(time.Hour).Unix(), "streams": []string{"orders"}}
		if change != nil {
			change(c)
		}
		return c
	}
	good := claims(nil)
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + base64.RawURLEncoding.EncodeToString(must(json.Marshal(good))) + "."
	e.expectAuth(t, "/streams/orders",
		authCase{"HS256", jwtToken(t, "HS256", []byte(hmacSecret), good), 200, ""},
		authCase{"RS256", jwtToken(t, "RS256", rsaKey, good), 200, ""},
		authCase{"ES256", jwtToken(t, "ES256", ecKey, good), 200, ""},
		authCase{"EdDSA", jwtToken(t, "EdDSA", edKey, good), 200, ""},
		authCase{"alg none", none, 401, `invalid token: algorithm "none" is not accepted`},
		authCase{"ES384, not in the allow-list, with its key in the file", jwtToken(t, "ES384", ec384, good), 401, `invalid token: algorithm "ES384" is not accepted`},
		authCase{"RS256 signed by another key", jwtToken(t, "RS256", otherRSA, good), 401, "invalid token: bad signature"},
		authCase{"HS256 keyed with the RSA public key", jwtToken(t, "HS256", []byte(pemOf(t, &rsaKey.PublicKey)), good), 401, "invalid token: bad signature"},
		authCase{"expired", jwtToken(t, "ES256", ecKey, claims(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() })), 401, "token expired"},
		authCase{"expired within the clock skew", jwtToken(t, "ES256", ecKey, claims(func(c map[string]any) { c["exp"] = time.Now().Add(-2 * time.Second).Unix() })), 200, ""},
		authCase{"no exp", jwtToken(t, "ES256", ecKey, claims(func(c map[string]any) { delete(c, "exp") })), 401, "invalid token: no exp claim"},
		authCase{"not valid yet", jwtToken(t, "ES256", ecKey, claims(func(c map[string]any) { c["nbf"] = time.Now().Add(time.Minute).Unix() })), 401, "token not valid yet"},
		authCase{"wrong issuer", jwtToken(t, "EdDSA", edKey, claims(func(c map[string]any) { c["iss"] = "https://evil.example" })), 401, "invalid token: wrong issuer"},
		authCase{"no issuer", jwtToken(t, "EdDSA", edKey, claims(func(c map[string]any) { delete(c, "iss") })), 401, "invalid token: wrong issuer"},
		authCase{"wrong audience", jwtToken(t, "RS256", rsaKey, claims(func(c map[string]any) { c["aud"] = "billing" })), 401, "invalid token: wrong audience"},
		authCase{"no audience", jwtToken(t, "RS256", rsaKey, claims(func(c map[string]any) { delete(c, "aud") })), 401, "invalid token: wrong audience"},
		authCase{"other stream", jwtToken(t, "HS256", []byte(hmacSecret), claims(func(c map[string]any) { c["streams"] = []string{"users"} })), 403, `the token does not allow stream "orders"`},
		authCase{"malformed", "a.b.c", 401, "invalid token: malformed"},
	)
}

// jwksServer serves a JWKS document that the test changes.
type jwksServer struct {
	mu     sync.Mutex
	keys   []map[string]string
	status int
}

func (s *jwksServer) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status != 0 {
		w.WriteHeader(s.status)
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"keys": s.keys})
}

func (s *jwksServer) set(status int, keys ...map[string]string) {
	s.mu.Lock()
	s.status, s.keys = status, keys
	s.mu.Unlock()
}

func TestJWKSFromAURLIsReadAgainAfterItsRefreshInterval(t *testing.T) {
	k1, _ := rsa.GenerateKey(rand.Reader, 2048)
	k2, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, k3, _ := ed25519.GenerateKey(rand.Reader)
	idp := &jwksServer{status: http.StatusInternalServerError}
	srv := httptest.NewServer(idp)
	defer srv.Close()
	e := newEnv(t, false)
	e.produce(change(event.OpCreate, 99, 1, "0.00", ""))
	e.start("orders", map[string]string{
		"auth.type":                "jwt",
		"auth.jwt.algorithms":      "RS256,ES256,EdDSA",
		"auth.jwt.jwks.url":        srv.URL + "/.well-known/jwks.json",
		"auth.jwt.jwks.refresh.ms": "1000",
	})
	claims := map[string]any{"sub": "alice", "exp": time.Now().Add(time.Hour).Unix(), "streams": []string{"*"}}
	tok1 := jwtToken(t, "RS256", k1, claims, "k1")
	tok2 := jwtToken(t, "ES256", k2, claims, "k2")
	unreadable := authCase{"the key set cannot be read", tok1, 503, "cannot verify tokens: the key set of auth.jwt.jwks.url could not be read"}
	e.expectAuth(t, "/streams/orders", unreadable, authCase{"again, before the next read", tok2, 503, unreadable.body})

	idp.set(0, jwk(t, "k1", &k1.PublicKey), jwk(t, "k3", k3.Public()), map[string]string{"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"})
	time.Sleep(1100 * time.Millisecond)
	e.expectAuth(t, "/streams/orders",
		authCase{"k1", tok1, 200, ""},
		authCase{"k3", jwtToken(t, "EdDSA", k3, claims, "k3"), 200, ""},
		authCase{"k2, not published yet", tok2, 401, `invalid token: no ES256 key with kid "k2"`},
		authCase{"k1's key under kid k3", jwtToken(t, "RS256", k1, claims, "k3"), 401, `invalid token: no RS256 key with kid "k3"`},
	)

	// The provider rotates: k2 comes, k1 goes. Until the refresh interval
	// has passed the keys read before stay in use.
	idp.set(0, jwk(t, "k2", &k2.PublicKey))
	e.expectAuth(t, "/streams/orders",
		authCase{"k2 before the refresh", tok2, 401, `invalid token: no ES256 key with kid "k2"`},
		authCase{"k1 before the refresh", tok1, 200, ""},
	)
	time.Sleep(1100 * time.Millisecond)
	e.expectAuth(t, "/streams/orders",
		authCase{"k2 after the refresh", tok2, 200, ""},
		authCase{"k1 after the refresh", tok1, 401, `invalid token: no RS256 key with kid "k1"`},
	)

	// A failed read keeps the keys read before.
	idp.set(http.StatusBadGateway)
	time.Sleep(1100 * time.Millisecond)
	e.expectAuth(t, "/streams/orders", authCase{"k2 while the provider fails", tok2, 200, ""})
}

func TestJWKSFromAFile(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	file := filepath.Join(t.TempDir(), "jwks.json")
	doc, _ := json.Marshal(map[string]any{"keys": []any{jwk(t, "only", &key.PublicKey)}})
	if err := os.WriteFile(file, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, false)
	e.produce(change(event.OpCreate, 99, 1, "0.00", ""))
	e.start("orders", map[string]string{"auth.type": "jwt", "auth.jwt.algorithms": "ES256", "auth.jwt.jwks.file": file})
	claims := map[string]any{"exp": time.Now().Add(time.Hour).Unix(), "streams": []string{"orders"}}
	e.expectAuth(t, "/streams/orders",
		authCase{"kid of the file's key", jwtToken(t, "ES256", key, claims, "only"), 200, ""},
		authCase{"no kid", jwtToken(t, "ES256", key, claims), 200, ""},
	)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
