package sourcebench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sluice-cdc/sluice/bench/internal/kafkaenv"
	"github.com/sluice-cdc/sluice/bench/internal/pipeline"
	"github.com/sluice-cdc/sluice/connectors/kafka"
)

// NewName returns a fresh name for a run of workload kind: bench_<kind>_
// and ten hex digits, a plain lower-case identifier for its database and
// the prefix of its topics.
func NewName(kind string) string {
	suffix := make([]byte, 5)
	rand.Read(suffix)
	return "bench_" + kind + "_" + hex.EncodeToString(suffix)
}

// Env is the part of a run that does not depend on its database: the
// table's topic (append-time timestamps) and a schema registry
// (kafkaenv), and a directory for the connector's config and state. A
// benchmark's run environment embeds it, next to its database. It is not
// safe for concurrent use.
type Env struct {
	Name  string // the run's database and topic prefix (NewName)
	Topic string // the table's topic
	Kafka *kafkaenv.Env

	Dir, StateDir, ConfigFile string

	o    *Options
	json bool // the connector writes JsonConverter's JSON, not Avro
}

// NewEnv creates the Kafka side and the directory of run name, whose
// connector writes the table's changes to topic. On an error it removes
// what it created.
func NewEnv(ctx context.Context, o *Options, name, topic string) (e *Env, err error) {
	e = &Env{Name: name, Topic: topic, o: o}
	defer func() {
		if err != nil {
			e.Close()
		}
	}()
	// Records carry the broker's append time, the end of the measured
	// latency.
	if e.Kafka, err = kafkaenv.New(ctx, strings.Split(o.Brokers, ","), topic, "_schemas_"+name); err != nil {
		return nil, err
	}
	if e.Dir, err = os.MkdirTemp("", name+"-"); err != nil {
		return nil, err
	}
	e.StateDir = filepath.Join(e.Dir, "state")
	if err = os.Mkdir(e.StateDir, 0o700); err != nil {
		return nil, err
	}
	e.ConfigFile = filepath.Join(e.Dir, "connector.json")
	return e, nil
}

// WriteConfig writes the connector configuration cfg, with the -linger-ms
// and -compression overrides, to e.ConfigFile, as a user would.
func (e *Env) WriteConfig(cfg map[string]string) error {
	e.o.Producer.Apply(cfg)
	e.json = cfg[kafka.ValueConverterKey] == kafka.JSONConverterClass
	b, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	return os.WriteFile(e.ConfigFile, b, 0o600)
}

// StartChild starts the pipeline process on the run's configuration,
// registry and state (pipeline.Start) and waits until it reports ready.
// profile, when set, is where it writes its CPU profile.
func (e *Env) StartChild(ctx context.Context, profile string) (*pipeline.Child, error) {
	args := []string{"-role", "sluice", "-config", e.ConfigFile, "-registry", e.Kafka.RegistryURL,
		"-state", e.StateDir, "-brokers", e.o.Brokers}
	if profile != "" {
		args = append(args, "-cpuprofile", profile)
	}
	if e.o.Verbose {
		args = append(args, "-v")
	}
	return pipeline.Start(ctx, append(args, e.o.Producer.Args()...)...)
}

// Records returns how many records the run's topic holds.
func (e *Env) Records(ctx context.Context) (int64, error) { return e.Kafka.Records(ctx) }

// WaitRecords waits until the topic holds at least want records and returns
// when that was seen (polled every 10 ms). It fails when the pipeline c
// stops or the count does not move for stall.
func (e *Env) WaitRecords(ctx context.Context, c *pipeline.Child, want int64, stall time.Duration) (time.Time, error) {
	return e.Kafka.WaitRecords(ctx, e.Topic, want, stall, c.Failed, func(n, want int64, perSecond float64) {
		e.o.Logf("%d of %d records, %.0f/s", n, want, perSecond)
	})
}

// Warn reports a failure to clean up on stderr.
func (e *Env) Warn(what string, err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: clean-up: %s: %v\n", e.o.command, what, err)
	}
}

// Close deletes the topic, the registry's topic and the other topics named
// (those that exist), stops the registry and removes the directory. It
// reports failures on stderr (Warn) and goes on.
func (e *Env) Close(otherTopics ...string) {
	if e.Kafka != nil {
		e.Warn("Kafka", e.Kafka.Close(otherTopics...))
	}
	if e.Dir != "" {
		e.Warn("remove "+e.Dir, os.RemoveAll(e.Dir))
	}
}
