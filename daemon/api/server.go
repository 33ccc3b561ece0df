package api

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/sluice-cdc/sluice/daemon/config"
	"github.com/sluice-cdc/sluice/internal/certfile"
)

// Limits of the REST listener.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 2 * time.Minute // a restart or stop may wait for a worker
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
	// MaxConns is how many connections the listener holds at once; more
	// wait in the kernel's accept queue.
	MaxConns = 256
)

// Server serves a handler over HTTP or, with TLS configured, HTTPS, with
// bounded header size, timeouts and connection count.
type Server struct {
	srv *http.Server
	tls bool
}

// NewServer returns a server of h configured by the REST settings; it
// loads the TLS certificate when there is one.
func NewServer(h http.Handler, rest config.REST, logger *slog.Logger) (*Server, error) {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
	if logger != nil {
		srv.ErrorLog = slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
	}
	s := &Server{srv: srv}
	if t := rest.TLS; t != nil {
		certs, err := certfile.New("rest.tls", t.CertFile, t.KeyFile, logger)
		if err != nil {
			return nil, err
		}
		srv.TLSConfig = certs.TLSConfig()
		s.tls = true
	}
	return s, nil
}

// Serve accepts connections on ln until Shutdown; it then returns nil.
func (s *Server) Serve(ln net.Listener) error {
	ln = &limitListener{Listener: ln, sem: make(chan struct{}, MaxConns)}
	var err error
	if s.tls {
		err = s.srv.ServeTLS(ln, "", "")
	} else {
		err = s.srv.Serve(ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting connections and waits for requests in flight
// until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }

// limitListener holds at most cap(sem) connections open at once.
type limitListener struct {
	net.Listener
	sem chan struct{}
}

func (l *limitListener) Accept() (net.Conn, error) {
	l.sem <- struct{}{}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
