package sse

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/internal/httpauth"
)

// AuthConfig is how subscribers authenticate.
type AuthConfig struct {
	Static     bool // static tokens (auth.type token)
	JWT        bool // JWTs (auth.type jwt)
	Tokens     []StaticToken
	QueryToken bool // also accept ?access_token=
	jwt        *jwtVerifier
}

// StaticToken is one configured token. Only a hash of its secret is kept.
type StaticToken struct {
	Name   string
	secret httpauth.Secret
	Filter *Filter // nil: no fixed filter
}

// grant is what an authenticated request may do: whose connection it is
// (for the per-token cap), the filter it cannot widen, and when it expires.
type grant struct {
	subject string
	filter  *Filter
	expires time.Time // zero: never
}

// anonymous is the subject of requests when auth.type is none.
const anonymous = "anonymous"

// authError is a refused request: 401 for missing or invalid credentials,
// 403 for valid ones that do not allow the request.
type authError struct {
	status int
	msg    string
}

func (e *authError) Error() string { return e.msg }

func unauthorized(format string, args ...any) error {
	return &authError{http.StatusUnauthorized, fmt.Sprintf(format, args...)}
}

func forbidden(format string, args ...any) error {
	return &authError{http.StatusForbidden, fmt.Sprintf(format, args...)}
}

func parseAuth(c *conf.Config) (AuthConfig, conf.Problems) {
	var a AuthConfig
	var problems conf.Problems
	for _, t := range c.List("auth.type") {
		switch strings.ToLower(t) {
		case "token":
			a.Static = true
		case "jwt":
			a.JWT = true
		}
	}
	a.QueryToken = c.Bool("auth.query.token.enabled")
	a.Tokens, _ = parseTokens(c.String("auth.tokens"))
	if a.Static && len(a.Tokens) == 0 {
		problems = append(problems, conf.Problem{Key: "auth.tokens", Message: "missing required configuration: auth.type includes token"})
	}
	if !a.Static && c.Given("auth.tokens") {
		problems = append(problems, conf.Problem{Key: "auth.tokens", Message: "set, but auth.type does not include token"})
	}
	if a.JWT {
		var jwtProblems conf.Problems
		a.jwt, jwtProblems = parseJWT(c)
		problems = append(problems, jwtProblems...)
	}
	return a, problems
}

func checkAuthType(v string) error {
	types := conf.SplitList(v)
	for _, t := range types {
		switch strings.ToLower(t) {
		case "token", "jwt":
		case "none":
			if len(types) > 1 {
				return fmt.Errorf("invalid value %q: none cannot be combined with other types", v)
			}
		default:
			return fmt.Errorf("invalid value %q: must be none, or token and/or jwt", t)
		}
	}
	return nil
}

func checkAlgorithms(v string) error {
	for _, alg := range conf.SplitList(v) {
		if !slices.Contains(jwtAlgorithms, alg) {
			return fmt.Errorf("unsupported algorithm %q: must be among %s (as spelled there)", alg, strings.Join(jwtAlgorithms, ", "))
		}
	}
	return nil
}

// parseJWT builds the verifier of auth.type jwt. Every accepted algorithm
// must have its key: a secret of at least 32 bytes for HS*, a public key
// from PEM or a JWKS for the others.
func parseJWT(c *conf.Config) (*jwtVerifier, conf.Problems) {
	var problems conf.Problems
	v := &jwtVerifier{
		algorithms: c.List("auth.jwt.algorithms"),
		leeway:     time.Duration(c.Int("auth.jwt.clock.skew.ms")) * time.Millisecond,
		issuer:     c.String("auth.jwt.issuer"),
		audience:   c.String("auth.jwt.audience"),
		hmacSecret: []byte(c.String("auth.jwt.hmac.secret")),
	}
	inline, _ := parsePublicKeys([]byte(c.String("auth.jwt.rsa.public.key"))) // checked by the spec
	fromFile, _ := readPublicKeys(c.String("auth.jwt.public.key.file"))
	v.keys = append(inline, fromFile...)
	ttl := time.Duration(c.Int("auth.jwt.jwks.refresh.ms")) * time.Millisecond
	file, u := c.String("auth.jwt.jwks.file"), c.String("auth.jwt.jwks.url")
	switch {
	case u != "":
		v.jwks = newKeySet("auth.jwt.jwks.url", u, ttl)
		if file != "" {
			problems = append(problems, conf.Problem{Key: "auth.jwt.jwks.url", Message: "give either auth.jwt.jwks.file or auth.jwt.jwks.url, not both"})
		}
	case file != "":
		v.jwks = newKeySet("auth.jwt.jwks.file", file, ttl)
	}
	symmetric := slices.ContainsFunc(v.algorithms, func(alg string) bool { return strings.HasPrefix(alg, "HS") })
	asymmetric := slices.ContainsFunc(v.algorithms, func(alg string) bool { return !strings.HasPrefix(alg, "HS") })
	if symmetric && len(v.hmacSecret) < 32 {
		problems = append(problems, conf.Problem{Key: "auth.jwt.hmac.secret", Message: "an HS algorithm is accepted (auth.jwt.algorithms) and needs a secret of at least 32 bytes"})
	}
	if asymmetric && len(v.keys) == 0 && v.jwks == nil {
		problems = append(problems, conf.Problem{Key: "auth.jwt.jwks.url", Message: "missing required configuration: " + strings.Join(v.algorithms, ",") +
			" accepted (auth.jwt.algorithms) needs public keys: set auth.jwt.jwks.url, auth.jwt.jwks.file, auth.jwt.public.key.file or auth.jwt.rsa.public.key"})
	}
	return v, problems
}

