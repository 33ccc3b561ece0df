// Package pipeline runs a source connector into Kafka in a process of its
// own, for the source benchmarks: the child side builds the source and its
// Kafka writer the way the daemon does and reports when it is ready and
// when its start position is fixed; the driver side starts that process,
// waits for those reports and, once it has exited, reads its CPU time and
// peak RSS. The driver and the child are the same binary, told apart by a
// flag of the benchmark's own.
package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/connectors/kafka"
	"github.com/sluice-cdc/sluice/internal/procstat"
	"github.com/sluice-cdc/sluice/schema/registry"
	"github.com/sluice-cdc/sluice/transforms"
)

// Lines the child prints on stdout for the driver.
const (
	// readyPrefix starts the line printed when the pipeline is built and
	// about to run, followed by the CPU time used so far in nanoseconds,
	// so that the driver can leave start-up out of its measures.
	readyPrefix = "ready cpu_ns="
	// runningLine is printed when the source reports its start position
	// fixed (connectors.Env.Running).
	runningLine = "running"
	// peakPrefix starts the line printed last, with the process's peak
	// RSS in bytes (VmHWM). The rusage of the exited process is no
	// measure of it: exec keeps the larger of the new program's peak and
	// the RSS of the process that started it, the driver, whose memory
	// holds whole topics for the producer ceiling.
	peakPrefix = "peak_rss_bytes="
)

// Producer tunes the child's Kafka producer; zero values keep the
// connector's defaults (linger and compression) or franz-go's (the rest).
type Producer struct {
	Linger             string // producer.override.linger.ms
	Compression        string // producer.override.compression.type
	MaxBufferedRecords int
	MaxBufferedBytes   int
	BatchMaxBytes      int
	ZstdLevel          int
}

// Flags registers the producer flags on fs. Linger and Compression go into
// the connector's configuration (see Apply); the others are passed to the
// child (see Args).
func (p *Producer) Flags(fs *flag.FlagSet) {
	fs.StringVar(&p.Linger, "linger-ms", "", "producer.override.linger.ms of the connector (default: the connector's)")
	fs.StringVar(&p.Compression, "compression", "", "producer.override.compression.type of the connector (default: the connector's)")
	fs.IntVar(&p.MaxBufferedRecords, "max-buffered-records", 0, "franz-go MaxBufferedRecords of the pipeline's producer (0: franz-go's default)")
	fs.IntVar(&p.MaxBufferedBytes, "max-buffered-bytes", 0, "bytes of records the pipeline's Kafka writer and producer hold waiting (0: the writer's default, kafka.MaxBufferedBytes)")
	fs.IntVar(&p.BatchMaxBytes, "batch-max-bytes", 0, "franz-go ProducerBatchMaxBytes of the pipeline's producer (0: franz-go's default)")
	fs.IntVar(&p.ZstdLevel, "zstd-level", 0, "zstd level of the pipeline's producer, 1 (fastest) to 4 (best), when compressing with zstd (0: franz-go's default)")
}

// Apply sets the connector keys of p in cfg.
func (p Producer) Apply(cfg map[string]string) {
	if p.Linger != "" {
		cfg["producer.override.linger.ms"] = p.Linger
	}
	if p.Compression != "" {
		cfg["producer.override.compression.type"] = p.Compression
	}
}

// Args are the child's flags for the producer settings the connector's
// configuration does not hold.
func (p Producer) Args() []string {
	var args []string
	if n := p.MaxBufferedRecords; n > 0 {
		args = append(args, "-max-buffered-records", strconv.Itoa(n))
	}
	if n := p.MaxBufferedBytes; n > 0 {
		args = append(args, "-max-buffered-bytes", strconv.Itoa(n))
	}
	if n := p.BatchMaxBytes; n > 0 {
		args = append(args, "-batch-max-bytes", strconv.Itoa(n))
	}
	if n := p.ZstdLevel; n > 0 {
		args = append(args, "-zstd-level", strconv.Itoa(n))
	}
	return args
}

// ClientOpts are the franz-go options of the pipeline's producer for the
// connector configuration cfg: the connector's (kafka.SourceClientOpts,
// as the daemon builds them), with p's overrides of the settings the
// configuration does not expose. The caller adds the seed brokers.
func (p Producer) ClientOpts(cfg *conf.Config) []kgo.Opt {
	opts := kafka.SourceClientOpts(cfg)
	if n := p.MaxBufferedRecords; n > 0 {
		opts = append(opts, kgo.MaxBufferedRecords(n))
	}
	if n := p.MaxBufferedBytes; n > 0 {
		opts = append(opts, kgo.MaxBufferedBytes(n))
	}
	if n := p.BatchMaxBytes; n > 0 {
		opts = append(opts, kgo.ProducerBatchMaxBytes(int32(n)))
	}
	if n := p.ZstdLevel; n > 0 && kafka.ProducerConfigFrom(cfg).Compression == "zstd" {
		opts = append(opts, kgo.ProducerBatchCompression(kgo.ZstdCompression().WithLevel(n)))
	}
	return opts
}

