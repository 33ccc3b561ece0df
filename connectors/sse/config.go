package sse

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/connectors/kafka"
)

// Spec declares every configuration key of the SSE sink.
var Spec = &conf.Spec{Prefixes: []string{"transforms", "predicates"}, Keys: append([]conf.Key{
	{Name: "connector.class", Type: conf.Class, Required: true, Doc: "sse"},
	{Name: "tasks.max", Type: conf.Int, Default: "1", Min: 1, Max: 1, Doc: "An SSE sink runs one task: one reader feeds every subscriber."},
	{Name: "topics", Type: conf.List, Group: "Topics", Doc: "Topics to stream; give this or topics.regex."},
	{Name: "topics.regex", Type: conf.String, Check: checkRegex, Group: "Topics", Doc: "Regular expression of the topics to stream, matched against the whole name when the sink starts; give this or topics."},
	{Name: "sse.path", Type: conf.String, Check: checkPath, Group: "Endpoint", Doc: "Path the stream is served on, on the daemon's SSE listener; default /streams/<connector name>."},
	{Name: "format", Type: conf.String, Default: "envelope", Allowed: []string{"envelope", "flat"}, Group: "Events", Doc: "envelope: Debezium's envelope as JSON; flat: the row (after, or before for deletes) with __op, __table, __ts_ms and __key added."},
	{Name: "event.name", Type: conf.String, Check: checkEventName, Group: "Events", Doc: "Name written in every event's event: field; empty (the default) writes the operation (c, u, d, r, t)."},
	{Name: "heartbeat.interval.ms", Type: conf.Int, Default: "15000", Min: 100, Max: 3600000, Group: "Events", Doc: "How often an idle stream gets a comment line that keeps proxies and clients from timing out."},
	{Name: "retry.ms", Type: conf.Int, Default: "3000", Min: 0, Max: 3600000, Group: "Events", Doc: "Reconnection delay sent to clients in the retry: field; also the Retry-After of a refused connection, rounded up to seconds."},
	{Name: "subscriber.buffer.size", Type: conf.Int, Default: "256", Min: 1, Max: 1 << 20, Group: "Subscribers", Doc: "Events buffered per subscriber; a subscriber that falls further behind is disconnected and resumes with Last-Event-ID."},
	{Name: "write.timeout.ms", Type: conf.Int, Default: "10000", Min: 100, Max: 3600000, Group: "Subscribers", Doc: "How long a write to a subscriber may block before it is disconnected; a client that stops reading is dropped within this time."},
	{Name: "replay.max.records", Type: conf.Long, Default: "1000000", Min: 0, Max: 1 << 62, Group: "Subscribers", Doc: "Most records a resuming subscriber may be behind; further behind it gets event: reset. 0 means no limit."},
	{Name: "replay.idle.timeout.ms", Type: conf.Int, Default: "10000", Min: 100, Max: 3600000, Group: "Subscribers", Doc: "How long a replay may wait for a record it knows exists before the stream is closed (the client then resumes)."},
	{Name: "max.connections", Type: conf.Int, Default: "10000", Min: 1, Max: 1 << 24, Group: "Subscribers", Doc: "Most concurrent subscribers of this stream; beyond, 503 with Retry-After."},
	{Name: "max.connections.per.token", Type: conf.Int, Default: "100", Min: 1, Max: 1 << 24, Group: "Subscribers", Doc: "Most concurrent subscribers per token (static token name or JWT subject); beyond, 503 with Retry-After."},
	{Name: "auth.type", Type: conf.List, Default: "none", Check: checkAuthType, Group: "Security", Doc: "How subscribers authenticate: none, or token and/or jwt (comma-separated), with a bearer token in the Authorization header."},
	{Name: "auth.tokens", Type: conf.Password, Check: checkTokens, Group: "Security", Doc: "Static tokens, as name:secret or name:secret:filter entries separated by ';'. The optional filter is in query form (table=public.orders&op=c,u&where=region:eu) and is imposed on every stream of that token."},
	{Name: "auth.query.token.enabled", Type: conf.Boolean, Default: "false", Group: "Security", Doc: "Also accept the token in the access_token query parameter, for browsers' EventSource, which cannot set headers. URLs end up in logs: prefer short-lived JWTs then."},
	{Name: "auth.jwt.algorithms", Type: conf.List, Default: "RS256", Check: checkAlgorithms, Group: "Security", Doc: "JWT signature algorithms accepted: among HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512 and EdDSA. Tokens with any other alg, including none, are refused."},
	{Name: "auth.jwt.hmac.secret", Type: conf.Password, Group: "Security", Doc: "Shared secret of HS* tokens, at least 32 bytes."},
	{Name: "auth.jwt.rsa.public.key", Type: conf.String, Check: checkPublicKeys, Group: "Security", Doc: "PEM public key(s) given inline (PKIX or PKCS#1) that verify RS*, PS*, ES* or EdDSA tokens; whatever the name, EC and Ed25519 keys are accepted too."},
	{Name: "auth.jwt.public.key.file", Type: conf.String, Check: checkPublicKeyFile, Group: "Security", Doc: "File of PEM public keys (one or several blocks, PKIX or PKCS#1) that verify RS*, PS*, ES* or EdDSA tokens; read when the connector starts."},
	{Name: "auth.jwt.jwks.url", Type: conf.String, Check: checkJWKSURL, Group: "Security", Doc: "https (or http) URL of a JWKS document, as identity providers publish (…/.well-known/jwks.json); read when a token first needs it and again after auth.jwt.jwks.refresh.ms. A token's kid picks the key."},
	{Name: "auth.jwt.jwks.file", Type: conf.String, Check: checkJWKSFile, Group: "Security", Doc: "File holding a JWKS document; read when a token first needs it and again after auth.jwt.jwks.refresh.ms. Give this or auth.jwt.jwks.url."},
	{Name: "auth.jwt.jwks.refresh.ms", Type: conf.Int, Default: "300000", Min: 1000, Max: 86400000, Group: "Security", Doc: "How long a JWKS read is used before it is read again, so that rotated keys are picked up. An unknown kid does not cause an earlier read."},
	{Name: "auth.jwt.clock.skew.ms", Type: conf.Int, Default: "30000", Min: 0, Max: 600000, Group: "Security", Doc: "Leeway allowed on exp and nbf for clocks that disagree; a stream ends this long after its token's exp."},
	{Name: "auth.jwt.issuer", Type: conf.String, Group: "Security", Doc: "When set, a JWT's iss claim must equal it."},
	{Name: "auth.jwt.audience", Type: conf.String, Group: "Security", Doc: "When set, a JWT's aud claim must be or contain it."},
	{Name: "cors.allowed.origins", Type: conf.List, Group: "Security", Doc: "Origins (scheme://host[:port]) whose pages may read the stream; * allows any. Requests from other origins are refused with 403."},
}, kafka.SinkConverterKeys...)}

