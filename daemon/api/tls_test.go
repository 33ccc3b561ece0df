package api

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/sluice-cdc/sluice/daemon/config"
	"github.com/sluice-cdc/sluice/testenv/tlstest"
)

// TestRESTServesHTTPSAndReloadsItsCertificate: with rest.tls, a real Go
// HTTPS client that trusts the CA gets answers; a plain HTTP request gets
// 400; after the files are rotated, a new connection sees the new
// certificate.
func TestRESTServesHTTPSAndReloadsItsCertificate(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	ca := tlstest.NewCA(t)
	ca.Issue(t, certFile, keyFile, 201)
	srv, err := NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok over "+r.Proto) }),
		config.REST{TLS: &config.ServerTLS{CertFile: certFile, KeyFile: keyFile}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown(t.Context()) })
	url := "https://" + ln.Addr().String() + "/"

	get := func() (string, int64) {
		t.Helper()
		// A new client each time: a new connection, a new handshake.
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}, ForceAttemptHTTP2: true}}
		defer c.CloseIdleConnections()
		resp, err := c.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b), resp.TLS.PeerCertificates[0].SerialNumber.Int64()
	}
	if body, serial := get(); body != "ok over HTTP/2.0" || serial != 201 {
		t.Errorf("got %q from certificate %d, want ok over HTTP/2.0 from 201", body, serial)
	}
	ca.Issue(t, certFile, keyFile, 202)
	if body, serial := get(); body != "ok over HTTP/2.0" || serial != 202 {
		t.Errorf("after rotation: %q from certificate %d, want 202", body, serial)
	}

	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("plain HTTP: %d, want 400", resp.StatusCode)
	}

	if _, err := NewServer(http.NotFoundHandler(), config.REST{TLS: &config.ServerTLS{CertFile: keyFile, KeyFile: keyFile}}, nil); err == nil ||
		err.Error() != "load rest.tls certificate: tls: failed to find certificate PEM data in certificate input, but did find a private key; PEM inputs may have been switched" {
		t.Errorf("a key as certificate: %v", err)
	}
}
