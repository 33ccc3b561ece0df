package runtime

import (
	"context"
	"log/slog"
	"testing"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/connectors/kafka"
	"github.com/sluice-cdc/sluice/schema/record"
)

// fakeSink is a sink that records the stage it is given.
type fakeSink struct {
	stage  connectors.Stage
	staged int
}

func (s *fakeSink) Run(ctx context.Context, _ connectors.Kafka) error { return nil }

func (s *fakeSink) SetStage(st connectors.Stage) { s.stage, s.staged = st, s.staged+1 }

// plainSink is a sink that cannot take a stage.
type plainSink struct{}

func (plainSink) Run(ctx context.Context, _ connectors.Kafka) error { return nil }

// sinkClass is a sink class whose instances newSink makes.
func sinkClass(newSink func() connectors.Sink) *connectors.Class {
	return &connectors.Class{
		Name: "fake-sink", Kind: connectors.KindSink,
		Spec:    &conf.Spec{Prefixes: []string{"transforms", "predicates"}, Keys: []conf.Key{{Name: "connector.class", Type: conf.Class, Required: true}}},
		NewSink: func(*conf.Config, connectors.Env) (connectors.Sink, error) { return newSink(), nil },
	}
}

func parse(t *testing.T, class *connectors.Class, raw map[string]string) *conf.Config {
	t.Helper()
	cfg, err := class.Spec.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// The daemon plugs a sink's transforms into it as it does a source's: the
// sink gets the chain its transforms.* keys describe, nothing without
// them, and a sink that cannot apply transforms is refused.
func TestWorkersPlugTransformsIntoSinks(t *testing.T) {
	r := &Runtime{logger: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	sink := &fakeSink{}
	class := sinkClass(func() connectors.Sink { return sink })
	route := map[string]string{
		"connector.class": "fake-sink", "transforms": "route", "transforms.route.type": "RegexRouter",
		"transforms.route.regex": `cdc\.public\.(.*)`, "transforms.route.replacement": "$1",
	}
	if _, err := r.Workers(ctx, "c", class, parse(t, class, route), connectors.Env{}); err != nil {
		t.Fatal(err)
	}
	if sink.staged != 1 || sink.stage == nil {
		t.Fatalf("the sink was given a stage %d times (%v), want once", sink.staged, sink.stage)
	}
	if out, err := sink.stage.Apply(&record.Record{Topic: "cdc.public.orders"}); err != nil || out.Topic != "orders" {
		t.Errorf("the sink's stage routed cdc.public.orders to %v (%v), want orders", out, err)
	}

	sink = &fakeSink{}
	if _, err := r.Workers(ctx, "c", class, parse(t, class, map[string]string{"connector.class": "fake-sink"}), connectors.Env{}); err != nil || sink.staged != 0 {
		t.Errorf("without transforms: %v, stage given %d times, want none", err, sink.staged)
	}

	plain := sinkClass(func() connectors.Sink { return plainSink{} })
	_, err := r.Workers(ctx, "c", plain, parse(t, plain, route), connectors.Env{})
	if want := "connector class fake-sink does not apply transforms; remove the transforms keys"; err == nil || err.Error() != want {
		t.Errorf("a sink without stages: %v, want %q", err, want)
	}
}

// A connector takes the daemon's converter settings (Kafka Connect's
// worker key.converter and value.converter) for the converter keys it does
// not set, sinks as sources do.
func TestWorkersGiveConnectorsTheDaemonsConverters(t *testing.T) {
	r := &Runtime{logger: slog.New(slog.DiscardHandler), converters: map[string]string{
		"value.converter": kafka.JSONConverterClass, "value.converter.schemas.enable": "true", "key.converter": kafka.StringConverterClass,
	}}
	var got *conf.Config
	class := &connectors.Class{
		Name: "fake-sink", Kind: connectors.KindSink,
		Spec: &conf.Spec{Keys: append([]conf.Key{{Name: "connector.class", Type: conf.Class, Required: true}}, kafka.SinkConverterKeys...)},
		NewSink: func(cfg *conf.Config, _ connectors.Env) (connectors.Sink, error) {
			got = cfg
			return plainSink{}, nil
		},
	}
	ctx := context.Background()
	if _, err := r.Workers(ctx, "c", class, parse(t, class, map[string]string{"connector.class": "fake-sink"}), connectors.Env{}); err != nil {
		t.Fatal(err)
	}
	if c := kafka.SinkConvertersFrom(got); c.Key.Class != kafka.StringConverterClass || c.Value.Class != kafka.JSONConverterClass || !c.Value.SchemasEnable {
		t.Errorf("a sink setting no converter reads keys with %s and values with %s (schemas.enable %v); want the daemon's StringConverter and JsonConverter with schemas",
			c.Key.Class, c.Value.Class, c.Value.SchemasEnable)
	}
	own := map[string]string{"connector.class": "fake-sink", "value.converter": kafka.AvroConverterClass, "value.converter.schema.registry.url": "http://registry:8081"}
	if _, err := r.Workers(ctx, "c", class, parse(t, class, own), connectors.Env{}); err != nil {
		t.Fatal(err)
	}
	if c := kafka.SinkConvertersFrom(got); c.Key.Class != kafka.StringConverterClass || c.Value.Class != kafka.AvroConverterClass || c.Value.RegistryURL != "http://registry:8081" {
		t.Errorf("a sink with its own value converter reads keys with %s and values with %s from %q; want the daemon's key converter and its own Avro converter",
			c.Key.Class, c.Value.Class, c.Value.RegistryURL)
	}
}
