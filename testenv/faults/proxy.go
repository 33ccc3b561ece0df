package faults

import (
	"io"
	"net"
	"sync"
	"testing"
)

// Proxy forwards TCP connections to a server, and cuts them on demand:
// the network between a connector and its database, as the test controls
// it. It is closed when the test ends.
type Proxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	conns   map[net.Conn]bool
	refuse  bool
	wg      sync.WaitGroup
	closing bool
}

// NewProxy listens on a free loopback port and forwards to target.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// Addr is where clients connect instead of the target: host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Port is Addr's port.
func (p *Proxy) Port() string { _, port, _ := net.SplitHostPort(p.Addr()); return port }

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		refuse := p.refuse || p.closing
		p.mu.Unlock()
		if refuse {
			c.Close()
			continue
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[s] = true, true
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(c, s)
		go p.pipe(s, c)
	}
}

// pipe copies from one side to the other until either is closed.
func (p *Proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	io.Copy(dst, src)
	dst.Close()
	src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// Cut closes every connection open now, wherever their traffic is; with
// refuse, connections made afterwards are closed at once until Restore.
// It returns how many connections it cut.
func (p *Proxy) Cut(refuse bool) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refuse = refuse
	n := 0
	for c := range p.conns {
		c.Close()
		n++
	}
	return n / 2
}

// Restore accepts connections again after Cut(true).
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refuse = false
}

func (p *Proxy) close() {
	p.mu.Lock()
	p.closing = true
	p.mu.Unlock()
	p.ln.Close()
	p.Cut(true)
	p.wg.Wait()
}
