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
	"github.com/sluice-cdc/sluice/daemon/config"
	"github.com/sluice-cdc/sluice/internal/certfile"
)

// router is the SSE listener: sinks add and remove their paths while it
// serves. The listener opens with the first path, so a daemon without SSE
// sinks listens on nothing. Beyond loopback, it serves a handler that does
// not authenticate its requests only when open (sse.allow.unauthenticated).
type router struct {
	listen string
	open   bool
	tls    *config.ServerTLS // sse.tls: serve HTTPS when set
	logger *slog.Logger
	routes *connectors.Routes

	mu  sync.Mutex
	srv *http.Server
}

var _ connectors.Router = (*router)(nil)

func newRouter(sse config.SSE, logger *slog.Logger) *router {
	return &router{listen: sse.Listen, open: sse.AllowUnauthenticated, tls: sse.TLS, logger: logger, routes: connectors.NewRoutes()}
}

// authenticator is a handler that may ask for credentials: an SSE stream.
type authenticator interface{ Authenticates() bool }

// Handle serves h at path and below it, opening the listener first if
// this is the first path. Beyond loopback, a handler that does not
// authenticate is refused unless the router is open, and logged if it is.
func (r *router) Handle(path string, h http.Handler) (func(), error) {
	if a, ok := h.(authenticator); !config.Loopback(r.listen) && (!ok || !a.Authenticates()) {
		if !r.open {
			return nil, fmt.Errorf("sse.listen %s is beyond loopback and this stream has auth.type none: set auth.type to token or jwt, "+
				"listen on 127.0.0.1 (sse.listen), or set sse.allow.unauthenticated to true to serve public streams", r.listen)
		}
		r.logger.Warn("SSE stream served without authentication beyond loopback (sse.allow.unauthenticated)", "path", path, "listen", r.listen)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.srv == nil {
		// No write timeout: event streams are long-lived responses.
		srv := &http.Server{Handler: r.routes, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
		if r.tls != nil {
			certs, err := certfile.New("sse.tls", r.tls.CertFile, r.tls.KeyFile, r.logger)
			if err != nil {
				return nil, err
			}
			srv.TLSConfig = certs.TLSConfig()
		}
		ln, err := net.Listen("tcp", r.listen)
		if err != nil {
			return nil, fmt.Errorf("listen on sse.listen %s: %w", r.listen, err)
		}
		r.srv = srv
		if r.tls != nil {
			go srv.ServeTLS(ln, "", "")
		} else {
			go srv.Serve(ln)
		}
		r.logger.Info("SSE listening", "addr", ln.Addr().String(), "tls", r.tls != nil)
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
