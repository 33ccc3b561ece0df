package elasticsearch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	es "github.com/elastic/go-elasticsearch/v8"

	"github.com/sluice-cdc/sluice/connectors/conf"
)

// newClient builds the Elasticsearch client: the configured URLs, basic
// authentication or an API key, TLS, connect and read timeouts. The
// client's own retries are off: the sink retries with its own backoff.
func newClient(cfg *Config) (*es.Client, error) {
	c, _, err := newClientTransport(cfg)
	return c, err
}

// newClientTransport is newClient, also returning the client's transport,
// for its owner to close its idle connections.
func newClientTransport(cfg *Config) (*es.Client, *http.Transport, error) {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext,
		ResponseHeaderTimeout: cfg.ReadTimeout,
		MaxIdleConnsPerHost:   2 * cfg.InFlight,
		IdleConnTimeout:       90 * time.Second,
	}
	if cfg.TLS {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if cfg.CAFile != "" {
			pem, err := os.ReadFile(cfg.CAFile)
			if err != nil {
				return nil, nil, fmt.Errorf("read elastic.https.ssl.ca.file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, nil, fmt.Errorf("elastic.https.ssl.ca.file %q holds no PEM certificate", cfg.CAFile)
			}
			tc.RootCAs = pool
		}
		if cfg.CertFile != "" {
			cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
			if err != nil {
				return nil, nil, fmt.Errorf("load elastic.https.ssl.cert.file and elastic.https.ssl.key.file: %w", err)
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		if cfg.SkipHostVerification {
			// Verify the chain but not the host name: crypto/tls can only
			// skip both, so the chain is checked here.
			tc.InsecureSkipVerify = true
			tc.VerifyConnection = func(cs tls.ConnectionState) error {
				if len(cs.PeerCertificates) == 0 {
					return fmt.Errorf("server presented no certificate")
				}
				inter := x509.NewCertPool()
				for _, c := range cs.PeerCertificates[1:] {
					inter.AddCert(c)
				}
				_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: tc.RootCAs, Intermediates: inter})
				return err
			}
		}
		tr.TLSClientConfig = tc
	}
	c, err := es.NewClient(es.Config{
		Addresses: cfg.URLs, Username: cfg.Username, Password: cfg.Password, APIKey: cfg.APIKey,
		Transport: tr, DisableRetry: true,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("create Elasticsearch client for connection.url: %w", err)
	}
	return c, tr, nil
}

// probe checks that every node of connection.url answers with the sink's
// credentials (GET /), for the connector's status: the error names each
// node that cannot be reached, refuses the credentials, or answers with a
// server error. It is the class's Probe.
func probe(ctx context.Context, c *conf.Config) error {
	cfg, err := ParseConfig(c)
	if err != nil {
		return err
	}
	var problems []string
	for _, u := range cfg.URLs {
		node := *cfg
		node.URLs, node.InFlight = []string{u}, 1
		if p := probeNode(ctx, &node, u); p != "" {
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// probeNode asks one node for its root document and says what is wrong,
// or "".
func probeNode(ctx context.Context, cfg *Config, node string) string {
	esc, tr, err := newClientTransport(cfg)
	if err != nil {
		return err.Error()
	}
	defer tr.CloseIdleConnections()
	resp, err := esc.Info(esc.Info.WithContext(ctx))
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Sprintf("Elasticsearch at %s cannot be reached: %v", node, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return fmt.Sprintf("Elasticsearch at %s refuses the sink's credentials (HTTP 401): check connection.username and connection.password, or connection.api.key", node)
	case resp.StatusCode >= 500:
		return fmt.Sprintf("Elasticsearch at %s answers HTTP %d: the cluster is not serving requests", node, resp.StatusCode)
	}
	return ""
}
