package connectors

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
)

// Routes is a Router that is also the http.Handler serving its paths: a
// request goes to the handler of the longest path equal to its own or a
// parent of it, else gets a JSON 404. Paths are added and removed while it
// serves. The daemon's SSE listener serves one; tests and benchmarks serve
// one as the daemon would. Safe for concurrent use.
type Routes struct {
	mu     sync.RWMutex
	routes map[string]http.Handler
}

var _ Router = (*Routes)(nil)

// NewRoutes returns an empty table.
func NewRoutes() *Routes { return &Routes{routes: map[string]http.Handler{}} }

// Handle serves h at path and below it; remove stops that. A path already
// served is an error.
func (r *Routes) Handle(path string, h http.Handler) (remove func(), err error) {
	path = cleanPath(path)
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, taken := r.routes[path]; taken {
		return nil, fmt.Errorf("path %s is already served by another connector", path)
	}
	r.routes[path] = h
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		delete(r.routes, path)
	}, nil
}

// Has reports whether path is served.
func (r *Routes) Has(path string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.routes[cleanPath(path)] != nil
}

// ServeHTTP routes a request to the handler of the longest matching path.
func (r *Routes) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.RLock()
	var best string
	var h http.Handler
	for p, handler := range r.routes {
		if (req.URL.Path == p || strings.HasPrefix(req.URL.Path, p+"/")) && len(p) > len(best) {
			best, h = p, handler
		}
	}
	r.mu.RUnlock()
	if h == nil {
		// The path is the client's: encoded, so that no byte of it (a
		// quote, a backslash, a NUL) breaks the JSON.
		msg, _ := json.Marshal("no stream at " + req.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, "{\"error_code\": 404, \"message\": %s}\n", msg)
		return
	}
	h.ServeHTTP(w, req)
}

func cleanPath(path string) string { return "/" + strings.Trim(path, "/") }
