package sse

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

// A taken-over connection writes what send gathers once it reaches
// maxPending, so a long replay is not held in memory until its end.
func TestRawConnWritesGatheredFramesBeyondTheBound(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()

	c := &rawConn{c: server, timeout: 5 * time.Second}
	frame := bytes.Repeat([]byte("x"), 1024)
	for range maxPending/len(frame) - 1 {
		if err := c.send(frame); err != nil {
			t.Fatal(err)
		}
	}
	client.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, _ := client.Read(make([]byte, 1)); n != 0 {
		t.Fatalf("%d bytes arrived before the bound was reached", n)
	}
	if err := c.send(frame); err != nil {
		t.Fatal(err)
	}
	if c.pendingBytes != 0 || len(c.pending) != 0 {
		t.Fatalf("%d bytes in %d frames still gathered after reaching the bound", c.pendingBytes, len(c.pending))
	}
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadFull(client, make([]byte, maxPending))
	if err != nil || got != maxPending {
		t.Fatalf("read %d of %d bytes: %v", got, maxPending, err)
	}
}
