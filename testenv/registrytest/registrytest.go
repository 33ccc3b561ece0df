// Package registrytest runs sluice's embedded Confluent-compatible schema
// registry (schema/registry/embedded) for one test, on a Kafka cluster and a
// topic that the test chooses, and serves it over HTTP on loopback.
//
// It lives apart from testenv because the embedded registry's own tests
// import testenv. Start takes the brokers from the test (testenv.KafkaBrokers
// for the test Kafka, which skips or fails the test as testenv does when
// Kafka is missing, or an in-process cluster).
package registrytest

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/schema/registry"
	"github.com/sluice-cdc/sluice/schema/registry/embedded"
)

// readyWait bounds how long Start waits for the registry to read its topic.
const readyWait = 60 * time.Second

// Registry is an embedded registry served over HTTP for one test.
type Registry struct {
	// URL is the base URL the registry is served at, for a client of
	// sluice's or a daemon's configuration.
	URL string
	// Client is a registry client of URL.
	Client *registry.Client
}

// Start runs an embedded registry on the Kafka cluster at brokers that
// keeps its schemas in topic (created with replication factor 1 when
// missing), waits until it has read the topic to its end, and serves it on
// a loopback port. When the test ends the server closes and then the
// registry; the topic stays. It fails the test when the registry does not
// start or is not ready within 60 s.
func Start(t testing.TB, brokers []string, topic string) *Registry {
	t.Helper()
	emb, err := embedded.New(context.Background(), brokers, embedded.WithReplicationFactor(1), embedded.WithTopic(topic))
	if err != nil {
		t.Fatalf("registrytest: start the embedded registry on topic %s: %v", topic, err)
	}
	t.Cleanup(emb.Close)
	ctx, cancel := context.WithTimeout(context.Background(), readyWait)
	defer cancel()
	if err := emb.WaitReady(ctx); err != nil {
		t.Fatalf("registrytest: read registry topic %s: %v", topic, err)
	}
	srv := httptest.NewServer(emb)
	t.Cleanup(srv.Close)
	client, err := registry.New(srv.URL)
	if err != nil {
		t.Fatalf("registrytest: client of %s: %v", srv.URL, err)
	}
	return &Registry{URL: srv.URL, Client: client}
}
