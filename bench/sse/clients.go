package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// subscriber is one open SSE connection of the driver.
type subscriber struct {
	conn net.Conn
	body *bufio.Reader
}

// sourceIP is the i-th client source address: 127.0.0.2, 127.0.0.3, ...
func sourceIP(i int) net.IP { return net.IPv4(127, 0, byte((2+i)/256), byte((2+i)%256)) }

// subscribe opens n subscriptions to the stream at addr, dialers at a time,
// spreading them over sourceIPs source addresses; each has received the
// id-only frame the sink sends on connect when it returns.
func subscribe(ctx context.Context, o options, addr string, n int) ([]*subscriber, error) {
	subs := make([]*subscriber, n)
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range o.dialers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				s, err := dial(ctx, addr, sourceIP(i%o.sourceIPs))
				if err != nil {
					once.Do(func() { firstErr = fmt.Errorf("subscriber %d of %d: %w", i+1, n, err) })
					next.Store(int64(n))
					return
				}
				subs[i] = s
			}
		}()
	}
	wg.Wait()
	if firstErr != nil || ctx.Err() != nil {
		closeAll(subs)
		if firstErr == nil {
			firstErr = ctx.Err()
		}
		return nil, firstErr
	}
	return subs, nil
}

func dial(ctx context.Context, addr string, ip net.IP) (*subscriber, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 30 * time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+streamPath, nil)
	if err != nil {
		c.Close()
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if err := req.Write(c); err != nil {
		c.Close()
		return nil, fmt.Errorf("send request: %w", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), req)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		c.Close()
		return nil, fmt.Errorf("status %s", resp.Status)
	}
	s := &subscriber{conn: c, body: bufio.NewReaderSize(resp.Body, 1024)}
	// The first frame (retry and the id to resume from) ends with a blank line.
	for {
		line, err := s.body.ReadSlice('\n')
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("read the first frame: %w", err)
		}
		if len(line) == 1 {
			break
		}
	}
	c.SetDeadline(time.Time{})
	return s, nil
}

func closeAll(subs []*subscriber) {
	for _, s := range subs {
		if s != nil {
			s.conn.Close()
		}
	}
}
