// Package httpauth checks the credentials of HTTP requests: HTTP basic user
// and password, and bearer tokens. Every comparison takes the same time
// whatever the input (both sides are SHA-256 digests, so lengths leak
// nothing) and every configured token is compared, so timing tells nothing
// about which one came close. The REST API, the embedded schema registry and
// the SSE listener all check credentials through it.
package httpauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// Secret is the digest of a configured secret; the secret itself is not kept.
type Secret [sha256.Size]byte

// Hash returns the digest of secret.
func Hash(secret string) Secret { return sha256.Sum256([]byte(secret)) }

// Equal reports, in constant time, whether got is the secret.
func (s Secret) Equal(got string) bool {
	g := Hash(got)
	return subtle.ConstantTimeCompare(g[:], s[:]) == 1
}

// Find returns the index of the secret equal to got, or -1. It compares got
// with every secret, whether or not one already matched.
func Find(secrets []Secret, got string) int {
	g := Hash(got)
	found := -1
	for i := range secrets {
		if subtle.ConstantTimeCompare(g[:], secrets[i][:]) == 1 {
			found = i
		}
	}
	return found
}

// Bearer returns the token of an "Authorization: Bearer <token>" header (the
// scheme is case-insensitive, as RFC 9110 says), and false when the header
// is missing, has another scheme or an empty token.
func Bearer(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// Credentials are what a listener accepts: a user and password with HTTP
// basic authentication, any of several bearer tokens, or both. The zero
// value accepts nothing; build one with New. A Credentials is read-only
// after New and safe for concurrent use.
type Credentials struct {
	user, password Secret
	hasUser        bool
	tokens         []Secret
}

// New returns the credentials of user and password (none when user is
// empty) and of tokens.
func New(user, password string, tokens ...string) *Credentials {
	c := &Credentials{hasUser: user != "", user: Hash(user), password: Hash(password)}
	for _, t := range tokens {
		c.tokens = append(c.tokens, Hash(t))
	}
	return c
}

// Configured reports whether any credential is configured; a listener whose
// credentials are not configured serves everyone.
func (c *Credentials) Configured() bool {
	return c != nil && (c.hasUser || len(c.tokens) > 0)
}

// Allow reports whether r carries one of the credentials: basic user and
// password when a user is configured, or a bearer token among the tokens.
// A nil or empty Credentials allows nothing; callers decide whether an
// unconfigured listener is open.
func (c *Credentials) Allow(r *http.Request) bool {
	if c == nil {
		return false
	}
	if user, pass, ok := r.BasicAuth(); ok {
		u, p := c.user.Equal(user), c.password.Equal(pass)
		return c.hasUser && u && p
	}
	if tok, ok := Bearer(r); ok {
		return Find(c.tokens, tok) >= 0
	}
	return false
}

// Challenge is the WWW-Authenticate value of a 401 answer in realm: the
// schemes the credentials accept, basic first.
func (c *Credentials) Challenge(realm string) string {
	var schemes []string
	if c.hasUser {
		schemes = append(schemes, `Basic realm="`+realm+`", charset="UTF-8"`)
	}
	if len(c.tokens) > 0 {
		schemes = append(schemes, `Bearer realm="`+realm+`"`)
	}
	return strings.Join(schemes, ", ")
}
