package registry

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"time"
)

// Option configures a Client.
type Option func(*config)

type config struct {
	username, password string              // basic auth; default none
	bearerToken        string              // default none
	tls                *TLSConfig          // default nil: the system roots, full verification
	timeout            time.Duration       // per HTTP request; default 10s
	strategy           SubjectNameStrategy // default TopicNameStrategy
	autoRegister       bool                // default true
	useLatestVersion   bool                // default false
}

func defaultConfig() config {
	return config{timeout: 10 * time.Second, strategy: TopicNameStrategy, autoRegister: true}
}

// TLSConfig configures HTTPS to the registry.
type TLSConfig struct {
	CAFile             string // PEM CA bundle to verify the registry with; default the system roots
	CertFile, KeyFile  string // PEM client certificate and key, for mutual TLS; default none
	InsecureSkipVerify bool   // skip verifying the registry's certificate; for testing only
}

func (t *TLSConfig) build() (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: t.InsecureSkipVerify}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read schema registry CA file: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("schema registry CA file %q holds no PEM certificate", t.CAFile)
		}
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		return nil, fmt.Errorf("schema registry client certificate needs both a certificate file and a key file")
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load schema registry client certificate %q: %w", t.CertFile, err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

func (c *config) httpClient() (*http.Client, error) {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if c.tls != nil {
		tc, err := c.tls.build()
		if err != nil {
			return nil, err
		}
		transport.TLSClientConfig = tc
	}
	return &http.Client{Transport: transport, Timeout: c.timeout}, nil
}

// WithBasicAuth authenticates with HTTP basic auth (Confluent's basic.auth.user.info).
func WithBasicAuth(username, password string) Option {
	return func(c *config) { c.username, c.password = username, password }
}

// WithBearerToken authenticates with "Authorization: Bearer <token>".
func WithBearerToken(token string) Option { return func(c *config) { c.bearerToken = token } }

// WithTLS configures HTTPS (CA, client certificate, verification).
func WithTLS(t TLSConfig) Option { return func(c *config) { c.tls = &t } }

// WithTimeout bounds each HTTP request to the registry. Default 10s.
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithSubjectNameStrategy chooses how subjects are named. Default TopicNameStrategy.
func WithSubjectNameStrategy(s SubjectNameStrategy) Option {
	return func(c *config) { c.strategy = s }
}

// WithAutoRegister is Confluent's auto.register.schemas: when true (the default), Register
// registers the schema and gets its id; when false it only looks the schema up.
func WithAutoRegister(on bool) Option { return func(c *config) { c.autoRegister = on } }

// WithUseLatestVersion is Confluent's use.latest.version: with auto-register off, Register
// uses the subject's latest registered version (its id and schema) instead of looking up the
// given schema. Default false.
func WithUseLatestVersion(on bool) Option { return func(c *config) { c.useLatestVersion = on } }
