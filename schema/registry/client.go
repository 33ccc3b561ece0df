package registry

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/riferrei/srclient"
	"github.com/twmb/avro"
	"golang.org/x/sync/singleflight"
)

// Client registers and looks up Avro schemas, caching every answer: a schema is registered
// (or looked up) once per topic, key/value and schema text, and a schema is fetched once per
// id. Concurrent misses for the same entry share one request. Safe for concurrent use.
type Client struct {
	cfg config
	sr  *srclient.SchemaRegistryClient
	url string

	mu      sync.RWMutex
	ids     map[registrationKey]Registration
	schemas map[int]*Schema
	flights singleflight.Group
}

type registrationKey struct {
	topic  string
	isKey  bool
	schema string
}

// Registration is the outcome of Register: the id to put in the wire format, and the schema
// to encode with — the given one, or the latest registered one under use.latest.version.
type Registration struct {
	Subject string
	ID      int
	Schema  string
}

// Schema is a registered schema, for decoding data written with it.
type Schema struct {
	ID   int
	Text string
}

// New returns a client for the registry at url (e.g. "http://localhost:8081").
func New(url string, opts ...Option) (*Client, error) {
	return build(url, defaultConfig(), opts...)
}

// With returns a client for the same registry with c's options followed by
// opts (a connector's own converter settings over the daemon's), with a
// cache of its own.
func (c *Client) With(opts ...Option) (*Client, error) {
	return build(c.url, c.cfg, opts...)
}

func build(url string, cfg config, opts ...Option) (*Client, error) {
	for _, o := range opts {
		o(&cfg)
	}
	if url == "" {
		return nil, fmt.Errorf("schema registry url is empty")
	}
	if cfg.username != "" && cfg.bearerToken != "" {
		return nil, fmt.Errorf("schema registry: choose basic auth or a bearer token, not both")
	}
	if _, err := cfg.strategy.Subject("t", false, "r"); err != nil {
		return nil, err
	}
	hc, err := cfg.httpClient()
	if err != nil {
		return nil, err
	}
	sr := srclient.NewSchemaRegistryClient(url, srclient.WithClient(hc))
	sr.CachingEnabled(false) // this client caches, with single-flight
	if cfg.username != "" {
		sr.SetCredentials(cfg.username, cfg.password)
	}
	if cfg.bearerToken != "" {
		sr.SetBearerToken(cfg.bearerToken)
	}
	return &Client{
		cfg:     cfg,
		sr:      sr,
		url:     url,
		ids:     map[registrationKey]Registration{},
		schemas: map[int]*Schema{},
	}, nil
}

// Register returns the schema id to write a key (isKey) or value with schema to topic, as
// Confluent's serializer does: with auto-register it registers the schema under the
// strategy's subject; without, it looks the schema up there (or, with use.latest.version,
// takes the subject's latest version). The first call per (topic, isKey, schema) asks the
// registry; later ones are answered from memory. ctx bounds the wait, the HTTP request itself
// is bounded by the client timeout.
func (c *Client) Register(ctx context.Context, topic string, isKey bool, schema string) (Registration, error) {
	key := registrationKey{topic, isKey, schema}
	c.mu.RLock()
	reg, ok := c.ids[key]
	c.mu.RUnlock()
	if ok {
		return reg, nil
	}
	v, err := c.once(ctx, "r\x00"+strconv.FormatBool(isKey)+"\x00"+topic+"\x00"+schema, func() (any, error) {
		// A flight that ended just before this one began has cached it.
		c.mu.RLock()
		reg, ok := c.ids[key]
		c.mu.RUnlock()
		if ok {
			return reg, nil
		}
		reg, err := c.register(topic, isKey, schema)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		c.ids[key] = reg
		c.mu.Unlock()
		return reg, nil
	})
	if err != nil {
		return Registration{}, err
	}
	return v.(Registration), nil
}

