package embedded

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/internal/httpauth"
)

// Registry is an embedded Confluent-compatible Schema Registry. It implements http.Handler;
// mount it at the root of a listener (Confluent clients expect /subjects, /schemas, … at the
// root of the registry URL). Safe for concurrent use.
type Registry struct {
	cfg   config
	auth  *httpauth.Credentials
	cl    *kgo.Client
	store *store
	mux   *http.ServeMux

	mu sync.RWMutex // guards st; written only by the store's reader goroutine
	st *state

	ready   chan struct{} // closed once the topic has been read to its end
	readyMu sync.Mutex
	readErr error // why the initial read failed, if it did

	cancel context.CancelFunc
	done   chan struct{}
}

var _ http.Handler = (*Registry)(nil)

// New connects to the Kafka cluster at brokers, creates the state topic if it is missing, and
// starts reading it in the background. The registry answers 503 until it has read the topic
// to its end (see Ready and WaitReady). Its goroutine stops when ctx ends or Close is called.
func New(ctx context.Context, brokers []string, opts ...Option) (*Registry, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	level, ok := parseLevel(string(cfg.defaultLevel))
	if !ok {
		return nil, fmt.Errorf("schema registry default compatibility %q is not a compatibility level", cfg.defaultLevel)
	}
	cfg.defaultLevel = level
	// The topic must exist before the reading client starts, or its first fetches back off.
	// A short metadata age lets a just-created topic be seen without waiting the default 5s.
	admCl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...), kgo.MetadataMinAge(10 * time.Millisecond)}, cfg.kafka...)...)
	if err != nil {
		return nil, fmt.Errorf("create Kafka client for schema topic %q: %w", cfg.topic, err)
	}
	err = ensureTopic(ctx, kadm.NewClient(admCl), cfg.topic, cfg.replicationFactor)
	admCl.Close()
	if err != nil {
		return nil, err
	}
	kopts := append([]kgo.Opt{
		kgo.SeedBrokers(brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{cfg.topic: {0: kgo.NewOffset().AtStart()}}),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(0),
	}, cfg.kafka...)
	cl, err := kgo.NewClient(kopts...)
	if err != nil {
		return nil, fmt.Errorf("create Kafka client for schema topic %q: %w", cfg.topic, err)
	}
	r := &Registry{
		cfg:   cfg,
		auth:  httpauth.New(cfg.basicUser, cfg.basicPassword, cfg.bearerTokens...),
		cl:    cl,
		st:    newState(cfg.defaultLevel),
		ready: make(chan struct{}),
		done:  make(chan struct{}),
	}
	r.store = newStore(cl, cfg.topic, cfg.log, r.apply)
	r.mux = r.routes()

	runCtx, cancel := context.WithCancel(ctx)
	r.cancel = cancel
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		r.store.run(runCtx)
	}()
	go func() {
		defer wg.Done()
		if err := r.initialRead(runCtx); err != nil {
			r.readyMu.Lock()
			r.readErr = err
			r.readyMu.Unlock()
			return
		}
		close(r.ready)
	}()
	go func() {
		wg.Wait()
		close(r.done)
	}()
	return r, nil
}

// initialRead reads the topic up to its end offset, retrying while the cluster cannot
// answer, until ctx ends.
func (r *Registry) initialRead(ctx context.Context) error {
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		err := r.store.catchUp(ctx)
		if err == nil || ctx.Err() != nil {
			return err
		}
		r.cfg.log.Warn("schema registry could not read its topic to the end yet, retrying", "topic", r.cfg.topic, "error", err)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return err
		}
	}
}

func (r *Registry) apply(c command) outcome {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.st.apply(c)
}

// Ready reports whether the registry has read its topic to the end and serves requests.
func (r *Registry) Ready() bool {
	select {
	case <-r.ready:
		return true
	default:
		return false
	}
}

// WaitReady blocks until the registry is ready, its initial read failed, or ctx ends.
func (r *Registry) WaitReady(ctx context.Context) error {
	select {
	case <-r.ready:
		return nil
	case <-r.done:
		r.readyMu.Lock()
		defer r.readyMu.Unlock()
		if r.readErr != nil {
			return r.readErr
		}
		return fmt.Errorf("schema registry on topic %q stopped before it was ready", r.cfg.topic)
	case <-ctx.Done():
		return fmt.Errorf("wait for schema registry on topic %q: %w", r.cfg.topic, ctx.Err())
	}
}

// Close stops reading the topic and closes the Kafka client. Requests served after Close
// that need to write fail.
func (r *Registry) Close() {
	r.cancel()
	<-r.done
	r.cl.Close()
}

// ServeHTTP answers one request of Confluent's Schema Registry API.
func (r *Registry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if !r.authorized(req) {
		w.Header().Set("WWW-Authenticate", r.auth.Challenge("schema-registry"))
		writeError(w, newAPIError(http.StatusUnauthorized, codeUnauthorized, "Unauthorized"))
		return
	}
	if !r.Ready() {
		writeError(w, newAPIError(http.StatusServiceUnavailable, codeServiceUnavailable,
			"Schema registry is still reading its state from topic '%s'", r.cfg.topic))
		return
	}
	r.mux.ServeHTTP(w, req)
}
