// Package kafkaenv gives a source benchmark run its Kafka side: the
// table's topic, created beforehand with the broker's append time as
// record timestamps, and a schema registry of its own (embedded, served
// on a loopback port as an external registry would be); it counts the
// topic's records and removes both afterwards.
package kafkaenv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/schema/registry/embedded"
)

// Env is a run's topic and registry.
type Env struct {
	Brokers     []string
	Topic       string
	RegistryURL string

	kcl      *kgo.Client
	adm      *kadm.Client
	reg      *embedded.Registry
	srv      *http.Server
	regTopic string
}

// New creates topic (one partition, LogAppendTime, batches up to the
// 16 MiB a source's producer may send: producer.override.max.request.size's
// default) and starts a registry keeping its schemas in regTopic.
func New(ctx context.Context, brokers []string, topic, regTopic string) (e *Env, err error) {
	e = &Env{Brokers: brokers, Topic: topic, regTopic: regTopic}
	defer func() {
		if err != nil {
			e.Close()
		}
	}()
	if e.kcl, err = kgo.NewClient(kgo.SeedBrokers(brokers...)); err != nil {
		return nil, fmt.Errorf("create Kafka client: %w", err)
	}
	e.adm = kadm.NewClient(e.kcl)
	if err = e.CreateTopic(ctx, topic); err != nil {
		return nil, err
	}
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if e.reg, err = embedded.New(ctx, brokers, embedded.WithTopic(regTopic), embedded.WithLogger(quiet)); err != nil {
		return nil, fmt.Errorf("start the schema registry: %w", err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err = e.reg.WaitReady(wctx); err != nil {
		return nil, fmt.Errorf("start the schema registry: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the schema registry: %w", err)
	}
	e.srv = &http.Server{Handler: e.reg, ReadHeaderTimeout: 10 * time.Second}
	go e.srv.Serve(ln)
	e.RegistryURL = "http://" + ln.Addr().String()
	return e, nil
}

// CreateTopic creates topic as New creates the run's: one partition,
// LogAppendTime, batches up to 16 MiB. Close deletes it only when named.
func (e *Env) CreateTopic(ctx context.Context, topic string) error {
	appendTime, maxBytes := "LogAppendTime", "16777216"
	resp, err := e.adm.CreateTopic(ctx, 1, -1, map[string]*string{"message.timestamp.type": &appendTime, "max.message.bytes": &maxBytes}, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	return nil
}

// DeleteTopics deletes the topics named; one that does not exist (a
// source's schema-change topic never written) is no failure.
func (e *Env) DeleteTopics(ctx context.Context, topics ...string) error {
	resp, err := e.adm.DeleteTopics(ctx, topics...)
	if err != nil {
		return fmt.Errorf("delete topics: %w", err)
	}
	var errs []error
	for _, t := range resp.Sorted() {
		if t.Err != nil && !errors.Is(t.Err, kerr.UnknownTopicOrPartition) {
			errs = append(errs, fmt.Errorf("delete topic %s: %w", t.Topic, t.Err))
		}
	}
	return errors.Join(errs...)
}

// Records returns how many records the topic holds.
func (e *Env) Records(ctx context.Context) (int64, error) { return e.TopicRecords(ctx, e.Topic) }

// TopicRecords returns how many records topic holds, 0 while it does not
// exist (a topic that another writer creates with its first record).
func (e *Env) TopicRecords(ctx context.Context, topic string) (int64, error) {
	ends, err := e.adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("list end offsets of %s: %w", topic, err)
	}
	var n int64
	var perr error
	ends.Each(func(o kadm.ListedOffset) {
		if errors.Is(o.Err, kerr.UnknownTopicOrPartition) {
			return
		}
		if o.Err != nil {
			perr = fmt.Errorf("list end offset of %s[%d]: %w", o.Topic, o.Partition, o.Err)
		}
		n += o.Offset
	})
	return n, perr
}

// WaitRecords waits until topic holds at least want records and returns
// when that was seen (polled every 10 ms). It fails when failed reports an
// error (the writer stopped) or the count does not move for stall.
// progress, when set, is called every 5 s with the count and rate.
func (e *Env) WaitRecords(ctx context.Context, topic string, want int64, stall time.Duration, failed func() error, progress func(n, want int64, perSecond float64)) (time.Time, error) {
	last, lastMove := int64(-1), time.Now()
	reported, reportedAt := int64(0), time.Now()
	for {
		n, err := e.TopicRecords(ctx, topic)
		if err != nil {
			return time.Time{}, err
		}
		now := time.Now()
		if n >= want {
			return now, nil
		}
		if d := now.Sub(reportedAt); d >= 5*time.Second && progress != nil {
			progress(n, want, float64(n-reported)/d.Seconds())
			reported, reportedAt = n, now
		}
		if n != last {
			last, lastMove = n, now
		} else if now.Sub(lastMove) > stall {
			return time.Time{}, fmt.Errorf("topic %s: %d records of %d, no progress for %s", topic, n, want, stall)
		}
		if err := failed(); err != nil {
			return time.Time{}, err
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Close stops the registry and deletes the topic and the registry's topic,
// with any other topics named that exist.
func (e *Env) Close(others ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var errs []error
	if e.srv != nil {
		e.srv.Close()
	}
	if e.reg != nil {
		e.reg.Close()
	}
	if e.adm != nil {
		if err := e.DeleteTopics(ctx, append([]string{e.Topic, e.regTopic}, others...)...); err != nil {
			errs = append(errs, err)
		}
	}
	if e.kcl != nil {
		e.kcl.Close()
	}
	return errors.Join(errs...)
}
