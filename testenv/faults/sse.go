package faults

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sluice-cdc/sluice/schema/event"
)

// SSEClient subscribes to an SSE sink's stream (format=envelope) as a
// browser's EventSource does: when the connection ends it connects again
// after a moment, sending the id of the last event it received as
// Last-Event-ID, until Stop. Given several URLs, as behind a load
// balancer, it tries the next one each time it connects. It keeps every
// change event it received, in order, for Verify.
type SSEClient struct {
	urls   []string
	cancel context.CancelFunc
	done   chan struct{}

	mu          sync.Mutex
	events      []Event
	lastID      string
	connects    int
	attempts    int
	served      []string // the URL of each connection, in order
	parseErr    error
	connectedCh chan struct{} // closed at the first frame of the first connection
}

// NewSSEClient starts a subscriber of the stream at urls, the first
// connection to the first URL.
func NewSSEClient(urls ...string) *SSEClient {
	ctx, cancel := context.WithCancel(context.Background())
	c := &SSEClient{urls: urls, cancel: cancel, done: make(chan struct{}), connectedCh: make(chan struct{})}
	go c.run(ctx)
	return c
}

// Connected is closed once the first connection got its first frame (the
// position it starts from).
func (c *SSEClient) Connected() <-chan struct{} { return c.connectedCh }

// Stop ends the subscription and returns the change events received, how
// many times the client connected, and the first event it could not read.
func (c *SSEClient) Stop() ([]Event, int, error) {
	c.cancel()
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Event(nil), c.events...), c.connects, c.parseErr
}

// Served lists the URL that served each connection, in order.
func (c *SSEClient) Served() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.served...)
}

// Events returns the change events received so far.
func (c *SSEClient) Events() []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Event(nil), c.events...)
}

func (c *SSEClient) run(ctx context.Context) {
	defer close(c.done)
	for ctx.Err() == nil {
		c.subscribe(ctx)
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// subscribe reads one connection, to the next URL, until it ends.
func (c *SSEClient) subscribe(ctx context.Context) {
	c.mu.Lock()
	url := c.urls[c.attempts%len(c.urls)]
	c.attempts++
	c.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return
	}
	c.mu.Lock()
	if c.lastID != "" {
		req.Header.Set("Last-Event-ID", c.lastID)
	}
	c.mu.Unlock()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return
	}
	c.mu.Lock()
	c.connects++
	c.served = append(c.served, url)
	c.mu.Unlock()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var id, name string
	var data []string
	for sc.Scan() {
		line := sc.Text()
		if line != "" {
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "id":
				id = value
			case "event":
				name = value
			case "data":
				data = append(data, value)
			}
			continue
		}
		c.dispatch(id, name, strings.Join(data, "\n"))
		id, name, data = "", "", nil
	}
}

// dispatch takes one frame: its id becomes the resume position, and its
// data, when it holds a change, an event.
func (c *SSEClient) dispatch(id, name, data string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if id != "" {
		c.lastID = id
		select {
		case <-c.connectedCh:
		default:
			close(c.connectedCh)
		}
	}
	if data == "" || name == "reset" {
		if name == "reset" && c.parseErr == nil {
			c.parseErr = fmt.Errorf("the stream was reset: %s", data)
		}
		return
	}
	e, err := envelopeEvent(data)
	if err != nil {
		if c.parseErr == nil {
			c.parseErr = fmt.Errorf("event %d (id %s): %w", len(c.events), id, err)
		}
		return
	}
	e.At = fmt.Sprintf("sse#%d", len(c.events))
	c.events = append(c.events, e)
}

// envelopeEvent reads a change from an SSE event's data: Debezium's
// envelope as JSON.
func envelopeEvent(data string) (Event, error) {
	var env struct {
		Op     string `json:"op"`
		Before *row   `json:"before"`
		After  *row   `json:"after"`
	}
	if err := json.Unmarshal([]byte(data), &env); err != nil {
		return Event{}, err
	}
	if len(env.Op) != 1 {
		return Event{}, fmt.Errorf("op %q", env.Op)
	}
	r := env.After
	if r == nil {
		r = env.Before
	}
	if r == nil {
		return Event{}, fmt.Errorf("no row in the %s event", env.Op)
	}
	return Event{Key: r.ID, Seq: r.Seq, Op: event.Op(env.Op[0]), V: r.V}, nil
}

// row is the workload table's row as the envelope holds it.
type row struct {
	ID  int64  `json:"id"`
	Seq int64  `json:"seq"`
	V   string `json:"v"`
}
