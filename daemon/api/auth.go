package api

import (
	"net/http"

	"github.com/sluice-cdc/sluice/internal/httpauth"
)

// authorized reports whether r carries the credentials Options.Auth asks
// for: HTTP basic user and password, or one of the bearer tokens, compared
// in constant time (httpauth). Without Options.Auth every request passes.
func (a *API) authorized(r *http.Request) bool {
	auth := a.opts.Auth
	return auth == nil || httpauth.New(auth.User, auth.Password, auth.Tokens...).Allow(r)
}
