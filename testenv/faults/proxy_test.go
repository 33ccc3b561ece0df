package faults

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// The proxy forwards both ways, cuts open connections, refuses new ones
// until restored, and then forwards again.
func TestProxyCutsAndRestores(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					c.Write([]byte("echo " + sc.Text() + "\n"))
				}
				c.Close()
			}()
		}
	}()
	p := NewProxy(t, ln.Addr().String())
	echo := func(c net.Conn, line string) (string, error) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write([]byte(line + "\n")); err != nil {
			return "", err
		}
		return bufio.NewReader(c).ReadString('\n')
	}
	dial := func() net.Conn {
		c, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}

	c := dial()
	if got, err := echo(c, "one"); err != nil || got != "echo one\n" {
		t.Fatalf("through the proxy: %q, %v", got, err)
	}
	if n := p.Cut(true); n != 1 {
		t.Errorf("Cut cut %d connections, want 1", n)
	}
	if got, err := echo(c, "two"); err == nil {
		t.Fatalf("a cut connection answered %q", got)
	}
	if got, err := echo(dial(), "three"); err == nil {
		t.Fatalf("a connection made while refusing answered %q", got)
	}
	p.Restore()
	if got, err := echo(dial(), "four"); err != nil || got != "echo four\n" {
		t.Fatalf("after Restore: %q, %v", got, err)
	}
}

// The HTTP proxy forwards requests, answers those whose path holds the
// part set with the status and body set, and forwards them again after
// Forward.
func TestHTTPProxyAnswersAndForwards(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("from the server: " + r.URL.Path))
	}))
	defer target.Close()
	p := NewHTTPProxy(t, target.URL)
	get := func(path string) string {
		t.Helper()
		res, err := http.Get(p.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return fmt.Sprintf("%d %s", res.StatusCode, b)
	}
	if got := get("/i/_bulk"); got != "200 from the server: /i/_bulk" {
		t.Fatalf("forwarded: %s", got)
	}
	p.Answer("/_bulk", 429, `{"status":429}`)
	if got, other := get("/i/_bulk"), get("/i/_doc/1"); got != `429 {"status":429}` || other != "200 from the server: /i/_doc/1" {
		t.Fatalf("answering /_bulk: %s; another path: %s", got, other)
	}
	p.Forward()
	if got := get("/i/_bulk"); got != "200 from the server: /i/_bulk" || p.Answered() != 1 {
		t.Fatalf("forwarding again: %s after %d answered", got, p.Answered())
	}
}
