//go:build !linux

package sse

import (
	"net"
	"syscall"
)

// closeWatcher would learn that clients closed their connections; off
// Linux it watches nothing, and a subscriber whose client went away is
// removed when a write to it fails (at the latest at its second
// heartbeat).
type closeWatcher struct{}

func newCloseWatcher() (*closeWatcher, error) { return &closeWatcher{}, nil }

func (*closeWatcher) watch(net.Conn, func()) (unwatch func()) { return func() {} }

func (*closeWatcher) close() {}

// writeNow writes nothing: the heartbeat is queued for a writer instead.
func writeNow(syscall.RawConn, []byte) (int, error) { return 0, nil }
