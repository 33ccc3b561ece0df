// Package runtime builds what runs connectors inside the daemon: the Kafka
// cluster connection (or the embedded single-node broker), the Schema
// Registry client (or the embedded registry), and the workers that run a
// source connector into Kafka or a sink connector from it, each with its
// transforms plugged in.
package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/connectors/kafka"
	"github.com/sluice-cdc/sluice/connectors/metrics"
	"github.com/sluice-cdc/sluice/daemon"
	"github.com/sluice-cdc/sluice/daemon/config"
	"github.com/sluice-cdc/sluice/schema/registry"
	"github.com/sluice-cdc/sluice/schema/registry/embedded"
	"github.com/sluice-cdc/sluice/transforms"
)

// Runtime holds the daemon's connections to Kafka and the Schema Registry.
// Its Workers method is the daemon's WorkerFactory; Close releases what New
// started, once every worker has returned.
type Runtime struct {
	logger    *slog.Logger
	brokers   []string
	kafkaOpts []kgo.Opt // SASL and TLS
	registry  *registry.Client
	// converters are the daemon's converter settings as connector keys,
	// for every connector that does not set them itself.
	converters map[string]string
	metrics    *metrics.Registry
	sse        *router
	closers    []func() error
}

// New connects the runtime as d says: an external Kafka cluster or the
// embedded broker (persisted under state.dir, every write synced), and an
// external registry or the embedded one (which then serves on
// registry.listen and keeps its schemas in the _schemas topic).
func New(ctx context.Context, d *config.Daemon, logger *slog.Logger, m *metrics.Registry) (r *Runtime, err error) {
	r = &Runtime{logger: logger, metrics: m, sse: newRouter(d.SSE, logger)}
	if _, ps := d.Converters(); ps != nil {
		return nil, ps
	}
	r.converters = d.ConverterSettings()
	r.closers = append(r.closers, r.sse.close)
	rt := r // r is nil once an error is returned
	defer func() {
		if err != nil {
			rt.Close()
		}
	}()
	if addr := d.EmbeddedKafka(); addr != "" {
		if r.brokers, err = r.startBroker(addr, filepath.Join(d.StateDir, "kafka")); err != nil {
			return nil, err
		}
	} else {
		r.brokers = conf.SplitList(d.Kafka.BootstrapServers)
		if r.kafkaOpts, err = clientOpts(d.Kafka); err != nil {
			return nil, err
		}
	}
	url := d.SchemaRegistry.URL
	if addr := d.EmbeddedRegistry(); addr != "" {
		served, err := r.startRegistry(ctx, addr, d)
		if err != nil {
			return nil, err
		}
		if url == "" {
			url = served
		}
	}
	var opts []registry.Option
	switch a := d.REST.Auth; {
	case d.SchemaRegistry.User != "":
		opts = append(opts, registry.WithBasicAuth(d.SchemaRegistry.User, d.SchemaRegistry.Password))
	case d.EmbeddedRegistry() == "" || a == nil:
	// The embedded registry asks for the REST API's credentials.
	case a.User != "":
		opts = append(opts, registry.WithBasicAuth(a.User, a.Password))
	default:
		opts = append(opts, registry.WithBearerToken(a.Tokens[0]))
	}
	if t := d.SchemaRegistry.TLS; t != nil && t.Enabled {
		opts = append(opts, registry.WithTLS(registry.TLSConfig{CAFile: t.CAFile, CertFile: t.CertFile, KeyFile: t.KeyFile, InsecureSkipVerify: t.InsecureSkipVerify}))
	}
	if r.registry, err = registry.New(url, opts...); err != nil {
		return nil, fmt.Errorf("schema registry: %w", err)
	}
	return r, nil
}

// startBroker starts the embedded single-node broker on addr.
func (r *Runtime) startBroker(addr, dir string) ([]string, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("kafka.embedded.listen %q: %w", addr, err)
	}
	port, _ := strconv.Atoi(portText)
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port), kfake.DataDir(dir), kfake.SyncWrites(),
		kfake.AllowAutoTopicCreation(),
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			return net.Listen(network, net.JoinHostPort(host, portText))
		}))
	if err != nil {
		return nil, fmt.Errorf("start the embedded Kafka broker on %s: %w", addr, err)
	}
	r.closers = append(r.closers, func() error { cluster.Close(); return nil })
	r.logger.Warn("no Kafka cluster configured: serving an embedded single-node Kafka broker; this mode is for development and single-node sidecars",
		"listen", cluster.ListenAddrs(), "data", dir)
	return cluster.ListenAddrs(), nil
}

// startRegistry serves the embedded registry on addr and returns its URL.
func (r *Runtime) startRegistry(ctx context.Context, addr string, d *config.Daemon) (string, error) {
	opts := []embedded.Option{embedded.WithKafkaOptions(r.kafkaOpts...), embedded.WithLogger(r.logger)}
	if d.EmbeddedKafka() != "" {
		opts = append(opts, embedded.WithReplicationFactor(1))
	}
	if a := d.REST.Auth; a != nil {
		opts = append(opts, embedded.WithBasicAuth(a.User, a.Password), embedded.WithBearerTokens(a.Tokens...))
	}
	reg, err := embedded.New(ctx, r.brokers, opts...)
	if err != nil {
		return "", fmt.Errorf("start the embedded schema registry: %w", err)
	}
	r.closers = append(r.closers, func() error { reg.Close(); return nil })
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("listen on registry.listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: reg, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	go srv.Serve(ln)
	r.closers = append(r.closers, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(ctx)
	})
	if err := reg.WaitReady(ctx); err != nil {
		return "", fmt.Errorf("embedded schema registry: %w", err)
	}
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	url := "http://" + net.JoinHostPort(host, port)
	r.logger.Info("embedded schema registry serving", "url", url)
	return url, nil
}

