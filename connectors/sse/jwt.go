package sse

import (
	"crypto"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"
)

// jwtClaims are the claims sluice reads. streams lists the streams (connector
// names, or "*") the token may read; filter is a fixed filter in query form.
type jwtClaims struct {
	Exp     *float64        `json:"exp"`
	Nbf     *float64        `json:"nbf"`
	Iss     string          `json:"iss"`
	Sub     string          `json:"sub"`
	Aud     json.RawMessage `json:"aud"`
	Streams []string        `json:"streams"`
	Filter  string          `json:"filter"`
}

// verifyJWT verifies a compact JWS token: its alg must be in the allow-list
// (never none), its signature valid, exp present and in the future, nbf (if
// any) past, iss and aud as configured, and streams must name stream.
func (a *AuthConfig) verifyJWT(tok, stream string, now time.Time) (grant, error) {
	parts := strings.Split(tok, ".")
	header, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return grant{}, unauthorized("invalid token: header is not base64url")
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(header, &h); err != nil {
		return grant{}, unauthorized("invalid token: header is not a JSON object")
	}
	if !slices.Contains(a.Algorithms, h.Alg) {
		return grant{}, unauthorized("invalid token: algorithm %q is not accepted", h.Alg)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return grant{}, unauthorized("invalid token: signature is not base64url")
	}
	signed := []byte(tok[:len(parts[0])+1+len(parts[1])])
	digest := sha256.Sum256(signed)
	switch h.Alg {
	case "HS256":
		mac := hmac.New(sha256.New, a.HMACSecret)
		mac.Write(signed)
		if !hmac.Equal(mac.Sum(nil), sig) {
			return grant{}, unauthorized("invalid token: bad signature")
		}
	case "RS256":
		if err := rsa.VerifyPKCS1v15(a.RSAKey, crypto.SHA256, digest[:], sig); err != nil {
			return grant{}, unauthorized("invalid token: bad signature")
		}
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return grant{}, unauthorized("invalid token: payload is not base64url")
	}
	var c jwtClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return grant{}, unauthorized("invalid token: claims: %v", err)
	}
	if c.Exp == nil || math.IsNaN(*c.Exp) {
		return grant{}, unauthorized("invalid token: no exp claim")
	}
	exp := time.UnixMilli(int64(*c.Exp * 1000))
	if !now.Before(exp) {
		return grant{}, unauthorized("token expired")
	}
	if c.Nbf != nil && now.Before(time.UnixMilli(int64(*c.Nbf*1000))) {
		return grant{}, unauthorized("token not valid yet")
	}
	if a.Issuer != "" && c.Iss != a.Issuer {
		return grant{}, unauthorized("invalid token: wrong issuer")
	}
	if a.Audience != "" && !hasAudience(c.Aud, a.Audience) {
		return grant{}, unauthorized("invalid token: wrong audience")
	}
	if !slices.Contains(c.Streams, stream) && !slices.Contains(c.Streams, "*") {
		return grant{}, forbidden("the token does not allow stream %q", stream)
	}
	g := grant{subject: "jwt:" + c.Sub, expires: exp}
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

// hasAudience reports whether aud (a string or an array of strings) holds want.
func hasAudience(aud json.RawMessage, want string) bool {
	var one string
	if json.Unmarshal(aud, &one) == nil {
		return one == want
	}
	var many []string
	return json.Unmarshal(aud, &many) == nil && slices.Contains(many, want)
}

var errNotPEM = errors.New("not a PEM-encoded public key")

func checkRSAKey(v string) error {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	_, err := parseRSAKey(v)
	return err
}

// parseRSAKey parses a PEM RSA public key, PKIX or PKCS#1; empty is nil.
func parseRSAKey(v string) (*rsa.PublicKey, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	block, _ := pem.Decode([]byte(strings.TrimSpace(v)))
	if block == nil {
		return nil, errNotPEM
	}
	if k, err := x509.ParsePKCS1PublicKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %v", err)
	}
	rk, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("the public key is %T, not RSA", k)
	}
	return rk, nil
}
