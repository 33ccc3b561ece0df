package faults

import (
	"bufio"
	"net"
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
