//go:build linux

package sse

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
)

// closeWatcher learns that clients closed their connections. A connection
// taken over from net/http has no goroutine reading it, so one goroutine
// per stream waits in epoll_wait for the peers' FIN or RST (EPOLLRDHUP,
// EPOLLHUP, EPOLLERR) on every watched connection, and calls back once per
// connection. An idle subscriber whose client went away is so removed at
// once rather than at its next write.
type closeWatcher struct {
	epfd int
	pipe [2]int        // close writes to it to end the loop
	done chan struct{} // closed when the loop has ended

	mu     sync.Mutex
	closed bool
	next   uint64            // the next connection's id; 0 is the pipe's
	gone   map[uint64]func() // callbacks of the watched connections, by id
}

// newCloseWatcher starts a watcher; close stops it.
func newCloseWatcher() (*closeWatcher, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("create an epoll instance: %w", err)
	}
	w := &closeWatcher{epfd: epfd, done: make(chan struct{}), next: 1, gone: map[uint64]func(){}}
	if err := syscall.Pipe2(w.pipe[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		syscall.Close(epfd)
		return nil, fmt.Errorf("create a pipe: %w", err)
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, w.pipe[0], &ev); err != nil {
		w.release()
		return nil, fmt.Errorf("watch a pipe with epoll: %w", err)
	}
	go w.loop()
	return w, nil
}

// watch calls gone, from the watcher's goroutine, once the peer of c
// closes or resets it. unwatch forgets c (a call of gone already under way
// may still happen). A connection without a file descriptor is not
// watched.
func (w *closeWatcher) watch(c net.Conn, gone func()) (unwatch func()) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return func() {}
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return func() {}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return func() {}
	}
	id := w.next
	ev := syscall.EpollEvent{Events: syscall.EPOLLRDHUP | syscall.EPOLLONESHOT, Fd: int32(uint32(id)), Pad: int32(uint32(id >> 32))}
	var ctlErr error
	if err := raw.Control(func(fd uintptr) { ctlErr = syscall.EpollCtl(w.epfd, syscall.EPOLL_CTL_ADD, int(fd), &ev) }); err != nil || ctlErr != nil {
		return func() {}
	}
	w.next++
	w.gone[id] = gone
	return func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(w.gone, id)
	}
}

func (w *closeWatcher) loop() {
	defer close(w.done)
	events := make([]syscall.EpollEvent, 128)
	for {
		n, err := syscall.EpollWait(w.epfd, events, -1)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return
		}
		for _, ev := range events[:n] {
			id := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
			if id == 0 {
				return
			}
			w.mu.Lock()
			gone := w.gone[id]
			delete(w.gone, id)
			w.mu.Unlock()
			if gone != nil {
				gone()
			}
		}
	}
}

// close stops watching every connection and waits for the loop to end.
func (w *closeWatcher) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	syscall.Write(w.pipe[1], []byte{0})
	<-w.done
	w.release()
}

func (w *closeWatcher) release() {
	syscall.Close(w.epfd)
	syscall.Close(w.pipe[0])
	syscall.Close(w.pipe[1])
}

// writeNow writes what the socket takes of b without waiting.
func writeNow(raw syscall.RawConn, b []byte) (int, error) {
	var n int
	var werr error
	if err := raw.Write(func(fd uintptr) bool {
		n, werr = syscall.Write(int(fd), b)
		return true
	}); err != nil {
		return 0, err
	}
	if errors.Is(werr, syscall.EAGAIN) || errors.Is(werr, syscall.EINTR) {
		return 0, nil
	}
	if werr != nil {
		return 0, werr
	}
	return n, nil
}
