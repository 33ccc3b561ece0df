package certfile_test

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluice-cdc/sluice/internal/certfile"
	"github.com/sluice-cdc/sluice/testenv/tlstest"
)

// TestRotatedFilesServeNewConnections: a real TLS client sees the first
// certificate, then after the files are replaced, the second, on a new
// connection; a half-done rotation keeps the last good certificate.
func TestRotatedFilesServeNewConnections(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	ca := tlstest.NewCA(t)
	ca.Issue(t, certFile, keyFile, 101)
	r, err := certfile.New("rest.tls", certFile, keyFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", r.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { c.(*tls.Conn).Handshake(); c.Close() }()
		}
	}()
	serial := func() int64 {
		t.Helper()
		c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
	}
	if got := serial(); got != 101 {
		t.Fatalf("serial %d, want 101", got)
	}
	ca.Issue(t, certFile, keyFile, 102)
	if got := serial(); got != 102 {
		t.Fatalf("after rotation: serial %d, want 102", got)
	}

	// A new certificate beside the old key does not load: 102 stays.
	other := t.TempDir()
	ca.Issue(t, filepath.Join(other, "tls.crt"), filepath.Join(other, "tls.key"), 103)
	if err := copyFile(filepath.Join(other, "tls.crt"), certFile); err != nil {
		t.Fatal(err)
	}
	if got := serial(); got != 102 {
		t.Fatalf("half rotated: serial %d, want 102", got)
	}
	if err := copyFile(filepath.Join(other, "tls.key"), keyFile); err != nil {
		t.Fatal(err)
	}
	if got := serial(); got != 103 {
		t.Fatalf("rotation completed: serial %d, want 103", got)
	}

	if _, err := certfile.New("sse.tls", filepath.Join(dir, "missing.crt"), keyFile, nil); err == nil || err.Error() != "load sse.tls certificate: stat "+filepath.Join(dir, "missing.crt")+": no such file or directory" {
		t.Errorf("missing file: %v", err)
	}
}

// copyFile replaces to with from's content, as one rename.
func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	if err := os.WriteFile(to+".new", b, 0o600); err != nil {
		return err
	}
	return os.Rename(to+".new", to)
}
