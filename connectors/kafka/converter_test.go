package kafka_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/connectors/kafka"
	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/schema/event"
)

// With the JSON value converter and the string key converter, a change is
// Kafka Connect's {"schema","payload"} JSON keyed by the key's text, and a
// delete's tombstone keeps the key and a null value.
func TestWriterWritesThroughTheConverters(t *testing.T) {
	pc := kafka.ProducerConfig{Compression: "none", Partitions: 1, ReplicationFactor: -1}
	cl, rc := setup(t, pc)
	w := kafka.NewWriter(cl, rc, pc.Topics(cl), schema.Options{Prefix: "p", Connector: "postgresql"},
		kafka.WithConverters(kafka.StringConverter{}, kafka.NewJSONConverter(true, schema.ConnectJSON{})))
	created := change(event.OpCreate, 1, "a")
	created.TsMs, created.Source.TsUs, created.Source.Version, created.Source.DB = 1700000000123, 1700000000000_000, "1.0", "db"
	created.Source.Schema, created.Source.Table = "public", "t"
	ctx := context.Background()
	if err := w.Emit(ctx, connectors.Batch{Events: []*event.Event{created, change(event.OpDelete, 2, "b")}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	recs := consume(t, cl, "p.public.t", 3)
	row := `{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"string","optional":true,"field":"v"}],"optional":true,"name":"p.public.t.Value"`
	want := `{"schema":{"type":"struct","fields":[` + row + `,"field":"before"},` + row + `,"field":"after"},` +
		`{"type":"struct","fields":[{"type":"string","optional":false,"field":"version"},{"type":"string","optional":false,"field":"connector"},{"type":"string","optional":false,"field":"name"},{"type":"int64","optional":false,"field":"ts_ms"},` +
		`{"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,"parameters":{"allowed":"true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"},"default":"false","field":"snapshot"},` +
		`{"type":"string","optional":false,"field":"db"},{"type":"string","optional":true,"field":"sequence"},{"type":"int64","optional":true,"field":"ts_us"},{"type":"int64","optional":true,"field":"ts_ns"},` +
		`{"type":"string","optional":false,"field":"schema"},{"type":"string","optional":false,"field":"table"},{"type":"int64","optional":true,"field":"txId"},{"type":"int64","optional":true,"field":"lsn"},{"type":"int64","optional":true,"field":"xmin"},` +
		`{"type":"string","optional":true,"field":"origin"},{"type":"int64","optional":true,"field":"origin_lsn"}],"optional":false,"name":"io.debezium.connector.postgresql.Source","version":1,"field":"source"},` +
		`{"type":"struct","fields":[{"type":"string","optional":false,"field":"id"},{"type":"int64","optional":false,"field":"total_order"},{"type":"int64","optional":false,"field":"data_collection_order"}],"optional":true,"name":"event.block","version":1,"field":"transaction"},` +
		`{"type":"string","optional":false,"field":"op"},{"type":"int64","optional":true,"field":"ts_ms"},{"type":"int64","optional":true,"field":"ts_us"},{"type":"int64","optional":true,"field":"ts_ns"}],` +
		`"optional":false,"name":"p.public.t.Envelope","version":2},` +
		`"payload":{"before":null,"after":{"id":1,"v":"a"},"source":{"version":"1.0","connector":"postgresql","name":"p","ts_ms":1700000000000,"snapshot":"false","db":"db","sequence":null,"ts_us":1700000000000000,"ts_ns":1700000000000000000,"schema":"public","table":"t","txId":null,"lsn":null,"xmin":null,"origin":null,"origin_lsn":null},` +
		`"transaction":null,"op":"c","ts_ms":1700000000123,"ts_us":1700000000123000,"ts_ns":1700000000123000000}}`
	if string(recs[0].Key) != "Struct{id=1}" || string(recs[0].Value) != want {
		t.Errorf("the create:\nkey   %s\nvalue %s\nwant  %s", recs[0].Key, recs[0].Value, want)
	}
	if string(recs[1].Key) != "Struct{id=2}" || string(recs[2].Key) != "Struct{id=2}" || recs[2].Value != nil {
		t.Errorf("the delete and its tombstone: keys %s, %s; tombstone value %q", recs[1].Key, recs[2].Key, recs[2].Value)
	}
}

// A connector's converter keys it does not set come from the daemon's
// (Kafka Connect's worker settings), then from their defaults; a sink
// takes only the keys reading needs.
func TestConverterConfigFallsBackToTheWorker(t *testing.T) {
	spec := &conf.Spec{Keys: kafka.ConverterKeys}
	cfg, err := spec.Parse(map[string]string{"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.decimal.format": "NUMERIC"})
	if err != nil {
		t.Fatal(err)
	}
	worker := map[string]string{"key.converter": "string", "value.converter.schemas.enable": "false", "value.converter.decimal.format": "BASE64", "value.converter.auto.register.schemas": "false"}
	inherited, err := spec.Inherit(cfg, worker)
	if err != nil {
		t.Fatal(err)
	}
	key := kafka.ConverterConfigFrom(inherited, kafka.KeyConverterKey)
	value := kafka.ConverterConfigFrom(inherited, kafka.ValueConverterKey)
	if key.Class != kafka.StringConverterClass {
		t.Errorf("key converter %s, want the worker's %s", key.Class, kafka.StringConverterClass)
	}
	if value.Class != kafka.JSONConverterClass || value.SchemasEnable || !value.JSON.DecimalNumeric || value.JSON.KeepNulls {
		t.Errorf("value converter %+v: want JsonConverter, the worker's schemas.enable=false, the connector's NUMERIC decimals", value)
	}
	if avro := kafka.ConverterConfigFrom(cfg, kafka.KeyConverterKey); avro.Class != kafka.AvroConverterClass || avro.RegistryURL != "" || avro.RegistryOptions != nil {
		t.Errorf("default key converter %+v, want Avro with the daemon's registry", avro)
	}
	sinkSpec := &conf.Spec{Keys: kafka.SinkConverterKeys}
	sinkCfg, err := sinkSpec.Parse(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	sinkCfg, err = sinkSpec.Inherit(sinkCfg, worker)
	if err != nil {
		t.Fatal(err)
	}
	if got := kafka.SinkConvertersFrom(sinkCfg); got.Key.Class != kafka.StringConverterClass || got.Value.Class != "" || got.Value.RegistryURL != "" || sinkCfg.Given("value.converter.auto.register.schemas") {
		t.Errorf("a sink inheriting the worker's converters reads keys as %s and values as %q (auto.register.schemas given: %v); want StringConverter, the daemon's Avro (\"\") and no writer-only key",
			got.Key.Class, got.Value.Class, sinkCfg.Given("value.converter.auto.register.schemas"))
	}
	if _, err := spec.Parse(map[string]string{"value.converter": "org.apache.kafka.connect.storage.StringConverter"}); err == nil {
		t.Error("StringConverter accepted for values")
	}
}

// A sink whose converter keys say JsonConverter (and StringConverter for
// keys) reads what a source wrote with them back into the same change; a
// record another converter wrote is a bad record naming the converter and
// the offset.
func TestSinkReadsWhatTheConvertersWrote(t *testing.T) {
	pc := kafka.ProducerConfig{Compression: "none", Partitions: 1, ReplicationFactor: -1}
	cl, rc := setup(t, pc)
	ctx := context.Background()
	jsonWriter := kafka.NewWriter(cl, rc, pc.Topics(cl), schema.Options{Prefix: "j", Connector: "postgresql"},
		kafka.WithConverters(kafka.StringConverter{}, kafka.NewJSONConverter(true, schema.ConnectJSON{})))
	avroWriter := kafka.NewWriter(cl, rc, pc.Topics(cl), schema.Options{Prefix: "j", Connector: "postgresql"},
		kafka.WithTopicFunc(func(*event.Event) string { return "j.public.t" }))
	for _, w := range []*kafka.Writer{jsonWriter, avroWriter} {
		if err := w.Emit(ctx, connectors.Batch{Events: []*event.Event{change(event.OpUpdate, 7, "x")}}); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	recs := consume(t, cl, "j.public.t", 2)
	cfg, err := (&conf.Spec{Keys: kafka.SinkConverterKeys}).Parse(map[string]string{"key.converter": "string", "value.converter": "json"})
	if err != nil {
		t.Fatal(err)
	}
	dec := kafka.NewSinkDecoder(rc, nil, kafka.WithSinkConverters(kafka.SinkConvertersFrom(cfg)))
	var out kafka.SinkRecord
	if _, err := dec.Decode(ctx, recs[0], true, &out); err != nil {
		t.Fatal(err)
	}
	if out.Key != "Struct{id=7}" || out.Event == nil || out.Event.Op != event.OpUpdate || out.Event.After[0] != int32(7) || out.Event.After[1] != "x" ||
		out.Event.Source.Connector != "postgresql" || out.ValueSchema.Name != "j.public.t.Envelope" {
		t.Errorf("read back key %v, event %+v", out.Key, out.Event)
	}
	_, err = dec.Decode(ctx, recs[1], false, &out)
	var bad *kafka.BadRecordError
	if !errors.As(err, &bad) || !strings.Contains(err.Error(), "value of record j.public.t/0@1 cannot be read by org.apache.kafka.connect.json.JsonConverter") {
		t.Errorf("an Avro record read as JSON: %v", err)
	}
}

// consume reads the first n records of topic from the cluster cl produces to.
func consume(t *testing.T, cl *kgo.Client, topic string, n int) []*kgo.Record {
	t.Helper()
	consumer, err := kgo.NewClient(kgo.SeedBrokers(cl.OptValue(kgo.SeedBrokers).([]string)...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	var recs []*kgo.Record
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for len(recs) < n && ctx.Err() == nil {
		consumer.PollFetches(ctx).EachRecord(func(r *kgo.Record) { recs = append(recs, r) })
	}
	if len(recs) != n {
		t.Fatalf("%d records of %s, want %d", len(recs), topic, n)
	}
	return recs
}
