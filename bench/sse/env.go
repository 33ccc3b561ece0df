package main

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/registry"
	"github.com/sluice-cdc/sluice/schema/registry/embedded"
)

// benchTable is the table whose changes are streamed: id numbers the
// events (0 for the first, 1.. for the load), ts_ns holds the time the
// row was made in nanoseconds since the epoch, note is text.
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

// runEnv is one run's Kafka topic, registry, the feed writing the topic,
// and the sink child reading it.
type runEnv struct {
	prefix, topic string
	brokers       []string
	cl            *kgo.Client
	regSrv        *httptest.Server
	reg           *embedded.Registry
	rc            *registry.Client
	feed          feed
	child         *exec.Cmd
	exited        chan error
	addr          string
}

// newRunEnv sets a run up: the registry, the feed of o.source, its first
// event in the topic, and the sink process serving the stream after it.
// On error what was set up is removed.
func newRunEnv(ctx context.Context, o options) (e *runEnv, err error) {
	e = &runEnv{prefix: fmt.Sprintf("ssebench%d", time.Now().UnixNano()), brokers: strings.Split(o.brokers, ",")}
	e.topic = e.prefix + ".public.ticks"
	defer func() {
		if err != nil {
			e.close()
		}
	}()
	if e.reg, err = embedded.New(ctx, e.brokers, embedded.WithReplicationFactor(1), embedded.WithTopic(e.schemaTopic())); err != nil {
		return e, fmt.Errorf("start the schema registry: %w", err)
	}
	if err := e.reg.WaitReady(ctx); err != nil {
		return e, fmt.Errorf("wait for the schema registry: %w", err)
	}
	e.regSrv = httptest.NewServer(e.reg)
	if e.rc, err = registry.New(e.regSrv.URL); err != nil {
		return e, err
	}
	if e.cl, err = kgo.NewClient(kgo.SeedBrokers(e.brokers...)); err != nil {
		return e, fmt.Errorf("create Kafka client: %w", err)
	}
	switch o.source {
	case sourceKafka:
		e.feed, err = newKafkaFeed(e)
	case sourcePostgres:
		e.feed, err = newPGFeed(ctx, o, e)
	default:
		err = fmt.Errorf("unknown -source %q", o.source)
	}
	if err != nil {
		return e, err
	}
	// The first event creates the topic and registers the schemas before
	// the sink starts (it begins at the live end, after it).
	if err := e.feed.first(ctx); err != nil {
		return e, err
	}
	return e, e.startSink(ctx, o)
}

// schemaTopic is the topic of the run's registry.
func (e *runEnv) schemaTopic() string { return "_schemas_" + e.prefix }

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

// close stops the sink process and the feed and deletes the run's topics;
// failures are logged.
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
	if e.feed != nil {
		e.feed.close()
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
		if _, err := kadm.NewClient(e.cl).DeleteTopics(ctx, e.topic, e.schemaTopic()); err != nil {
			slog.Warn("delete topics", "topics", []string{e.topic, e.schemaTopic()}, "error", err)
		}
		e.cl.Close()
	}
}
