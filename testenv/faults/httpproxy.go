package faults

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// HTTPProxy forwards HTTP requests to a server, or answers those whose
// path holds a given part itself, with a status and body the test sets:
// Elasticsearch overloaded (429) or refusing a request, as the test
// controls it. It is closed when the test ends.
type HTTPProxy struct {
	srv *httptest.Server

	mu       sync.Mutex
	pathPart string // requests whose path holds it get the answer; "" forwards all
	status   int
	body     string
	answered atomic.Int64
}

// NewHTTPProxy listens on a free loopback port and forwards to target
// (http://host:port).
func NewHTTPProxy(t testing.TB, target string) *HTTPProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &HTTPProxy{}
	forward := httputil.NewSingleHostReverseProxy(u)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		part, status, body := p.pathPart, p.status, p.body
		p.mu.Unlock()
		if part != "" && strings.Contains(r.URL.Path, part) {
			p.answered.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			w.Write([]byte(body))
			return
		}
		forward.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// URL is where clients send requests instead of the target.
func (p *HTTPProxy) URL() string { return p.srv.URL }

// Answer makes the proxy answer every request whose path holds pathPart
// with status and body, until Forward.
func (p *HTTPProxy) Answer(pathPart string, status int, body string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pathPart, p.status, p.body = pathPart, status, body
}

// Forward makes the proxy forward every request again.
func (p *HTTPProxy) Forward() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pathPart = ""
}

// Answered is how many requests the proxy answered itself.
func (p *HTTPProxy) Answered() int64 { return p.answered.Load() }
