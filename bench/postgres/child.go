package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/kafka"
	"github.com/sluice-cdc/sluice/connectors/postgres"
	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/schema/registry"
)

// childOptions are the flags of the pipeline child process.
type childOptions struct {
	configFile  string
	registryURL string
	stateDir    string
	brokers     string
	cpuProfile  string
	producer    producerOptions
	verbose     bool
}

// readyPrefix starts the line the child prints on stdout when the pipeline
// is built and about to run, followed by the CPU time it has used so far in
// nanoseconds, so the driver can leave start-up out of its measures.
const readyPrefix = "ready cpu_ns="

// runChild runs the Postgres source into Kafka, wired as the daemon does,
// until ctx ends (SIGTERM from the driver).
func runChild(ctx context.Context, o childOptions) error {
	level := slog.LevelWarn
	if o.verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})).With("process", "sluice")
	raw := map[string]string{}
	b, err := os.ReadFile(o.configFile)
	if err != nil {
		return fmt.Errorf("read connector config: %w", err)
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("decode connector config %s: %w", o.configFile, err)
	}
	c, err := postgres.Spec.Parse(raw)
	if err != nil {
		return fmt.Errorf("parse connector config: %w", err)
	}
	cfg, err := postgres.ParseConfig(c)
	if err != nil {
		return fmt.Errorf("parse connector config: %w", err)
	}
	reg, err := registry.New(o.registryURL)
	if err != nil {
		return err
	}
	// The producer as the connector configures it, with the benchmark's
	// overrides of franz-go settings the configuration does not expose.
	kopts := append(cfg.Producer.ClientOpts(), kgo.SeedBrokers(strings.Split(o.brokers, ",")...))
	wopts := []kafka.Option{kafka.WithTombstones(cfg.Tombstones), kafka.WithLogger(logger)}
	if n := o.producer.maxBufferedRecords; n > 0 {
		kopts = append(kopts, kgo.MaxBufferedRecords(n))
		wopts = append(wopts, kafka.WithMaxBuffered(int64(n)))
	}
	if n := o.producer.batchMaxBytes; n > 0 {
		kopts = append(kopts, kgo.ProducerBatchMaxBytes(int32(n)))
	}
	if n := o.producer.zstdLevel; n > 0 && cfg.Producer.Compression == "zstd" {
		kopts = append(kopts, kgo.ProducerBatchCompression(kgo.ZstdCompression().WithLevel(n)))
	}
	client, err := kgo.NewClient(kopts...)
	if err != nil {
		return fmt.Errorf("create Kafka client: %w", err)
	}
	defer client.Close()
	w := kafka.NewWriter(client, reg, cfg.Producer.Topics(client),
		schema.Options{Prefix: cfg.TopicPrefix, Connector: "postgresql"}, wopts...)
	src := postgres.New(cfg, connectors.Env{Name: "bench", Version: "bench", Logger: logger,
		Offsets: &fileOffsets{dir: o.stateDir}, StateDir: o.stateDir})

	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return fmt.Errorf("create CPU profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("start CPU profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Printf("%s%d\n", readyPrefix, selfCPU())
	err = src.Run(ctx, w)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// selfCPU returns the user and system CPU time this process has used, in
// nanoseconds.
func selfCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
