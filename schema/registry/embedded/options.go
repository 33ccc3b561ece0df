package embedded

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Option configures a Registry.
type Option func(*config)

type config struct {
	topic              string        // default "_schemas"
	replicationFactor  int16         // default 0: min(3, number of brokers)
	kafka              []kgo.Opt     // extra client options (TLS, SASL, …); default none
	basicUser          string        // default "": no basic auth
	basicPassword      string        // default ""
	bearerTokens       []string      // default none: no bearer auth
	maxBody            int64         // default 1 MiB
	writeTimeout       time.Duration // default 10s
	defaultLevel       Level         // default BACKWARD
	maxRegisterRetries int           // default 16
	log                *slog.Logger  // default slog.Default()
}

func defaultConfig() config {
	return config{
		topic:              "_schemas",
		maxBody:            1 << 20,
		writeTimeout:       10 * time.Second,
		defaultLevel:       LevelBackward,
		maxRegisterRetries: 16,
		log:                slog.Default(),
	}
}

func (c *config) validate() error {
	if c.topic == "" {
		return fmt.Errorf("schema registry topic must not be empty")
	}
	if c.maxBody <= 0 {
		return fmt.Errorf("schema registry max body size must be positive, got %d", c.maxBody)
	}
	if c.writeTimeout <= 0 {
		return fmt.Errorf("schema registry write timeout must be positive, got %s", c.writeTimeout)
	}
	return nil
}

// WithTopic sets the Kafka topic holding the registry's state. Default "_schemas". The
// topic's records are this registry's own format; do not share it with another registry
// implementation.
func WithTopic(topic string) Option { return func(c *config) { c.topic = topic } }

// WithReplicationFactor sets the replication factor used when the topic has to be created.
// Default: 3, or the number of brokers when there are fewer.
func WithReplicationFactor(rf int16) Option { return func(c *config) { c.replicationFactor = rf } }

// WithKafkaOptions adds franz-go client options (TLS, SASL, client id, …) to the client
// the registry reads and writes its topic with.
func WithKafkaOptions(opts ...kgo.Opt) Option {
	return func(c *config) { c.kafka = append(c.kafka, opts...) }
}

// WithBasicAuth requires credentials on every request, and accepts HTTP basic auth with
// this user and password. It combines with WithBearerTokens: either credential passes.
func WithBasicAuth(user, password string) Option {
	return func(c *config) { c.basicUser, c.basicPassword = user, password }
}

// WithBearerTokens requires credentials on every request, and accepts
// "Authorization: Bearer <token>" with any of tokens. Calls add to the tokens already given.
func WithBearerTokens(tokens ...string) Option {
	return func(c *config) { c.bearerTokens = append(c.bearerTokens, tokens...) }
}

// WithMaxBodyBytes limits request bodies; larger ones get 413. Default 1 MiB.
func WithMaxBodyBytes(n int64) Option { return func(c *config) { c.maxBody = n } }

// WithWriteTimeout bounds how long a write waits to be stored and read back. Default 10s.
func WithWriteTimeout(d time.Duration) Option { return func(c *config) { c.writeTimeout = d } }

// WithDefaultCompatibility sets the global level used until one is set with PUT /config.
// Default BACKWARD.
func WithDefaultCompatibility(l Level) Option { return func(c *config) { c.defaultLevel = l } }

// WithLogger sets the logger. Default slog.Default().
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }
