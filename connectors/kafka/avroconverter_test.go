package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/kafka"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/registry"
)

// scripted is a SchemaRegistrar answering each call with the next error of
// its script, and with id 7 once the script is used up.
type scripted struct {
	errs  []error
	calls int
}

func (s *scripted) Register(context.Context, string, bool, string) (registry.Registration, error) {
	s.calls++
	if s.calls <= len(s.errs) {
		return registry.Registration{}, s.errs[s.calls-1]
	}
	return registry.Registration{ID: 7}, nil
}

// While the registry is unavailable, the Avro converter tries again until
// it answers; a refusal is permanent at once; a wait ends with its context.
func TestAvroConverterWaitsForAnUnavailableRegistry(t *testing.T) {
	unavailable := fmt.Errorf("connect: connection refused: %w", registry.ErrUnavailable)
	s := &event.Schema{Type: event.Int32, Name: "n"}
	logger := slog.New(slog.DiscardHandler)

	reg := &scripted{errs: []error{unavailable, unavailable, unavailable}}
	enc, err := kafka.NewAvroConverter(reg, logger).Encoder(context.Background(), "t", false, s)
	if err != nil {
		t.Fatal(err)
	}
	frame, err := enc.Append(nil, int32(1))
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{0, 0, 0, 0, 7, 2}; string(frame) != string(want) || reg.calls != 4 {
		t.Fatalf("frame %v after %d calls, want %v after 4 (three refused as unavailable)", frame, reg.calls, want)
	}

	reg = &scripted{errs: []error{unavailable, fmt.Errorf("HTTP 409: %w", registry.ErrIncompatible)}}
	_, err = kafka.NewAvroConverter(reg, logger).Encoder(context.Background(), "t", false, s)
	if !errors.Is(err, connectors.ErrPermanent) || !errors.Is(err, registry.ErrIncompatible) || reg.calls != 2 {
		t.Fatalf("err %v after %d calls, want a permanent incompatible-schema error after 2", err, reg.calls)
	}

	reg = &scripted{errs: make([]error, 1000)}
	for i := range reg.errs {
		reg.errs[i] = unavailable
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err = kafka.NewAvroConverter(reg, logger).Encoder(ctx, "t", false, s)
	if took := time.Since(began); !errors.Is(err, registry.ErrUnavailable) || errors.Is(err, connectors.ErrPermanent) || took > 2*time.Second || reg.calls < 3 {
		t.Fatalf("err %v after %v and %d calls, want the unavailable registry's error, not permanent, once the context ended at 500ms", err, took, reg.calls)
	}
}
