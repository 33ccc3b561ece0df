package embedded

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// authorized checks the request's credentials against the configured basic auth or bearer
// token, in constant time. Without either configured, every request is authorized.
func (r *Registry) authorized(req *http.Request) bool {
	switch {
	case r.cfg.basicUser != "":
		user, password, ok := req.BasicAuth()
		userOK := equal(user, r.cfg.basicUser)
		passwordOK := equal(password, r.cfg.basicPassword)
		return ok && userOK && passwordOK
	case r.cfg.bearerToken != "":
		token, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
		return ok && equal(token, r.cfg.bearerToken)
	}
	return true
}

func (r *Registry) challenge() string {
	if r.cfg.bearerToken != "" {
		return `Bearer realm="schema-registry"`
	}
	return `Basic realm="schema-registry"`
}

// equal compares digests so neither content nor length leaks through timing.
func equal(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}
