package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
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
	routes *connectors.Routes

	mu  sync.Mutex
	srv *http.Server
}

var _ connectors.Router = (*router)(nil)

func newRouter(listen string, logger *slog.Logger) *router {
	return &router{listen: listen, logger: logger, routes: connectors.NewRoutes()}
}

// Handle serves h at path and below it, opening the listener first if
// this is the first path.
func (r *router) Handle(path string, h http.Handler) (func(), error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.srv == nil {
		ln, err := net.Listen("tcp", r.listen)
		if err != nil {
			return nil, fmt.Errorf("listen on sse.listen %s: %w", r.listen, err)
		}
		// No write timeout: event streams are long-lived responses.
		r.srv = &http.Server{Handler: r.routes, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
		go r.srv.Serve(ln)
		r.logger.Info("SSE listening", "addr", ln.Addr().String())
	}
	return r.routes.Handle(path, h)
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
