package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/kafka"
	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/registry"
	"github.com/sluice-cdc/sluice/schema/registry/embedded"
)

// benchTable is the table whose changes are streamed. ts_ns holds the
// produce time in nanoseconds since the epoch.
var benchTable = &event.Table{
	ID: event.TableID{Database: "bench", Schema: "public", Table: "ticks"},
	Columns: []event.Column{
		{Name: "id", Schema: &event.Schema{Type: event.Int64}},
		{Name: "ts_ns", Schema: &event.Schema{Type: event.Int64}},
		{Name: "note", Schema: &event.Schema{Type: event.String, Optional: true}},
	},
	Key: []int{0},
}

// note is the text column of every row: about 100 bytes.
const note = "the quick brown fox jumps over the lazy dog while the sink fans every change out to its subscribers"

// runEnv is one run's Kafka topic, registry and producer, and the sink
// child reading the topic.
type runEnv struct {
	prefix, topic string
	brokers       []string
	cl            *kgo.Client
	w             *kafka.Writer
	regSrv        *httptest.Server
	reg           *embedded.Registry
	nextID        int64
	child         *exec.Cmd
	exited        chan error
	addr          string
}

func newRunEnv(ctx context.Context, o options) (*runEnv, error) {
	e := &runEnv{prefix: fmt.Sprintf("ssebench%d", time.Now().UnixNano()), brokers: strings.Split(o.brokers, ",")}
	e.topic = e.prefix + ".public.ticks"
	var err error
	if e.reg, err = embedded.New(ctx, e.brokers, embedded.WithReplicationFactor(1), embedded.WithTopic("_schemas_"+e.prefix)); err != nil {
		return nil, fmt.Errorf("start the schema registry: %w", err)
	}
	if err := e.reg.WaitReady(ctx); err != nil {
		e.reg.Close()
		return nil, fmt.Errorf("wait for the schema registry: %w", err)
	}
	e.regSrv = httptest.NewServer(e.reg)
	rc, err := registry.New(e.regSrv.URL)
	if err != nil {
		e.close()
		return nil, err
	}
	pc := kafka.ProducerConfig{Compression: "none", Partitions: 1, ReplicationFactor: -1}
	if e.cl, err = kgo.NewClient(append(pc.ClientOpts(), kgo.SeedBrokers(e.brokers...))...); err != nil {
		e.close()
		return nil, fmt.Errorf("create Kafka client: %w", err)
	}
	e.w = kafka.NewWriter(e.cl, rc, pc.Topics(e.cl), schema.Options{Prefix: e.prefix, Connector: "postgresql"})
	// One event creates the topic and registers the schemas before the
	// sink starts (it begins at the live end, after it).
	if err := e.produce(ctx, 1); err != nil {
		e.close()
		return nil, err
	}
	if err := e.startSink(ctx, o); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

// produce writes n events stamped with the current time and waits for
// their acknowledgement.
func (e *runEnv) produce(ctx context.Context, n int) error {
	evs := make([]*event.Event, n)
	for i := range evs {
		now := time.Now()
		e.nextID++
		evs[i] = &event.Event{Op: event.OpCreate, Table: benchTable, TsMs: now.UnixMilli(),
			Source: event.Source{Connector: "postgresql", Name: e.prefix, Snapshot: event.SnapshotFalse, DB: "bench", Schema: "public", Table: "ticks", TsMs: now.UnixMilli()},
			After:  event.Row{e.nextID, now.UnixNano(), note}}
	}
	if err := e.w.Emit(ctx, connectors.Batch{Events: evs}); err != nil {
		return fmt.Errorf("produce to %s: %w", e.topic, err)
	}
	if err := e.w.Flush(ctx); err != nil {
		return fmt.Errorf("produce to %s: %w", e.topic, err)
	}
	return nil
}

// startSink starts the child process and waits until it serves the stream.
func (e *runEnv) startSink(ctx context.Context, o options) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable: %w", err)
	}
	e.child = exec.Command(exe, "-role", "sink", "-brokers", o.brokers, "-registry", e.regSrv.URL, "-topic", e.topic,
		"-heartbeat", o.heartbeat.String(), "-cpuprofile", o.cpuProfile)
	e.child.Stderr = os.Stderr
	out, err := e.child.StdoutPipe()
	if err != nil {
		return err
	}
	if err := e.child.Start(); err != nil {
		return fmt.Errorf("start the sink process: %w", err)
	}
	e.exited = make(chan error, 1)
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "ready "); ok {
				ready <- a
			}
		}
		e.exited <- e.child.Wait()
	}()
	select {
	case e.addr = <-ready:
		return nil
	case err := <-e.exited:
		e.exited <- err
		return fmt.Errorf("the sink process exited before serving: %v", err)
	case <-time.After(60 * time.Second):
		return fmt.Errorf("the sink process did not serve within 60s")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pid is the sink process's id.
func (e *runEnv) pid() int { return e.child.Process.Pid }

// close stops the sink process and deletes the run's topics.
func (e *runEnv) close() {
	if e.child != nil && e.child.Process != nil {
		e.child.Process.Signal(syscall.SIGTERM)
		select {
		case <-e.exited:
		case <-time.After(30 * time.Second):
			e.child.Process.Kill()
			<-e.exited
		}
	}
	if e.regSrv != nil {
		e.regSrv.Close()
	}
	if e.reg != nil {
		e.reg.Close()
	}
	if e.cl != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		kadm.NewClient(e.cl).DeleteTopics(ctx, e.topic, "_schemas_"+e.prefix)
		e.cl.Close()
	}
}