// Workers builds the worker of one connector: for a source, the source
// itself writing to Kafka through its own producing client; for a sink, the
// sink reading from Kafka. The connector's transforms (transforms.Build)
// wrap the source's way into Kafka, or the sink's way out of it.
func (r *Runtime) Workers(_ context.Context, name string, class *connectors.Class, cfg *conf.Config, env connectors.Env) (daemon.Worker, error) {
	env.Metrics, env.SSE = r.metrics, r.sse
	if env.Logger == nil {
		env.Logger = r.logger.With("connector", name)
	}
	chain, ps := transforms.Build(cfg.Raw())
	if ps != nil {
		return nil, connectors.Permanent(ps)
	}
	cfg, err := class.Spec.Inherit(cfg, r.converters)
	if err != nil {
		return nil, connectors.Permanent(fmt.Errorf("with the daemon's converter settings: %w", err))
	}
	if class.Kind == connectors.KindSink && class.NewSink != nil {
		sink, err := class.NewSink(cfg, env)
		if err != nil {
			return nil, connectors.Permanent(err)
		}
		if chain != nil {
			staged, ok := sink.(stagedSink)
			if !ok {
				return nil, connectors.Permanent(fmt.Errorf("connector class %s does not apply transforms; remove the transforms keys", class.Name))
			}
			staged.SetStage(chain)
		}
		return &sinkWorker{rt: r, sink: sink, hooks: topicHooks("sink", env.RecordTopic)}, nil
	}
	if class.Kind != connectors.KindSource || class.NewSource == nil {
		return nil, connectors.Permanent(fmt.Errorf("connector class %s has no runtime in this build", class.Name))
	}
	if class.Output == nil {
		return nil, connectors.Permanent(fmt.Errorf("source class %s declares no Output: its topic prefix and tombstones setting are unknown", class.Name))
	}
	src, err := class.NewSource(cfg, env)
	if err != nil {
		return nil, connectors.Permanent(err)
	}
	w := &sourceWorker{rt: r, class: class, cfg: cfg, src: src, logger: env.Logger, hooks: topicHooks("source", env.RecordTopic)}
	if chain != nil {
		w.stage = chain
	}
	return w, nil
}

// stagedSink is a sink that passes the records it consumes through a stage
// after decoding them: the daemon plugs the connector's transforms in
// there, before Run.
type stagedSink interface {
	SetStage(connectors.Stage)
}

// Close stops the embedded registry and broker, if any.
func (r *Runtime) Close() error {
	var errs []error
	for i := len(r.closers) - 1; i >= 0; i-- {
		errs = append(errs, r.closers[i]())
	}
	r.closers = nil
	return errors.Join(errs...)
}

// sourceWorker runs one source into Kafka.
type sourceWorker struct {
	rt     *Runtime
	class  *connectors.Class
	cfg    *conf.Config
	src    connectors.Source
	stage  connectors.Stage // the connector's transforms; nil when it has none
	logger *slog.Logger
	hooks  []kgo.Opt // record the topics written to
}

// Run produces with a client of its own, so that one connector's buffer
// and failures never touch another's.
func (w *sourceWorker) Run(ctx context.Context) error {
	opts := append(kafka.SourceClientOpts(w.cfg), kgo.SeedBrokers(w.rt.brokers...))
	client, err := kgo.NewClient(append(append(opts, w.rt.kafkaOpts...), w.hooks...)...)
	if err != nil {
		return fmt.Errorf("create Kafka client: %w", err)
	}
	defer client.Close()
	return kafkaAccess(w.src.Run(ctx, kafka.NewSourceWriter(client, w.rt.registry, w.class, w.cfg,
		kafka.WithLogger(w.logger), kafka.WithStage(w.stage))))
}

// sinkWorker runs one sink from Kafka.
type sinkWorker struct {
	rt    *Runtime
	sink  connectors.Sink
	hooks []kgo.Opt // record the topics fetched from
}

func (w *sinkWorker) Run(ctx context.Context) error {
	opts := append(slices.Clone(w.rt.kafkaOpts), w.hooks...)
	// A consumer group retries refused credentials without a word: one
	// request first turns them into a FAILED status.
	if err := ping(ctx, w.rt.brokers, w.rt.kafkaOpts); err != nil {
		return kafkaAccess(err)
	}
	return kafkaAccess(w.sink.Run(ctx, connectors.Kafka{Brokers: w.rt.brokers, Opts: opts, Registry: w.rt.registry}))
}

// clientOpts turns the daemon's Kafka security settings into client options.
func clientOpts(k config.Kafka) ([]kgo.Opt, error) {
	var opts []kgo.Opt
	if k.TLS != nil && k.TLS.Enabled {
		tc, err := tlsConfig(k.TLS)
		if err != nil {
			return nil, fmt.Errorf("kafka.tls: %w", err)
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	if k.SASL != nil {
		m, err := saslMechanism(k.SASL)
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.SASL(m))
	}
	return opts, nil
}

// mechanismName normalises a SASL mechanism name.
func mechanismName(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }
