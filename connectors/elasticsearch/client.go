package elasticsearch

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	es "github.com/elastic/go-elasticsearch/v8"
)

// newClient builds the Elasticsearch client: the configured URLs, basic
// authentication or an API key, TLS, connect and read timeouts. The
// client's own retries are off: the sink retries with its own backoff.
func newClient(cfg *Config) (*es.Client, error) {
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
				return nil, fmt.Errorf("read elastic.https.ssl.ca.file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("elastic.https.ssl.ca.file %q holds no PEM certificate", cfg.CAFile)
			}
			tc.RootCAs = pool
		}
		if cfg.CertFile != "" {
			cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
			if err != nil {
				return nil, fmt.Errorf("load elastic.https.ssl.cert.file and elastic.https.ssl.key.file: %w", err)
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
		return nil, fmt.Errorf("create Elasticsearch client for connection.url: %w", err)
	}
	return c, nil
}
