package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// authorized reports whether r carries the credentials Options.Auth asks
// for: HTTP basic user and password, or a bearer token. Every comparison
// takes the same time whatever the input (both sides are hashed first, so
// lengths leak nothing either), and every configured token is compared.
func (a *API) authorized(r *http.Request) bool {
	auth := a.opts.Auth
	if auth == nil {
		return true
	}
	if user, pass, ok := r.BasicAuth(); ok && auth.User != "" {
		u := equal(user, auth.User)
		p := equal(pass, auth.Password)
		return u&p == 1
	}
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		match := 0
		for _, t := range auth.Tokens {
			match |= equal(strings.TrimSpace(tok), t)
		}
		return match == 1
	}
	return false
}

// equal compares two secrets in constant time, returning 1 when equal.
func equal(a, b string) int {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:])
}