func (c *Client) register(topic string, isKey bool, schema string) (Registration, error) {
	name := ""
	if c.cfg.strategy.needsRecordName() {
		parsed, err := avro.Parse(schema)
		if err != nil {
			return Registration{}, fmt.Errorf("parse schema for topic %q to name its subject: %w", topic, err)
		}
		name = fullName(parsed)
	}
	subject, err := c.cfg.strategy.Subject(topic, isKey, name)
	if err != nil {
		return Registration{}, err
	}
	switch {
	case c.cfg.autoRegister:
		s, err := c.sr.CreateSchema(subject, schema, srclient.Avro)
		if err != nil {
			return Registration{}, c.registrationError(subject, err)
		}
		return Registration{Subject: subject, ID: s.ID(), Schema: schema}, nil
	case c.cfg.useLatestVersion:
		s, err := c.sr.GetLatestSchema(subject)
		if err != nil {
			if status, code, _ := classify(err); status == http.StatusNotFound {
				return Registration{}, fmt.Errorf("use latest version of subject %q: %w: the subject has no registered version (error code %d); register it or enable auto.register.schemas",
					subject, ErrNotRegistered, code)
			}
			return Registration{}, c.requestError(fmt.Sprintf("get latest version of subject %q", subject), err)
		}
		return Registration{Subject: subject, ID: s.ID(), Schema: s.Schema()}, nil
	default:
		s, err := c.sr.LookupSchema(subject, schema, srclient.Avro)
		if err != nil {
			if status, code, _ := classify(err); status == http.StatusNotFound {
				return Registration{}, fmt.Errorf("look up schema under subject %q: %w: the registry does not have it (error code %d); register it or enable auto.register.schemas",
					subject, ErrNotRegistered, code)
			}
			return Registration{}, c.requestError(fmt.Sprintf("look up schema under subject %q", subject), err)
		}
		return Registration{Subject: subject, ID: s.ID(), Schema: schema}, nil
	}
}

// Schema returns the schema with the given id, parsed, for decoding. The first call per id
// asks the registry; later ones are answered from memory.
func (c *Client) Schema(ctx context.Context, id int) (*Schema, error) {
	c.mu.RLock()
	s, ok := c.schemas[id]
	c.mu.RUnlock()
	if ok {
		return s, nil
	}
	v, err := c.once(ctx, "i\x00"+strconv.Itoa(id), func() (any, error) {
		got, err := c.sr.GetSchema(id)
		if err != nil {
			return nil, c.requestError(fmt.Sprintf("get schema id %d", id), err)
		}
		if _, err := avro.Parse(got.Schema()); err != nil {
			return nil, fmt.Errorf("parse schema id %d from the registry: %w", id, err)
		}
		s := &Schema{ID: id, Text: got.Schema()}
		c.mu.Lock()
		c.schemas[id] = s
		c.mu.Unlock()
		return s, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Schema), nil
}

// once runs fn once for concurrent callers with the same key; a caller whose ctx ends stops
// waiting without cancelling the request the others share.
func (c *Client) once(ctx context.Context, key string, fn func() (any, error)) (any, error) {
	ch := c.flights.DoChan(key, fn)
	select {
	case r := <-ch:
		return r.Val, r.Err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// registrationError turns a failed registration into a *RegistrationError for 409 and 422,
// fetching the subject's latest version for the message when it can.
func (c *Client) registrationError(subject string, err error) error {
	status, code, msg := classify(err)
	if status != http.StatusConflict && status != http.StatusUnprocessableEntity {
		return c.requestError(fmt.Sprintf("register schema under subject %q", subject), err)
	}
	re := &RegistrationError{Subject: subject, StatusCode: status, ErrorCode: code, Message: msg}
	if latest, err := c.sr.GetLatestSchema(subject); err == nil {
		re.LatestVersion = latest.Version()
	}
	return re
}

// requestError wraps a failed request; network errors (but not certificate verification
// failures) and 5xx/408/429 answers match ErrUnavailable.
func (c *Client) requestError(op string, err error) error {
	status, code, msg := classify(err)
	if status == 0 {
		var verify *tls.CertificateVerificationError
		if errors.As(err, &verify) {
			return fmt.Errorf("%s at %s: %w", op, c.url, err)
		}
		return fmt.Errorf("%s at %s: %w: %w", op, c.url, ErrUnavailable, err)
	}
	return &ResponseError{Op: op, StatusCode: status, ErrorCode: code, Message: msg}
}

var statusLine = regexp.MustCompile(`^([1-5][0-9][0-9]) `)

// classify extracts the HTTP status, Confluent error code and message from an srclient
// error. status is 0 when the request got no HTTP answer (connection refused, timeout, …).
func classify(err error) (status, code int, message string) {
	var se srclient.Error
	if errors.As(err, &se) {
		status = se.Code
		if se.Code >= 1000 {
			status = se.Code / 100 // 40401 → 404, 50001 → 500
		}
		return status, se.Code, se.Message
	}
	// srclient reports answers without a JSON error body by their status line.
	if m := statusLine.FindStringSubmatch(err.Error()); m != nil {
		status, _ = strconv.Atoi(m[1])
		return status, 0, err.Error()
	}
	return 0, 0, err.Error()
}

// fullName is the name RecordNameStrategy uses: a named schema's full name, otherwise the
// type name.
func fullName(s *avro.Schema) string {
	n := s.Root()
	switch n.Type {
	case "record", "error", "enum", "fixed":
		if n.Namespace == "" || strings.Contains(n.Name, ".") {
			return n.Name
		}
		return n.Namespace + "." + n.Name
	}
	return n.Type
}
