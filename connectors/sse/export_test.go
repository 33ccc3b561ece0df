package sse

import "net/http"

// StreamState returns, for the handler an SSE sink registered, the channel
// closed once its stream is up (its topics exist and are read) and the one
// closed when the sink stops.
func StreamState(h http.Handler) (ready, stopped <-chan struct{}) {
	st := h.(*stream)
	return st.ready, st.stopped
}
