package api

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/daemon/config"
)

// served runs the API of h on a real listener with the REST limits and
// returns its address.
func served(t *testing.T, h *harness) string {
	t.Helper()
	srv, err := NewServer(h.api, config.REST{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown(t.Context()) })
	return ln.Addr().String()
}

// raw sends a request as written and returns the answer's status line and body.
func raw(t *testing.T, addr, request string) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%q: %v", request[:min(len(request), 60)], err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// post is a raw POST /connectors of body.
func post(body string) string {
	return "POST /connectors HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " + fmt.Sprint(len(body)) + "\r\n\r\n" + body
}

// TestHostileRequests: bodies past the limit, header floods, malformed
// requests and path tricks in connector names each get their exact 4xx
// over a real connection, and the API keeps serving.
func TestHostileRequests(t *testing.T) {
	h := newHarness(t, Options{})
	addr := served(t, h)
	big := `{"name": "x", "config": {"k": "` + strings.Repeat("x", 2<<20) + `"}}`
	invalidName := func(msg string) string {
		return `{"error_code":400,"message":"Connector configuration is invalid and contains the following 1 error(s):\nname: ` + msg + `","errors":[{"key":"name","message":"` + msg + `"}]}` + "\n"
	}
	for _, tc := range []struct {
		name, request string
		code          int
		body          string
	}{
		{"body past the limit", post(big), 413, `{"error_code":413,"message":"Request body is larger than 1048576 bytes"}` + "\n"},
		{"chunked body past the limit", "POST /connectors HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
			fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(big), big), 413, `{"error_code":413,"message":"Request body is larger than 1048576 bytes"}` + "\n"},
		{"header flood", "GET / HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-Flood: "+strings.Repeat("a", 1000)+"\r\n", 100) + "\r\n", 431, "431 Request Header Fields Too Large"},
		{"negative length", "GET /connectors HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400, "400 Bad Request"},
		{"NUL in the request line", "GET /connectors\x00 HTTP/1.1\r\nHost: x\r\n\r\n", 400, "400 Bad Request"},
		{"body not UTF-8", post("{\"name\": \"\xff\xfe\", \"config\": {\"connector.class\": \"sluice-test\", \"topic.prefix\": \"x\"}}"), 400,
			`{"error_code":400,"message":"Malformed JSON request body: not valid UTF-8"}` + "\n"},
		{"dot-dot and %2F in a name", "GET /connectors/..%2Fadmin%2Floggers/status HTTP/1.1\r\nHost: x\r\n\r\n", 404, `{"error_code":404,"message":"Connector ../admin/loggers not found"}` + "\n"},
		{"%2F in a name", "GET /connectors/a%2Fb/status HTTP/1.1\r\nHost: x\r\n\r\n", 404, `{"error_code":404,"message":"Connector a/b not found"}` + "\n"},
		{"encoded dot-dot", "GET /connectors/%2e%2e/status HTTP/1.1\r\nHost: x\r\n\r\n", 404, `{"error_code":404,"message":"Connector .. not found"}` + "\n"},
		{"NUL in a name", "DELETE /connectors/a%00b HTTP/1.1\r\nHost: x\r\n\r\n", 404, `{"error_code":404,"message":"Connector a\u0000b not found"}` + "\n"},
		{"dot-dot segments are cleaned, not served", "GET /connectors/../admin/loggers HTTP/1.1\r\nHost: x\r\n\r\n", 307, `<a href="/admin/loggers">Temporary Redirect</a>.` + "\n\n"},
		{"create with a dot-dot name", post(`{"name": "../x", "config": {"connector.class": "sluice-test", "topic.prefix": "x"}}`), 400, invalidName("must not contain '/'")},
		{"create with a slash", post(`{"name": "a/b", "config": {"connector.class": "sluice-test", "topic.prefix": "x"}}`), 400, invalidName("must not contain '/'")},
		{"create with an empty name", post(`{"name": " ", "config": {"connector.class": "sluice-test", "topic.prefix": "x"}}`), 400, invalidName("must not be empty")},
		{"create with a NUL", post(`{"name": "a\u0000b", "config": {"connector.class": "sluice-test", "topic.prefix": "x"}}`), 400, invalidName("must not contain control characters")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, body := raw(t, addr, tc.request); code != tc.code || body != tc.body {
				t.Errorf("%d %q, want %d %q", code, body, tc.code, tc.body)
			}
			if code, body := raw(t, addr, "GET /connectors HTTP/1.1\r\nHost: x\r\n\r\n"); code != 200 || body != "[]\n" {
				t.Errorf("afterwards GET /connectors: %d %q", code, body)
			}
		})
	}
}

// TestSlowClientIsCut: a client that sends its headers a byte at a time
// (slowloris) is disconnected once the header timeout passes, while other
// clients are served.
func TestSlowClientIsCut(t *testing.T) {
	h := newHarness(t, Options{})
	addr := served(t, h)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	began := time.Now()
	io.WriteString(c, "GET /connectors HTTP/1.1\r\nHost: x\r\n")
	cut := make(chan time.Duration, 1)
	go func() {
		for {
			if _, err := io.WriteString(c, "X"); err != nil {
				cut <- time.Since(began)
				return
			}
			c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
			if _, err := c.Read(make([]byte, 1)); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
				cut <- time.Since(began)
				return
			}
		}
	}()
	if code, body := raw(t, addr, "GET /connectors HTTP/1.1\r\nHost: x\r\n\r\n"); code != 200 || body != "[]\n" {
		t.Errorf("another client meanwhile: %d %q", code, body)
	}
	select {
	case d := <-cut:
		if d < readHeaderTimeout || d > readHeaderTimeout+3*time.Second {
			t.Errorf("cut after %v, want after the %v header timeout", d, readHeaderTimeout)
		}
		t.Logf("slow client cut after %v", d)
	case <-time.After(readHeaderTimeout + 5*time.Second):
		t.Fatal("the slow client was not cut")
	}
}

// TestConnectionCount: the listener holds at most MaxConns connections;
// one more is not served while they stay open, and is served as soon as
// one of them closes.
func TestConnectionCount(t *testing.T) {
	h := newHarness(t, Options{})
	addr := served(t, h)
	idle := make([]net.Conn, MaxConns)
	for i := range idle {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		idle[i] = c
	}
	// Every idle connection is accepted (and so counted) once a request on
	// it is answered.
	for i, c := range idle {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, "GET /connectors HTTP/1.1\r\nHost: x\r\n\r\n")
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("idle connection %d: %v %v", i, res, err)
		}
		c.SetDeadline(time.Time{})
	}
	extra, err := net.Dial("tcp", addr) // the kernel's accept queue takes it
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	io.WriteString(extra, "GET /connectors HTTP/1.1\r\nHost: x\r\n\r\n")
	extra.SetReadDeadline(time.Now().Add(time.Second))
	if n, err := extra.Read(make([]byte, 1)); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("connection %d was answered while %d were open (%v)", MaxConns+1, MaxConns, err)
	}
	idle[0].Close()
	extra.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(extra), nil)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("connection %d once one closed: %v %v", MaxConns+1, res, err)
	}
}
