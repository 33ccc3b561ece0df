package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sluice-cdc/sluice/connectors"
)

// router is the SSE listener: sinks add and remove their paths while it
// serves. The listener opens with the first path, so a daemon without SSE
// sinks listens on nothing.
type router struct {
	listen string
	logger *slog.Logger

	mu     sync.RWMutex
	routes map[string]http.Handler
	srv    *http.Server
}

var _ connectors.Router = (*router)(nil)

func newRouter(listen string, logger *slog.Logger) *router {
	return &router{listen: listen, logger: logger, routes: map[string]http.Handler{}}
}

// Handle serves h at path and below it.
func (r *router) Handle(path string, h http.Handler) (func(), error) {
	path = "/" + strings.Trim(path, "/")
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, taken := r.routes[path]; taken {
		return nil, fmt.Errorf("path %s is already served by another connector", path)
	}
	if r.srv == nil {
		ln, err := net.Listen("tcp", r.listen)
		if err != nil {
			return nil, fmt.Errorf("listen on sse.listen %s: %w", r.listen, err)
		}
		// No write timeout: event streams are long-lived responses.
		r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
		go r.srv.Serve(ln)
		r.logger.Info("SSE listening", "addr", ln.Addr().String())
	}
	r.routes[path] = h
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		delete(r.routes, path)
	}, nil
}

// ServeHTTP routes a request to the handler of the longest matching path.
func (r *router) ServeHTTP(w http.ResponseWriter, req *http.Request) {
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
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, "{\"error_code\": 404, \"message\": \"no stream at %s\"}\n", strings.ReplaceAll(req.URL.Path, `"`, `\"`))
		return
	}
	h.ServeHTTP(w, req)
}

// close stops the listener, ending open streams.
func (r *router) close() error {
	r.mu.Lock()
	srv := r.srv
	r.mu.Unlock()
	if srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		return srv.Close()
	}
	return nil
}
