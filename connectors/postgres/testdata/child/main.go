// Command child runs one Postgres source into Kafka as its own process, so
// tests can kill it with SIGKILL and measure its memory. It is built by the
// tests of connectors/postgres; it is not part of sluice.
//
// Usage: child -config FILE -brokers HOST:PORT -registry URL -state DIR
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/kafka"
	"github.com/sluice-cdc/sluice/connectors/postgres"
	"github.com/sluice-cdc/sluice/schema/registry"
)

func main() {
	configFile := flag.String("config", "", "connector config JSON (a string map)")
	brokers := flag.String("brokers", "", "Kafka seed broker")
	registryURL := flag.String("registry", "", "Schema Registry URL")
	state := flag.String("state", "", "state directory (offsets, spill files)")
	flag.Parse()
	if err := run(*configFile, *brokers, *registryURL, *state); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(1)
	}
}

func run(configFile, brokers, registryURL, state string) error {
	raw := map[string]string{}
	b, err := os.ReadFile(configFile)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	class, ok := connectors.Lookup("postgres")
	if !ok {
		return errors.New("class postgres not registered")
	}
	c, err := class.Spec.Parse(raw)
	if err != nil {
		return err
	}
	cfg, err := postgres.ParseConfig(c)
	if err != nil {
		return err
	}
	reg, err := registry.New(registryURL)
	if err != nil {
		return err
	}
	client, err := kgo.NewClient(append(kafka.SourceClientOpts(c), kgo.SeedBrokers(brokers))...)
	if err != nil {
		return err
	}
	defer client.Close()
	w := kafka.NewSourceWriter(client, reg, class, c)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	src := postgres.New(cfg, connectors.Env{Name: "child", Version: "test", Logger: logger,
		Offsets: &fileOffsets{path: filepath.Join(state, "offsets.json")}, StateDir: state})
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	// Retry transient failures as the daemon's supervisor does: right after
	// a SIGKILL the server may still hold the slot for the dead process.
	for {
		err := src.Run(ctx, w)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, connectors.ErrPermanent) {
			return err
		}
		logger.Warn("source failed; retrying", "error", err)
		time.Sleep(200 * time.Millisecond)
		w = kafka.NewSourceWriter(client, reg, class, c)
	}
}

// fileOffsets keeps offsets in one JSON file, replaced atomically.
type fileOffsets struct {
	mu   sync.Mutex
	path string
}

func (f *fileOffsets) Load(_ context.Context, key string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.read()
	return m[key], err
}

func (f *fileOffsets) Save(_ context.Context, key string, v []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.read()
	if err != nil {
		return err
	}
	m[key] = v
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	tmp := f.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, f.path)
}

func (f *fileOffsets) read() (map[string]json.RawMessage, error) {
	m := map[string]json.RawMessage{}
	b, err := os.ReadFile(f.path)
	if os.IsNotExist(err) {
		return m, nil
	}
	if err != nil {
		return nil, err
	}
	return m, json.Unmarshal(b, &m)
}
