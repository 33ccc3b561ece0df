package topictest_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/testenv"
	"github.com/sluice-cdc/sluice/testenv/kafkatest"
	"github.com/sluice-cdc/sluice/testenv/registrytest"
	"github.com/sluice-cdc/sluice/testenv/topictest"
)

// TestReadBack writes a create, a delete and its tombstone to a table's
// topic, framed with schemas registered in the registry, and a flattened
// row to another topic; the reader reads them back decoded, by count and
// to the topic's end, and a topic that does not exist has no records.
func TestReadBack(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	prefix := testenv.Name(t, "topictest")
	topic, flatTopic := prefix+".public.orders", prefix+".flat"
	kafkatest.DeleteTopicsAtCleanup(t, brokers, func(name string) bool { return strings.HasPrefix(name, prefix) })
	reg := registrytest.Start(t, brokers, prefix+"._schemas").Client
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(kafkatest.NewClient(t, brokers)).CreateTopics(ctx, 1, 1, nil, topic, flatTopic); err != nil {
		t.Fatal(err)
	}

	ts, err := schema.ForTable(&event.Table{
		ID: event.TableID{Database: "shop", Schema: "public", Table: "orders"},
		Columns: []event.Column{
			{Name: "id", Schema: &event.Schema{Type: event.Int64}},
			{Name: "note", Schema: &event.Schema{Type: event.String, Optional: true}},
		},
		Key: []int{0},
	}, schema.Options{Prefix: prefix, Connector: "postgresql"})
	if err != nil {
		t.Fatal(err)
	}
	flatJSON, err := schema.AvroJSON(ts.Value)
	if err != nil {
		t.Fatal(err)
	}
	id := func(topic string, isKey bool, text string) uint32 {
		r, err := reg.Register(ctx, topic, isKey, text)
		if err != nil {
			t.Fatal(err)
		}
		return uint32(r.ID)
	}
	keyID, envID, flatID := id(topic, true, ts.Key.AvroJSON()), id(topic, false, ts.Envelope.AvroJSON()), id(flatTopic, false, flatJSON)
	flatCodec, err := schema.NewCodec(ts.Value)
	if err != nil {
		t.Fatal(err)
	}
	// frame frames what appendBody appends with schema id.
	frame := func(id uint32, appendBody func([]byte) ([]byte, error)) []byte {
		b, err := appendBody(schema.AppendFrame(nil, id, nil))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	source := event.Source{Version: "v", Connector: "postgresql", Name: prefix, DB: "shop", Schema: "public", Table: "orders", LSN: 1}
	create := &event.Event{Op: event.OpCreate, After: event.Row{int64(1), "a"}, TsMs: 1, Source: source}
	del := &event.Event{Op: event.OpDelete, Before: event.Row{int64(1), "a"}, TsMs: 2, Source: source}
	key := frame(keyID, func(b []byte) ([]byte, error) { return ts.Key.Append(b, event.Row{int64(1)}) })
	envelope := func(e *event.Event) []byte {
		return frame(envID, func(b []byte) ([]byte, error) { return ts.Envelope.Append(b, e) })
	}
	producer := kafkatest.NewClient(t, brokers)
	if err := producer.ProduceSync(ctx,
		&kgo.Record{Topic: topic, Key: key, Value: envelope(create)},
		&kgo.Record{Topic: topic, Key: key, Value: envelope(del)},
		&kgo.Record{Topic: topic, Key: key},
		&kgo.Record{Topic: flatTopic, Value: frame(flatID, func(b []byte) ([]byte, error) { return flatCodec.Append(b, event.Row{int64(2), "b"}) })},
	).FirstErr(); err != nil {
		t.Fatal(err)
	}

	rd := topictest.NewReader(brokers, reg)
	check := func(how string, rs []topictest.Record) {
		t.Helper()
		if len(rs) != 3 {
			t.Fatalf("%s: %d records, want 3", how, len(rs))
		}
		for i, want := range []*event.Event{create, del, nil} {
			r := rs[i]
			k, e, err := r.Change()
			if err != nil {
				t.Fatalf("%s: record %d: %v", how, i, err)
			}
			if r.Raw.Topic != topic || r.Raw.Offset != int64(i) || !reflect.DeepEqual(k, event.Row{int64(1)}) {
				t.Errorf("%s: record %d: %s@%d key %v, want %s@%d key [1]", how, i, r.Raw.Topic, r.Raw.Offset, k, topic, i)
			}
			if want == nil {
				if e != nil || r.RowSchema() != nil {
					t.Errorf("%s: record %d: %+v, want a tombstone", how, i, e)
				}
				continue
			}
			if e == nil || e.Op != want.Op || e.Source != want.Source || e.TsMs != want.TsMs ||
				!reflect.DeepEqual(e.Before, want.Before) || !reflect.DeepEqual(e.After, want.After) {
				t.Errorf("%s: record %d: %+v, want %+v", how, i, e, want)
			}
			if s := r.RowSchema(); s == nil || s.Name != ts.Value.Name {
				t.Errorf("%s: record %d: row schema %v, want %s", how, i, s, ts.Value.Name)
			}
		}
	}
	check("Read", rd.Read(t, topic, 3, nil))
	check("ReadAll", rd.ReadAll(t, topic, nil))

	flat := rd.ReadAll(t, flatTopic, nil)
	if len(flat) != 1 || !reflect.DeepEqual(flat[0].Value, event.Row{int64(2), "b"}) || flat[0].Event != nil || flat[0].RowSchema() != nil {
		t.Fatalf("flattened row: %+v", flat)
	}
	if _, _, err := flat[0].Change(); err == nil || !strings.Contains(err.Error(), "not a Debezium envelope") {
		t.Errorf("Change of a flattened row: %v, want not a Debezium envelope", err)
	}

	if rs := rd.ReadAll(t, prefix+".missing", nil); rs != nil {
		t.Errorf("a topic that does not exist: %d records", len(rs))
	}
}
