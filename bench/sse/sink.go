package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/sluice-cdc/sluice/connectors"
	_ "github.com/sluice-cdc/sluice/connectors/sse"
	"github.com/sluice-cdc/sluice/schema/registry"
)

// streamPath is where the benchmark's stream is served.
const streamPath = "/streams/bench"

// maxSubscribers is the sink's connection cap in the benchmark: no cap.
const maxSubscribers = 1 << 24

// runSink is the child process: it runs an SSE sink of topic on an HTTP
// server on 127.0.0.1, prints "ready <address>" once the stream is served,
// and runs until ctx ends. With cpuProfile set it writes its CPU profile
// there.
func runSink(ctx context.Context, brokers []string, registryURL, topic string, heartbeat time.Duration, cpuProfile string) error {
	if _, err := raiseNoFile(maxFiles); err != nil {
		return err
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return fmt.Errorf("create the CPU profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("start the CPU profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	reg, err := registry.New(registryURL)
	if err != nil {
		return fmt.Errorf("create registry client for %s: %w", registryURL, err)
	}
	class, ok := connectors.Lookup("sse")
	if !ok {
		return errors.New("connector class sse is not registered")
	}
	c, err := class.Spec.Parse(map[string]string{
		"connector.class": "sse", "topics": topic, "format": "flat",
		"max.connections":       strconv.Itoa(maxSubscribers),
		"heartbeat.interval.ms": strconv.FormatInt(heartbeat.Milliseconds(), 10),
	})
	if err != nil {
		return fmt.Errorf("parse the sink configuration: %w", err)
	}
	rt := connectors.NewRoutes()
	sink, err := class.NewSink(c, connectors.Env{Name: "bench", SSE: rt})
	if err != nil {
		return fmt.Errorf("create the sink: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: rt, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- sink.Run(ctx, connectors.Kafka{Brokers: brokers, Registry: reg}) }()
	for !rt.Has(streamPath) {
		select {
		case err := <-done:
			return fmt.Errorf("the sink stopped before serving: %w", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	fmt.Printf("ready %s\n", ln.Addr())
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("the sink stopped: %w", err)
	}
	return nil
}

// maxFiles is the open-file limit both processes raise themselves to.
const maxFiles = 1 << 18