// Config is the SSE sink's parsed configuration.
type Config struct {
	Name        string // the connector's name
	Topics      []string
	TopicsRegex *regexp.Regexp
	Path        string
	Format      string // "envelope" or "flat"
	EventName   string // empty: the operation

	Heartbeat    time.Duration
	Retry        time.Duration
	BufferSize   int
	WriteTimeout time.Duration
	ReplayMax    int64
	ReplayIdle   time.Duration
	MaxConns     int
	MaxPerToken  int

	Auth        AuthConfig
	CORSOrigins []string
	// Converters read the records as key.converter and value.converter say.
	Converters kafka.SinkConverters
}

// ParseConfig builds the sink's configuration from a parsed key set; name is
// the connector's name. Problems that involve several keys name them all.
func ParseConfig(c *conf.Config, name string) (*Config, error) {
	cfg := &Config{
		Name:         name,
		Topics:       c.List("topics"),
		Path:         c.String("sse.path"),
		Format:       c.Enum("format"),
		EventName:    c.String("event.name"),
		Heartbeat:    time.Duration(c.Int("heartbeat.interval.ms")) * time.Millisecond,
		Retry:        time.Duration(c.Int("retry.ms")) * time.Millisecond,
		BufferSize:   int(c.Int("subscriber.buffer.size")),
		WriteTimeout: time.Duration(c.Int("write.timeout.ms")) * time.Millisecond,
		ReplayMax:    c.Int("replay.max.records"),
		ReplayIdle:   time.Duration(c.Int("replay.idle.timeout.ms")) * time.Millisecond,
		MaxConns:     int(c.Int("max.connections")),
		MaxPerToken:  int(c.Int("max.connections.per.token")),
		CORSOrigins:  c.List("cors.allowed.origins"),
	}
	var problems conf.Problems
	switch re := c.String("topics.regex"); {
	case len(cfg.Topics) > 0 && re != "":
		problems = append(problems, conf.Problem{Key: "topics.regex", Message: "give either topics or topics.regex, not both"})
	case len(cfg.Topics) == 0 && re == "":
		problems = append(problems, conf.Problem{Key: "topics", Message: "missing required configuration: give topics or topics.regex"})
	case re != "":
		cfg.TopicsRegex = regexp.MustCompile("^(?:" + re + ")$") // checked by the spec
	}
	if cfg.Path == "" {
		cfg.Path = "/streams/" + url.PathEscape(name)
	}
	auth, authProblems := parseAuth(c)
	cfg.Auth = auth
	cfg.Converters = kafka.SinkConvertersFrom(c)
	problems = append(problems, authProblems...)
	if len(problems) > 0 {
		return nil, problems
	}
	return cfg, nil
}

func checkRegex(v string) error {
	if _, err := regexp.Compile(v); err != nil {
		return fmt.Errorf("invalid regular expression %q: %v", v, err)
	}
	return nil
}

var pathRE = regexp.MustCompile(`^(/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+$`)

func checkPath(v string) error {
	if v = strings.TrimSpace(v); v == "" {
		return nil
	}
	if !pathRE.MatchString(v) || strings.Contains(v, "/../") || strings.HasSuffix(v, "/..") || strings.Contains(v, "/./") {
		return fmt.Errorf("invalid path %q: want an absolute URL path such as /streams/orders, without query, '..' or empty segments", v)
	}
	return nil
}

func checkEventName(v string) error {
	if strings.ContainsAny(v, "\r\n\x00") {
		return fmt.Errorf("invalid event name %q: CR, LF and NUL are not allowed", v)
	}
	return nil
}
