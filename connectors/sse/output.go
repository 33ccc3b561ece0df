package sse

import (
	"bytes"
	"net"
	"net/http"
	"syscall"
	"time"
)

// output is a subscriber's connection as its writers see it. Only the
// holder of the subscriber's writer role calls send, flush, write and
// tryWrite; close may be called at any time, from any goroutine, and does
// not block.
type output interface {
	frameSink
	// write writes frames in order and sends them. A write that cannot
	// complete within write.timeout.ms fails.
	write(frames [][]byte) error
	// tryWrite writes what the connection takes of b without blocking and
	// returns how much that was.
	tryWrite(b []byte) (int, error)
	// close ends the stream.
	close()
}

// frameSink is where the handler writes the start of a stream and a
// replay: send buffers a frame, flush sends what was buffered.
type frameSink interface {
	send(frame []byte) error
	flush() error
}

// takeOver answers the request with the event stream's head. For an
// HTTP/1.x request it takes the connection over from net/http, so that
// net/http's goroutines and buffers for it end when the handler returns:
// the response then carries Connection: close and no Transfer-Encoding,
// its end being the connection's close. Otherwise (HTTP/2, or a
// ResponseWriter that cannot be taken over) the response stays net/http's
// and the handler's goroutine must stay to write it; wake is then the
// channel that wakes it.
func (st *stream) takeOver(w http.ResponseWriter) (out output, wake chan struct{}) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	rc := http.NewResponseController(w)
	conn, _, err := rc.Hijack()
	if err != nil {
		w.WriteHeader(http.StatusOK)
		r := &respConn{w: w, rc: rc, timeout: st.cfg.WriteTimeout, done: make(chan struct{})}
		return r, make(chan struct{}, 1)
	}
	h.Set("Connection", "close")
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	var head bytes.Buffer
	head.WriteString("HTTP/1.1 200 OK\r\n")
	h.Write(&head)
	head.WriteString("\r\n")
	c := &rawConn{c: conn, timeout: st.cfg.WriteTimeout, pending: net.Buffers{head.Bytes()}}
	if sc, ok := conn.(syscall.Conn); ok {
		c.raw, _ = sc.SyscallConn()
	}
	return c, nil
}

// rawConn is a connection taken over from net/http: frames are written to
// it as they are, gathered into one writev per round.
type rawConn struct {
	c        net.Conn
	raw      syscall.RawConn // nil when the connection has no file descriptor
	timeout  time.Duration   // write.timeout.ms
	deadline time.Time       // the write deadline in force
	pending  net.Buffers     // frames sent and not yet flushed
	// pendingBytes is the length of pending's frames.
	pendingBytes int
}

// maxPending is how many bytes of frames send gathers before it writes
// them, so that a long replay is written as it is read, not held.
const maxPending = 64 << 10

func (c *rawConn) send(frame []byte) error {
	c.pending = append(c.pending, frame)
	c.pendingBytes += len(frame)
	if c.pendingBytes >= maxPending {
		return c.flush()
	}
	return nil
}

func (c *rawConn) flush() error {
	err := c.write(c.pending)
	c.pending, c.pendingBytes = nil, 0
	return err
}

func (c *rawConn) write(frames [][]byte) error {
	if err := c.arm(); err != nil {
		return err
	}
	bufs := net.Buffers(frames)
	_, err := bufs.WriteTo(c.c)
	return err
}

func (c *rawConn) tryWrite(b []byte) (int, error) {
	if c.raw == nil {
		return 0, nil
	}
	if err := c.arm(); err != nil {
		return 0, err
	}
	return writeNow(c.raw, b)
}

func (c *rawConn) close() { c.c.Close() }

// arm makes sure the write deadline is at least seven eighths of
// write.timeout.ms away and at most all of it, moving it only when it is
// closer, so that most rounds do not reset the connection's timer.
func (c *rawConn) arm() error {
	now := time.Now()
	if c.deadline.Sub(now) >= c.timeout-c.timeout/8 {
		return nil
	}
	c.deadline = now.Add(c.timeout)
	return c.c.SetWriteDeadline(c.deadline)
}

// respConn is a response net/http keeps serving; the handler's goroutine
// writes it.
type respConn struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	done    chan struct{} // closed by close: the handler returns
}

func (c *respConn) send(frame []byte) error {
	c.rc.SetWriteDeadline(time.Now().Add(c.timeout))
	_, err := c.w.Write(frame)
	return err
}

func (c *respConn) flush() error { return c.rc.Flush() }

func (c *respConn) write(frames [][]byte) error {
	for _, f := range frames {
		if err := c.send(f); err != nil {
			return err
		}
	}
	return c.flush()
}

// tryWrite writes nothing: the handler's goroutine writes the heartbeat.
func (c *respConn) tryWrite([]byte) (int, error) { return 0, nil }

// close makes the handler return, unblocking a write in progress.
func (c *respConn) close() {
	close(c.done)
	c.rc.SetWriteDeadline(time.Now())
}