// LoadConfig reads the connector configuration file (a JSON object of
// strings) and parses it with the spec of the source class its
// connector.class names, which must be linked into the binary. It returns
// the keys as written, the class and the parsed configuration.
func LoadConfig(file string) (map[string]string, *connectors.Class, *conf.Config, error) {
	raw := map[string]string{}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read connector config: %w", err)
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, nil, nil, fmt.Errorf("decode connector config %s: %w", file, err)
	}
	class, ok := connectors.Lookup(raw["connector.class"])
	if !ok || class.Kind != connectors.KindSource {
		return nil, nil, nil, fmt.Errorf("connector.class %q: no such source class in this binary", raw["connector.class"])
	}
	cfg, err := class.Spec.Parse(raw)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("parse connector config: %w", err)
	}
	return raw, class, cfg, nil
}

// ChildOptions are what the child process is given.
type ChildOptions struct {
	ConfigFile  string // the connector configuration, a JSON object of strings
	RegistryURL string
	StateDir    string // the connector's state directory; offsets are kept there too
	Brokers     string // comma separated
	CPUProfile  string // where to write a pprof CPU profile, if set
	Producer    Producer
	Verbose     bool
}

// ChildFlags registers the child's own flags on fs (the producer's and the
// brokers are the benchmark's).
func (o *ChildOptions) ChildFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.ConfigFile, "config", "", "sluice role: the connector configuration, a JSON object of strings")
	fs.StringVar(&o.RegistryURL, "registry", "", "sluice role: the Schema Registry URL")
	fs.StringVar(&o.StateDir, "state", "", "sluice role: the connector's state directory (offsets, spill files)")
}

// Run runs the source the configuration names into Kafka until ctx ends
// (SIGTERM from the driver), wired as the daemon wires a source worker:
// connectors.Lookup of connector.class, the class's Spec and NewSource,
// kafka.SourceClientOpts and kafka.NewSourceWriter, with the connector's
// transforms (transforms.Build) as its stage. Offsets are kept in
// files under the state directory, so that they survive the restarts of
// the child within a run.
func Run(ctx context.Context, o ChildOptions) error {
	defer func() {
		if _, hwm, err := procstat.Memory(os.Getpid()); err == nil {
			fmt.Printf("%s%d\n", peakPrefix, hwm)
		}
	}()
	level := slog.LevelWarn
	if o.Verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})).With("process", "sluice")
	raw, class, cfg, err := LoadConfig(o.ConfigFile)
	if err != nil {
		return err
	}
	reg, err := registry.New(o.RegistryURL)
	if err != nil {
		return err
	}
	kopts := append(o.Producer.ClientOpts(cfg), kgo.SeedBrokers(strings.Split(o.Brokers, ",")...))
	wopts := []kafka.Option{kafka.WithLogger(logger)}
	if n := o.Producer.MaxBufferedBytes; n > 0 {
		wopts = append(wopts, kafka.WithMaxBuffered(int64(n)))
	}
	client, err := kgo.NewClient(kopts...)
	if err != nil {
		return fmt.Errorf("create Kafka client: %w", err)
	}
	defer client.Close()
	chain, ps := transforms.Build(raw)
	if ps != nil {
		return fmt.Errorf("connector config: %w", ps)
	}
	if chain != nil {
		wopts = append(wopts, kafka.WithStage(chain))
	}
	w := kafka.NewSourceWriter(client, reg, class, cfg, wopts...)
	running := make(chan struct{})
	src, err := class.NewSource(cfg, connectors.Env{Name: "bench", Version: "bench", Logger: logger,
		Offsets: &FileOffsets{Dir: o.StateDir}, StateDir: o.StateDir,
		Running: func() {
			select {
			case <-running:
			default:
				close(running)
				fmt.Println(runningLine)
			}
		}})
	if err != nil {
		return fmt.Errorf("build the source: %w", err)
	}

	if o.CPUProfile != "" {
		f, err := os.Create(o.CPUProfile)
		if err != nil {
			return fmt.Errorf("create CPU profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("start CPU profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Printf("%s%d\n", readyPrefix, SelfCPU().Nanoseconds())
	err = src.Run(ctx, w)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// SelfCPU returns the user and system CPU time this process has used
// (getrusage), 0 if it cannot be read.
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
