package sse

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// jwtAlgorithms are the values auth.jwt.algorithms accepts, as JWS names them.
var jwtAlgorithms = []string{"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// jwtClaims are the claims sluice reads besides the registered ones. streams
// lists the streams (connector names, or "*") the token may read; filter is
// a fixed filter in query form.
type jwtClaims struct {
	jwt.RegisteredClaims
	Streams []string `json:"streams"`
	Filter  string   `json:"filter"`
}

// jwtVerifier verifies tokens with github.com/golang-jwt/jwt/v5. It is
// built once from the configuration and safe for concurrent use.
type jwtVerifier struct {
	algorithms []string
	leeway     time.Duration
	issuer     string
	audience   string
	hmacSecret []byte
	keys       []publicKey // from PEM: auth.jwt.rsa.public.key and auth.jwt.public.key.file
	jwks       *keySet     // auth.jwt.jwks.file or auth.jwt.jwks.url; nil for none
}

// publicKey is a verification key and the kid it is published under ("" for
// keys from PEM, which match any kid).
type publicKey struct {
	kid string
	key crypto.PublicKey
}

// verify checks tok: its alg must be in the allow-list (never none), its
// signature valid under a configured key, exp present and not past (give or
// take the leeway), nbf (if any) reached, iss and aud as configured, and
// streams must name stream. ctx bounds a refresh of the JWKS.
func (v *jwtVerifier) verify(ctx context.Context, tok, stream string, now time.Time) (grant, error) {
	var c jwtClaims
	p := jwt.NewParser(v.options(now)...)
	t, err := p.ParseWithClaims(tok, &c, func(t *jwt.Token) (any, error) { return v.key(ctx, t, now) })
	if err != nil {
		return grant{}, v.refusal(t, &c, err)
	}
	if !slices.Contains(c.Streams, stream) && !slices.Contains(c.Streams, "*") {
		return grant{}, forbidden("the token does not allow stream %q", stream)
	}
	g := grant{subject: "jwt:" + c.Subject, expires: c.ExpiresAt.Add(v.leeway)}
	if c.Filter != "" {
		q, err := url.ParseQuery(c.Filter)
		if err != nil {
			return grant{}, unauthorized("invalid token: filter claim: %v", err)
		}
		if g.filter, err = ParseFilter(q); err != nil {
			return grant{}, unauthorized("invalid token: filter claim: %v", err)
		}
	}
	return g, nil
}

func (v *jwtVerifier) options(now time.Time) []jwt.ParserOption {
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(v.algorithms),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(v.leeway),
		jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithJSONNumber(),
	}
	if v.issuer != "" {
		opts = append(opts, jwt.WithIssuer(v.issuer))
	}
	if v.audience != "" {
		opts = append(opts, jwt.WithAudience(v.audience))
	}
	return opts
}

// refusal turns the library's error into the answer a subscriber gets; c
// holds the claims as far as they were decoded.
func (v *jwtVerifier) refusal(t *jwt.Token, c *jwtClaims, err error) error {
	var ae *authError
	var alg string
	if t != nil {
		alg, _ = t.Header["alg"].(string)
	}
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, jwt.ErrTokenMalformed):
		return unauthorized("invalid token: malformed")
	case !slices.Contains(v.algorithms, alg):
		return unauthorized("invalid token: algorithm %q is not accepted", alg)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return unauthorized("invalid token: bad signature")
	case c.ExpiresAt == nil:
		return unauthorized("invalid token: no exp claim")
	case errors.Is(err, jwt.ErrTokenExpired):
		return unauthorized("token expired")
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return unauthorized("token not valid yet")
	case errors.Is(err, jwt.ErrTokenInvalidIssuer) || (v.issuer != "" && c.Issuer != v.issuer):
		return unauthorized("invalid token: wrong issuer")
	case errors.Is(err, jwt.ErrTokenInvalidAudience) || (v.audience != "" && !slices.Contains(c.Audience, v.audience)):
		return unauthorized("invalid token: wrong audience")
	}
	return unauthorized("invalid token")
}

// key returns the keys that may have signed t: the HMAC secret for HS*,
// otherwise every configured public key of the algorithm's type, those of
// the JWKS narrowed to the token's kid when it has one.
func (v *jwtVerifier) key(ctx context.Context, t *jwt.Token, now time.Time) (any, error) {
	if _, ok := t.Method.(*jwt.SigningMethodHMAC); ok {
		return v.hmacSecret, nil
	}
	keys := v.keys
	if v.jwks != nil {
		set, err := v.jwks.get(ctx, now)
		if err != nil {
			return nil, err
		}
		keys = append(slices.Clip(keys), set...)
	}
	kid, _ := t.Header["kid"].(string)
	var set jwt.VerificationKeySet
	for _, k := range keys {
		if fits(t.Method, k.key) && (k.kid == "" || kid == "" || k.kid == kid) {
			set.Keys = append(set.Keys, k.key)
		}
	}
	switch {
	case len(set.Keys) > 0:
		return set, nil
	case kid != "":
		return nil, unauthorized("invalid token: no %s key with kid %q", t.Method.Alg(), kid)
	}
	return nil, unauthorized("invalid token: no %s key configured", t.Method.Alg())
}

// fits reports whether key can verify signatures of method.
func fits(method jwt.SigningMethod, key crypto.PublicKey) bool {
	switch m := method.(type) {
	case *jwt.SigningMethodRSA, *jwt.SigningMethodRSAPSS:
		_, ok := key.(*rsa.PublicKey)
		return ok
	case *jwt.SigningMethodECDSA:
		k, ok := key.(*ecdsa.PublicKey)
		return ok && k.Curve.Params().BitSize == m.CurveBits
	case *jwt.SigningMethodEd25519:
		_, ok := key.(ed25519.PublicKey)
		return ok
	}
	return false
}

var errNotPEM = errors.New("not a PEM-encoded public key")

func checkPublicKeys(v string) error {
	_, err := parsePublicKeys([]byte(v))
	return err
}

func checkPublicKeyFile(path string) error {
	_, err := readPublicKeys(path)
	return err
}

// readPublicKeys reads the PEM public keys of the file at path; "" is none.
// Errors never quote the file's content.
func readPublicKeys(path string) ([]publicKey, error) {
	if strings.TrimSpace(path) == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, errors.Unwrap(err))
	}
	keys, err := parsePublicKeys(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return keys, nil
}

// parsePublicKeys parses PEM public keys, one or several blocks: PKIX (RSA,
// EC or Ed25519) or PKCS#1 (RSA). Blank input is none.
func parsePublicKeys(data []byte) ([]publicKey, error) {
	var keys []publicKey
	for rest := bytes.TrimSpace(data); len(rest) > 0; rest = bytes.TrimSpace(rest) {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			return nil, errNotPEM
		}
		if k, err := x509.ParsePKCS1PublicKey(block.Bytes); err == nil {
			keys = append(keys, publicKey{key: k})
			continue
		}
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse public key: %v", err)
		}
		switch k.(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		default:
			return nil, fmt.Errorf("the public key is %T: want RSA, EC or Ed25519", k)
		}
		keys = append(keys, publicKey{key: k})
	}
	return keys, nil
}
