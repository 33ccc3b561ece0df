package registrytest_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/sluice-cdc/sluice/testenv"
	"github.com/sluice-cdc/sluice/testenv/kafkatest"
	"github.com/sluice-cdc/sluice/testenv/registrytest"
)

// recordSchema is in the canonical form the registry keeps.
const recordSchema = `{"fields":[{"name":"id","type":"int"}],"name":"r","type":"record"}`

// TestStart registers a schema through the client, reads it over plain
// HTTP from URL, and reads it again from a second registry on the same
// topic: the schemas are kept in the test's topic on the test Kafka.
func TestStart(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	topic := testenv.Name(t, "_schemas")
	kafkatest.DeleteTopicsAtCleanup(t, brokers, func(name string) bool { return name == topic })
	ctx := context.Background()

	reg := registrytest.Start(t, brokers, topic)
	r, err := reg.Client.Register(ctx, "orders", false, recordSchema)
	if err != nil {
		t.Fatal(err)
	}
	if r.Subject != "orders-value" || r.ID < 1 {
		t.Fatalf("registration %+v, want subject orders-value and an id", r)
	}
	res, err := http.Get(reg.URL + "/subjects")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != 200 || string(body) != `["orders-value"]` {
		t.Errorf("GET /subjects: %d %s %v, want 200 [\"orders-value\"]", res.StatusCode, body, err)
	}

	again := registrytest.Start(t, brokers, topic)
	s, err := again.Client.Schema(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if s.Text != recordSchema {
		t.Errorf("schema %d from a second registry on %s: %s, want %s", r.ID, topic, s.Text, recordSchema)
	}
}
