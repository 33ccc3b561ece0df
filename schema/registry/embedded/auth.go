package embedded

import "net/http"

// authorized reports whether req may be served: every request when no credentials are
// configured, otherwise those carrying the basic credentials or one of the bearer tokens
// (compared by httpauth in constant time).
func (r *Registry) authorized(req *http.Request) bool {
	return !r.auth.Configured() || r.auth.Allow(req)
}
