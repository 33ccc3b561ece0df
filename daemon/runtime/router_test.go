package runtime

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/daemon/config"
	"github.com/sluice-cdc/sluice/testenv/tlstest"
)

type stream struct {
	http.Handler
	authenticates bool
}

func (s stream) Authenticates() bool { return s.authenticates }

func TestSSEListenerBeyondLoopbackServesUnauthenticatedStreamsOnlyWhenOpen(t *testing.T) {
	public, private := stream{http.NotFoundHandler(), false}, stream{http.NotFoundHandler(), true}
	refusal := "sse.listen 0.0.0.0:0 is beyond loopback and this stream has auth.type none: set auth.type to token or jwt, " +
		"listen on 127.0.0.1 (sse.listen), or set sse.allow.unauthenticated to true to serve public streams"
	for _, tc := range []struct {
		name, listen string
		open         bool
		h            http.Handler
		err, warning string
	}{
		{"loopback, no authentication", "127.0.0.1:0", false, public, "", ""},
		{"beyond loopback, authenticated", "0.0.0.0:0", false, private, "", ""},
		{"beyond loopback, no authentication", "0.0.0.0:0", false, public, refusal, ""},
		{"beyond loopback, a handler that does not say", "0.0.0.0:0", false, http.NotFoundHandler(), refusal, ""},
		{"beyond loopback, open by choice", "0.0.0.0:0", true, public, "", `level=WARN msg="SSE stream served without authentication beyond loopback (sse.allow.unauthenticated)" path=/streams/a listen=0.0.0.0:0`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log bytes.Buffer
			r := newRouter(config.SSE{Listen: tc.listen, AllowUnauthenticated: tc.open}, slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{ReplaceAttr: dropTime})))
			defer r.close()
			_, err := r.Handle("/streams/a", tc.h)
			if got := errText(err); got != tc.err {
				t.Errorf("error %q, want %q", got, tc.err)
			}
			var warning string
			for _, line := range strings.Split(log.String(), "\n") {
				if strings.HasPrefix(line, "level=WARN") {
					warning = line
				}
			}
			if warning != tc.warning {
				t.Errorf("warning %q, want %q", warning, tc.warning)
			}
		})
	}
}

func dropTime(_ []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestSSEListenerServesHTTPSAndReloadsItsCertificate: with sse.tls, a
// stream is served over HTTPS to a real Go client that trusts the CA, and a
// rotated certificate serves the next connection.
func TestSSEListenerServesHTTPSAndReloadsItsCertificate(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	ca := tlstest.NewCA(t)
	ca.Issue(t, certFile, keyFile, 301)
	var log bytes.Buffer
	r := newRouter(config.SSE{Listen: "127.0.0.1:0", TLS: &config.ServerTLS{CertFile: certFile, KeyFile: keyFile}}, slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{ReplaceAttr: dropTime})))
	defer r.close()
	if _, err := r.Handle("/streams/a", stream{http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: hello\n\n")
	}), true}); err != nil {
		t.Fatal(err)
	}
	addr := regexp.MustCompile(`msg="SSE listening" addr=(\S+) tls=true`).FindStringSubmatch(log.String())
	if addr == nil {
		t.Fatalf("no listening line in the log:\n%s", log.String())
	}
	get := func() (string, int64) {
		t.Helper()
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}}
		defer c.CloseIdleConnections()
		resp, err := c.Get("https://" + addr[1] + "/streams/a")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b), resp.TLS.PeerCertificates[0].SerialNumber.Int64()
	}
	if body, serial := get(); body != "data: hello\n\n" || serial != 301 {
		t.Errorf("got %q from certificate %d, want the event from 301", body, serial)
	}
	ca.Issue(t, certFile, keyFile, 302)
	if body, serial := get(); body != "data: hello\n\n" || serial != 302 {
		t.Errorf("after rotation: %q from certificate %d, want 302", body, serial)
	}
}

// TestSSEListenerUnderHostileRequests: header floods and malformed request
// lines get their 4xx, a path never reaches a stream it does not name, and
// a 404 stays valid JSON whatever bytes the path holds.
func TestSSEListenerUnderHostileRequests(t *testing.T) {
	var log bytes.Buffer
	r := newRouter(config.SSE{Listen: "127.0.0.1:0"}, slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{ReplaceAttr: dropTime})))
	defer r.close()
	if _, err := r.Handle("/streams/a", stream{http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "stream a") }), true}); err != nil {
		t.Fatal(err)
	}
	addr := regexp.MustCompile(`msg="SSE listening" addr=(\S+)`).FindStringSubmatch(log.String())[1]
	send := func(request string) (int, string) {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, request)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, tc := range []struct {
		name, request string
		code          int
		body          string
	}{
		{"header flood", "GET /streams/a HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-Flood: "+strings.Repeat("a", 1000)+"\r\n", 100) + "\r\n", 431, "431 Request Header Fields Too Large"},
		{"NUL in the request line", "GET /streams/a\x00 HTTP/1.1\r\nHost: x\r\n\r\n", 400, "400 Bad Request"},
		{"dot-dot does not reach another stream", "GET /streams/b/../a HTTP/1.1\r\nHost: x\r\n\r\n", 404, `{"error_code": 404, "message": "no stream at /streams/b/../a"}` + "\n"},
		{"encoded slashes stay in the stream they name", "GET /streams/a%2F..%2F..%2Fadmin HTTP/1.1\r\nHost: x\r\n\r\n", 200, "stream a"},
		{"quote, backslash and NUL in a path", "GET /streams/x%22%5C%00 HTTP/1.1\r\nHost: x\r\n\r\n", 404, `{"error_code": 404, "message": "no stream at /streams/x\"\\\u0000"}` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, body := send(tc.request); code != tc.code || body != tc.body {
				t.Errorf("%d %q, want %d %q", code, body, tc.code, tc.body)
			}
			if code, body := send("GET /streams/a HTTP/1.1\r\nHost: x\r\n\r\n"); code != 200 || body != "stream a" {
				t.Errorf("afterwards: %d %q", code, body)
			}
		})
	}
}
