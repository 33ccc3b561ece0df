package sse

import (
	"sync"
	"time"
)

// subscriber is one connected client as the hub sees it: its filter and
// the frames queued for it. The hub queues; a writer writes. At most one
// writer holds the connection at a time (the writer role): first the
// handler, while it answers the request and replays; then, each time
// frames are queued and no writer runs, a goroutine started for them that
// writes everything queued, one write per round, and ends when the queue
// is empty; or, for a connection net/http keeps serving, the handler's own
// loop, woken through wake. An idle subscriber has no goroutine of its own,
// and no queue until a frame is queued.
type subscriber struct {
	hub     *hub
	filter  *Filter
	limit   int         // most frames queued: subscriber.buffer.size
	release func()      // gives the connection slot back; called once, by drop
	expiry  *time.Timer // drops the subscriber when its token expires; nil: never

	mu      sync.Mutex
	out     output        // nil until the handler attaches the connection
	wake    chan struct{} // when set, writers are started by a send here instead of a goroutine
	unwatch func()        // stops watching the connection for the client's close
	queue   [][]byte      // frames no writer has taken yet, in order
	events  int           // how many frames of queue are events
	spare   [][]byte      // the queue's other half, reused for the next round
	writing bool          // a writer holds the connection
	quiet   int           // heartbeat ticks since the last write
	gone    bool          // dropped: nothing is queued or written any more
}

// keptFrames is the largest queue capacity a subscriber keeps while no
// writer runs; larger ones are released and grown again when needed.
const keptFrames = 64

// pushResult says what push did with a frame.
type pushResult int

const (
	pushQueued   pushResult = iota // queued for the writer that runs, or nothing to queue
	pushStart                      // queued, and no writer runs: the caller must call start
	pushOverflow                   // not queued: the queue is full
)

// push queues the frames that the filter selects, in order. The hub calls
// it under its lock. On overflow the frames are not all queued, and the
// hub drops the subscriber.
func (s *subscriber) push(frames []outFrame) pushResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gone {
		return pushQueued
	}
	queued := false
	for _, f := range frames {
		if !s.filter.match(f.m) {
			continue
		}
		if len(s.queue) >= s.limit {
			return pushOverflow
		}
		s.queue = append(s.queue, f.frame)
		s.events++
		queued = true
	}
	if !queued || s.writing {
		return pushQueued
	}
	s.writing = true
	return pushStart
}

// start hands the writer role, taken by push or tick, to a writer.
func (s *subscriber) start() {
	if s.wake != nil {
		s.wake <- struct{}{} // never blocks: one role, one wake
		return
	}
	go s.flush()
}

// flush writes the queue until it is empty, then gives up the writer role.
// Only the holder of the role calls it. A failed write drops the
// subscriber; it resumes with its last event id.
func (s *subscriber) flush() {
	for {
		s.mu.Lock()
		if s.gone || len(s.queue) == 0 {
			s.writing = false
			if cap(s.queue) > keptFrames {
				s.queue = nil
			}
			if cap(s.spare) > keptFrames {
				s.spare = nil
			}
			s.mu.Unlock()
			return
		}
		batch, events, out := s.queue, s.events, s.out
		s.queue, s.spare, s.events = s.spare[:0], nil, 0
		s.mu.Unlock()

		err := out.write(batch)
		clear(batch)
		s.mu.Lock()
		s.spare = batch[:0]
		s.quiet = 0
		s.mu.Unlock()
		if err != nil {
			s.hub.unsubscribe(s, reasonWrite)
			return
		}
		s.hub.met.sent.Add(uint64(events))
	}
}

// tick counts one heartbeat tick. On the second tick in a row without a
// write, and when no writer runs, it takes the writer role and writes a
// heartbeat at once if the connection takes it without blocking, else it
// queues the heartbeat (or what is left of it) for a writer.
func (s *subscriber) tick() {
	s.mu.Lock()
	if s.gone || s.writing || s.out == nil {
		s.mu.Unlock()
		return
	}
	if s.quiet++; s.quiet < 2 {
		s.mu.Unlock()
		return
	}
	s.writing = true
	out := s.out
	s.mu.Unlock()

	n, err := out.tryWrite(heartbeatFrame)
	if err != nil {
		s.hub.unsubscribe(s, reasonWrite)
		return
	}
	s.mu.Lock()
	if n > 0 {
		s.quiet = 0
	}
	if n < len(heartbeatFrame) && !s.gone {
		s.queue = append(s.queue, heartbeatFrame[n:])
	}
	more := len(s.queue) > 0 && !s.gone
	s.writing = more
	s.mu.Unlock()
	if more {
		s.start()
	}
}

// attach gives the subscriber its connection once the response has
// begun; wake is set when the handler's loop writes (see subscriber), and
// unwatch stops watching the connection for the client's close. It
// reports false when the hub dropped the subscriber meanwhile; the caller
// then ends the connection and calls unwatch itself.
func (s *subscriber) attach(out output, wake chan struct{}, unwatch func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gone {
		return false
	}
	s.out, s.wake, s.unwatch = out, wake, unwatch
	return true
}

// end marks the subscriber gone, releases its queued frames and ends its
// connection, which unblocks a write in progress. The hub calls it under
// its lock, once; it does not block.
func (s *subscriber) end() {
	s.mu.Lock()
	s.gone = true
	clear(s.queue)
	s.queue, s.spare, s.events = nil, nil, 0
	out, unwatch := s.out, s.unwatch
	s.mu.Unlock()
	if unwatch != nil {
		unwatch()
	}
	if out != nil {
		out.close()
	}
}