func checkTokens(v string) error {
	_, err := parseTokens(v)
	return err
}

// parseTokens parses auth.tokens. Errors name the entry by position and
// token name, never by secret.
func parseTokens(v string) ([]StaticToken, error) {
	var out []StaticToken
	names := map[string]bool{}
	for i, entry := range strings.Split(v, ";") {
		if strings.TrimSpace(entry) == "" {
			continue
		}
		parts := strings.SplitN(strings.TrimSpace(entry), ":", 3)
		if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
			return nil, fmt.Errorf("entry %d: want name:secret or name:secret:filter", i+1)
		}
		name, secret := parts[0], parts[1]
		if names[name] {
			return nil, fmt.Errorf("entry %d: token name %q given twice", i+1, name)
		}
		names[name] = true
		if len(secret) < 16 {
			return nil, fmt.Errorf("entry %d (token %q): the secret must be at least 16 characters", i+1, name)
		}
		t := StaticToken{Name: name, secret: httpauth.Hash(secret)}
		if len(parts) == 3 && parts[2] != "" {
			q, err := url.ParseQuery(parts[2])
			if err != nil {
				return nil, fmt.Errorf("entry %d (token %q): filter: %v", i+1, name, err)
			}
			if t.Filter, err = ParseFilter(q); err != nil {
				return nil, fmt.Errorf("entry %d (token %q): filter: %v", i+1, name, err)
			}
		}
		out = append(out, t)
	}
	return out, nil
}

// authenticate checks the request's credentials against the configuration
// and the stream called stream (the connector name). It returns an
// *authError when the request is refused.
func (a *AuthConfig) authenticate(r *http.Request, stream string, now time.Time) (grant, error) {
	if !a.Static && !a.JWT {
		return grant{subject: anonymous}, nil
	}
	tok, err := a.bearer(r)
	if err != nil {
		return grant{}, err
	}
	if a.Static {
		secrets := make([]httpauth.Secret, len(a.Tokens))
		for i := range a.Tokens {
			secrets[i] = a.Tokens[i].secret
		}
		if i := httpauth.Find(secrets, tok); i >= 0 {
			return grant{subject: "token:" + a.Tokens[i].Name, filter: a.Tokens[i].Filter}, nil
		}
	}
	if a.JWT && strings.Count(tok, ".") == 2 {
		return a.jwt.verify(r.Context(), tok, stream, now)
	}
	return grant{}, unauthorized("invalid token")
}

// bearer extracts the bearer token from the Authorization header, or from
// the access_token query parameter when that is enabled.
func (a *AuthConfig) bearer(r *http.Request) (string, error) {
	if r.Header.Get("Authorization") == "" {
		if a.QueryToken {
			if t := r.URL.Query().Get("access_token"); t != "" {
				return t, nil
			}
		}
		return "", unauthorized("missing bearer token")
	}
	tok, ok := httpauth.Bearer(r)
	if !ok {
		return "", unauthorized("the Authorization header must be: Bearer <token>")
	}
	return tok, nil
}

// Authenticates reports whether the stream asks its subscribers for
// credentials (auth.type token or jwt). The daemon's SSE listener serves a
// stream that does not beyond loopback only when told to
// (sse.allow.unauthenticated).
func (st *stream) Authenticates() bool { return st.cfg.Auth.Static || st.cfg.Auth.JWT }

// logTo makes the sink's JWKS, if any, log its read failures to log.
func (a *AuthConfig) logTo(log *slog.Logger) {
	if a.jwt != nil && a.jwt.jwks != nil {
		a.jwt.jwks.log = log
	}
}
