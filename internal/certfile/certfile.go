// Package certfile serves a TLS certificate from a PEM certificate file and
// key file, and reloads them when they change on disk, as cert-manager and
// Kubernetes secrets rotate them in place: a new connection gets the new
// certificate, connections already open keep theirs.
package certfile

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
)

// Reloader holds the certificate of one listener. It is safe for
// concurrent use: GetCertificate is called from every handshake.
type Reloader struct {
	certFile, keyFile string
	logger            *slog.Logger

	mu    sync.Mutex
	cert  *tls.Certificate
	stamp stamp // the files as they were when last loaded or tried
}

// stamp identifies a version of both files: a file replaced by a rename
// (as Kubernetes and most tools rotate) is another file even within the
// file system's timestamp granularity.
type stamp struct{ cert, key os.FileInfo }

func (s stamp) same(o stamp) bool { return sameFile(s.cert, o.cert) && sameFile(s.key, o.key) }

func sameFile(a, b os.FileInfo) bool {
	return a != nil && b != nil && os.SameFile(a, b) && a.ModTime().Equal(b.ModTime()) && a.Size() == b.Size()
}

// New loads the pair, failing when it does not load; key names the setting
// in errors (rest.tls, sse.tls).
func New(key, certFile, keyFile string, logger *slog.Logger) (*Reloader, error) {
	if logger == nil {
		logger = slog.Default()
	}
	r := &Reloader{certFile: certFile, keyFile: keyFile, logger: logger.With("setting", key)}
	st, err := r.stat()
	if err != nil {
		return nil, fmt.Errorf("load %s certificate: %w", key, err)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load %s certificate: %w", key, err)
	}
	r.cert, r.stamp = &cert, st
	return r, nil
}

// TLSConfig returns a server configuration (TLS 1.2 or later) that takes
// its certificate from r.
func (r *Reloader) TLSConfig() *tls.Config {
	return &tls.Config{GetCertificate: r.GetCertificate, MinVersion: tls.VersionTLS12}
}

// GetCertificate is tls.Config's: it looks at both files and reloads them
// when either changed. A pair that does not load — a rotation half done, the
// new certificate beside the old key — keeps the previous certificate, and
// is tried again once a file changes again.
func (r *Reloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	st, err := r.stat()
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil || st.same(r.stamp) {
		return r.cert, nil
	}
	r.stamp = st
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		r.logger.Warn("TLS certificate files changed but do not load; serving the previous certificate", "cert.file", r.certFile, "key.file", r.keyFile, "error", err.Error())
		return r.cert, nil
	}
	r.cert = &cert
	r.logger.Info("TLS certificate reloaded", "cert.file", r.certFile)
	return r.cert, nil
}

func (r *Reloader) stat() (stamp, error) {
	c, err := os.Stat(r.certFile)
	if err != nil {
		return stamp{}, err
	}
	k, err := os.Stat(r.keyFile)
	if err != nil {
		return stamp{}, err
	}
	return stamp{c, k}, nil
}
