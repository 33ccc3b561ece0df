package runtime

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"testing"
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
			r := newRouter(tc.listen, tc.open, slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{ReplaceAttr: dropTime})))
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
