package sse

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// maxJWKSBytes bounds a JWKS document.
const maxJWKSBytes = 1 << 20

// keySet is a JWKS document (RFC 7517) read from a file or an http(s) URL
// and read again once its TTL has passed, so that keys an identity provider
// adds are picked up and keys it drops stop verifying. It is read when a
// token first needs it and then by the first token after each TTL, never in
// the background, and never because a token names an unknown kid (which
// would let anyone make the daemon fetch at will). When a later read fails,
// the keys already read stay in use and the read is tried again after
// retryAfter or the TTL, whichever is shorter. Safe for concurrent use;
// concurrent tokens wait for one read.
type keySet struct {
	source string // the URL or file, for messages
	key    string // the configuration key that names it, for messages
	read   func(ctx context.Context) ([]byte, error)
	ttl    time.Duration
	log    *slog.Logger // read failures; set by logTo

	mu   sync.Mutex
	keys []publicKey
	next time.Time // when to read again; zero: not read yet
}

const retryAfter = 10 * time.Second

// newKeySet returns the key set at source: an http or https URL (key
// auth.jwt.jwks.url) or a file path (auth.jwt.jwks.file).
func newKeySet(key, source string, ttl time.Duration) *keySet {
	s := &keySet{source: source, key: key, ttl: ttl, log: slog.New(slog.DiscardHandler)}
	if key == "auth.jwt.jwks.url" {
		if u, err := url.Parse(source); err == nil {
			s.source = u.Redacted()
		}
		s.read = func(ctx context.Context) ([]byte, error) { return fetch(ctx, source) }
	} else {
		s.read = func(context.Context) ([]byte, error) { return os.ReadFile(source) }
	}
	return s
}

// get returns the set's keys, reading the set first when it is due. Until
// a read succeeds, tokens cannot be verified: 503.
func (s *keySet) get(ctx context.Context, now time.Time) ([]publicKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.next.IsZero() || !now.Before(s.next) {
		s.refresh(ctx, now)
	}
	if s.keys == nil {
		return nil, &authError{http.StatusServiceUnavailable, fmt.Sprintf("cannot verify tokens: the key set of %s could not be read", s.key)}
	}
	return s.keys, nil
}

// refresh reads the set; on failure it keeps the keys it has and logs why.
func (s *keySet) refresh(ctx context.Context, now time.Time) {
	data, err := s.read(ctx)
	var keys []publicKey
	if err == nil {
		keys, err = parseJWKS(data)
	}
	if err != nil {
		s.next = now.Add(min(s.ttl, retryAfter))
		s.log.Warn("cannot read the JWT key set; the keys read before stay in use, if any", "key", s.key, "source", s.source,
			"error", err.Error(), "retry.in", min(s.ttl, retryAfter).String())
		return
	}
	if keys == nil {
		keys = []publicKey{}
	}
	s.keys, s.next = keys, now.Add(s.ttl)
}

// fetch GETs a JWKS document.
func fetch(ctx context.Context, u string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes))
}

// parseJWKS reads the signature keys of a JWKS document: RSA, EC (P-256,
// P-384, P-521) and OKP (Ed25519). Keys for encryption (use enc) and of
// other types are skipped, as identity providers publish those too.
func parseJWKS(data []byte) ([]publicKey, error) {
	var doc struct {
		Keys []struct {
			Kty, Kid, Use, Crv string
			N, E, X, Y         string
		} `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("not a JWKS document: %v", err)
	}
	var keys []publicKey
	for i, k := range doc.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		name := fmt.Sprintf("key %d (kid %q)", i, k.Kid)
		b := func(v string) []byte {
			d, e := base64.RawURLEncoding.DecodeString(strings.TrimRight(v, "="))
			if e != nil || len(d) == 0 {
				return nil
			}
			return d
		}
		switch k.Kty {
		case "RSA":
			n, e := b(k.N), b(k.E)
			if n == nil || e == nil || len(e) > 4 {
				return nil, fmt.Errorf("%s: n and e must be base64url big-endian integers", name)
			}
			keys = append(keys, publicKey{kid: k.Kid, key: &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}})
		case "EC":
			curves := map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()}
			c, ok := curves[k.Crv]
			if !ok {
				return nil, fmt.Errorf("%s: unsupported curve %q", name, k.Crv)
			}
			size := (c.Params().BitSize + 7) / 8
			x, y := b(k.X), b(k.Y)
			if len(x) != size || len(y) != size {
				return nil, fmt.Errorf("%s: x and y must be %d bytes for %s", name, size, k.Crv)
			}
			pub, err := ecdsa.ParseUncompressedPublicKey(c, append(append([]byte{4}, x...), y...))
			if err != nil {
				return nil, fmt.Errorf("%s: %v", name, err)
			}
			keys = append(keys, publicKey{kid: k.Kid, key: pub})
		case "OKP":
			x := b(k.X)
			if k.Crv != "Ed25519" || len(x) != ed25519.PublicKeySize {
				return nil, fmt.Errorf("%s: want crv Ed25519 and a 32-byte x", name)
			}
			keys = append(keys, publicKey{kid: k.Kid, key: ed25519.PublicKey(x)})
		}
	}
	return keys, nil
}

func checkJWKSURL(v string) error {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("invalid URL %q: want https://host/path (or http://)", v)
	}
	return nil
}

func checkJWKSFile(path string) error {
	if strings.TrimSpace(path) == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", path, errors.Unwrap(err))
	}
	if _, err := parseJWKS(data); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
