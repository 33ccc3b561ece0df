package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/testenv"
	"github.com/sluice-cdc/sluice/testenv/kafkatest"
)

// The orders table of the transform tests, and its rows before the
// source starts (snapshotted).
const (
	ordersTable = `CREATE TABLE orders (id int PRIMARY KEY, customer text NOT NULL, status text NOT NULL, total numeric(10,2))`
	ordersRows  = `INSERT INTO orders VALUES (1, 'ada', 'paid', 10.50), (2, 'grace', 'paid', 99.99), (3, 'edsger', 'paid', 0.01)`
)

// withOrders adds the orders table (and the tables of more) to the
// pipeline's database, with the snapshotted rows; the topics of the
// database's tables and the indices named are removed after the test.
func (p *pipeline) withOrders(indices []string, more ...string) {
	p.t.Helper()
	p.exec(append([]string{ordersTable, ordersRows}, more...)...)
	kafkatest.DeleteTopicsAtCleanup(p.t, p.brokers, func(topic string) bool { return strings.HasPrefix(topic, p.pg.Name+".") })
	p.t.Cleanup(func() {
		for _, index := range indices {
			esRequest(p.t, p.esURL, "DELETE", "/"+index, "")
		}
	})
}

// waitDocs waits until index holds exactly want (documents by id, as
// read transforms them) and the sink's group has committed every record of
// topics, failing with what the index holds after 60 s.
func (p *pipeline) waitDocs(sink *running, index string, want map[string]string, read func(string) map[string]string, topics ...string) {
	p.t.Helper()
	adm := kadm.NewClient(p.cl)
	var got map[string]string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		p.checkSource()
		select {
		case err := <-sink.done:
			p.t.Fatalf("sink %s stopped: %v", sink.name, err)
		default:
		}
		if got = read(index); !maps.Equal(got, want) {
			continue
		}
		committed := true
		for _, topic := range topics {
			committed = committed && committedAll(context.Background(), adm, topic, GroupID(sink.name))
		}
		if committed {
			return
		}
	}
	p.t.Fatalf("index %s holds\n%v\nwant\n%v\n(or the group has not committed %v)", index, got, want, topics)
}

// A RegexRouter on the sink chooses the index, as with Confluent's sink:
// <db>.public.orders is indexed into orders-<db>, and the documents equal
// the table's rows through the snapshot, inserts, updates and deletes.
func TestRegexRouterChoosesTheIndex(t *testing.T) {
	p := newPipeline(t)
	topic, index := p.pg.Name+".public.orders", "orders-"+p.pg.Name
	p.withOrders([]string{index, topic})
	p.startSource(p.pg.Name + "_route")
	sink := p.startSink(testenv.Name(t, "route"), p.esURL, map[string]string{
		"topics":     topic,
		"transforms": "route", "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
		"transforms.route.regex": `([^.]+)\.public\.(.*)`, "transforms.route.replacement": "$2-$1",
	})
	p.exec(
		"INSERT INTO orders VALUES (4, 'barbara', 'paid', 42.00)",
		"UPDATE orders SET total = 11.00, customer = 'ada l.' WHERE id = 1",
		"DELETE FROM orders WHERE id = 2",
	)
	p.waitDocs(sink, index, map[string]string{
		"1": `{"customer":"ada l.","id":1,"status":"paid","total":11.00}`,
		"3": `{"customer":"edsger","id":3,"status":"paid","total":0.01}`,
		"4": `{"customer":"barbara","id":4,"status":"paid","total":42.00}`,
	}, p.docsOf, topic)
	if status, body := p.es("GET", "/"+topic, ""); status != 404 {
		t.Errorf("the topic's own index exists: %d %s", status, body)
	}
}

// ExtractNewRecordState on the sink indexes flattened rows (versioned by
// their __lsn, deleted when __deleted is "true"); a Filter with a
// TopicNameMatches predicate drops one table's records and an
// ExpressionFilter drops drafts, and the offsets of dropped records are
// committed all the same.
func TestUnwrappedAndFilteredRecordsIndexFlattenedRows(t *testing.T) {
	p := newPipeline(t)
	orders, audit := p.pg.Name+".public.orders", p.pg.Name+".public.audit"
	p.withOrders([]string{orders, audit}, "CREATE TABLE audit (id int PRIMARY KEY, note text)", "INSERT INTO audit VALUES (1, 'snapshotted')")
	p.startSource(p.pg.Name + "_unwrap")
	sink := p.startSink(testenv.Name(t, "unwrap"), p.esURL, map[string]string{
		"topics":                                           orders + "," + audit,
		"transforms":                                       "skipAudit,noDrafts,unwrap",
		"transforms.skipAudit.type":                        "org.apache.kafka.connect.transforms.Filter",
		"transforms.skipAudit.predicate":                   "isAudit",
		"predicates":                                       "isAudit",
		"predicates.isAudit.type":                          "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
		"predicates.isAudit.pattern":                       `.*\.public\.audit`,
		"transforms.noDrafts.type":                         "io.sluice.transforms.Filter",
		"transforms.noDrafts.condition":                    `after.status == "draft"`,
		"transforms.noDrafts.action":                       "drop",
		"transforms.unwrap.type":                           "io.debezium.transforms.ExtractNewRecordState",
		"transforms.unwrap.delete.tombstone.handling.mode": "rewrite",
		"transforms.unwrap.add.fields":                     "op,lsn",
	})
	p.exec(
		"INSERT INTO orders VALUES (4, 'barbara', 'paid', 42.00), (5, 'alan', 'draft', 1.00)",
		"UPDATE orders SET total = 11.00 WHERE id = 1",
		"DELETE FROM orders WHERE id = 3",
		"INSERT INTO audit VALUES (2, 'streamed')",
	)
	p.waitDocs(sink, orders, map[string]string{
		"1": `{"__deleted":"false","__op":"u","customer":"ada","id":1,"status":"paid","total":11.00}`,
		"2": `{"__deleted":"false","__op":"r","customer":"grace","id":2,"status":"paid","total":99.99}`,
		"4": `{"__deleted":"false","__op":"c","customer":"barbara","id":4,"status":"paid","total":42.00}`,
	}, p.lsnDocs, orders, audit)
	if status, body := p.es("GET", "/"+audit, ""); status != 404 {
		t.Errorf("the filtered table has an index: %d %s", status, body)
	}
}

// lsnDocs returns the documents of index as docsOf does, each without its
// __lsn field, after checking that __lsn is a positive integer and the
// document's version the one it gives (flattened rows are versioned by it).
func (p *pipeline) lsnDocs(index string) map[string]string {
	p.t.Helper()
	out := map[string]string{}
	for _, d := range indexDocs(p.t, p.esURL, index) {
		lsn, err := strconv.ParseUint(fmt.Sprint(d.source["__lsn"]), 10, 64)
		if err != nil || lsn == 0 || d.version != version(lsn, 0) {
			p.t.Fatalf("document %s: __lsn %v, version %d; want a positive LSN and the version it gives", d.id, d.source["__lsn"], d.version)
		}
		delete(d.source, "__lsn")
		src, _ := json.Marshal(d.source)
		out[d.id] = string(src)
	}
	return out
}

// castV unwraps the harness's envelopes and casts v to int32, which fails
// on a v that is not a number.
var castV = map[string]string{
	"transforms":             "unwrap,cast",
	"transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
	"transforms.cast.type":   "org.apache.kafka.connect.transforms.Cast$Value",
	"transforms.cast.spec":   "v:int32",
}

// A record a transform fails on follows errors.tolerance: with all, it goes
// to the dead-letter topic unchanged, with the stage TRANSFORMATION in
// Kafka Connect's headers, and the others are indexed; with none, the sink
// fails permanently naming the record, having committed only what came
// before it.
func TestTransformFailureGoesToDeadLetterTopicOrFailsTheSink(t *testing.T) {
	h := newHarness(t)
	dlq := testenv.Name(t, "dlq")
	kafkatest.DeleteTopicsAtCleanup(t, h.brokers, func(topic string) bool { return topic == dlq })
	h.produce(
		change(event.OpCreate, 0x1000, 0, 1, "5", ""),
		change(event.OpCreate, 0x1000, 1, 2, "not a number", ""),
		change(event.OpCreate, 0x1000, 2, 3, "7", ""),
	)
	const reason = `transform cast: cast field "v": value (not a number) was out of range for requested data type int32`
	m := h.runWith("tolerant", h.config(h.esURL, map[string]string{"errors.tolerance": "all", "errors.deadletterqueue.topic.name": dlq}), castV)
	want := []string{`1 v1 {"big":"","id":1,"v":5}`, `3 v1 {"big":"","id":3,"v":7}`}
	if got := h.docs(); !slices.Equal(got, want) {
		t.Fatalf("index:\n got %q\nwant %q", got, want)
	}
	if n := counter(m, "sluice_es_dead_letter_records_total"); n != 1 {
		t.Errorf("dead-letter records = %d, want 1", n)
	}
	original := h.read(h.topic, 3)[1]
	dead := h.read(dlq, 1)[0]
	headers := map[string]string{}
	for _, hd := range dead.Headers {
		headers[hd.Key] = string(hd.Value)
	}
	wantHeaders := map[string]string{
		"__connect.errors.topic": h.topic, "__connect.errors.partition": "0", "__connect.errors.offset": "1",
		"__connect.errors.connector.name": "tolerant", "__connect.errors.task.id": "0",
		"__connect.errors.stage": "TRANSFORMATION", "__connect.errors.exception.class.name": "sluice.TransformError",
		"__connect.errors.exception.message": reason,
	}
	if !maps.Equal(headers, wantHeaders) {
		t.Errorf("dead-letter headers:\n got %q\nwant %q", headers, wantHeaders)
	}
	if !bytes.Equal(dead.Key, original.Key) || !bytes.Equal(dead.Value, original.Value) {
		t.Errorf("the dead-letter record is not the consumed one: key %x value %x, want %x %x", dead.Key, dead.Value, original.Key, original.Value)
	}

	// errors.tolerance=none (the default) fails the sink at that record.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sink := New(h.config(h.esURL, nil), connectors.Env{Name: "strict"})
	setTransforms(t, sink, castV)
	err := sink.Run(ctx, connectors.Kafka{Brokers: h.brokers, Registry: h.reg})
	if wantErr := fmt.Sprintf("record %s/0@1: sluice.TransformError: %s (errors.tolerance=none)", h.topic, reason); err == nil ||
		!errors.Is(err, connectors.ErrPermanent) || !strings.HasPrefix(err.Error(), wantErr) {
		t.Fatalf("Run returned %v, want a permanent failure %q", err, wantErr)
	}
	committed, err := kadm.NewClient(h.cl).FetchOffsets(ctx, GroupID("strict"))
	if o, ok := committed.Lookup(h.topic, 0); err != nil || !ok || o.At != 1 {
		t.Errorf("the failed sink committed %+v (%v), want offset 1: the record before the failing one", o, err)
	}
}

// read returns the first n records of a topic.
func (h *harness) read(topic string, n int) []*kgo.Record {
	h.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(h.brokers...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		h.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) < n && ctx.Err() == nil {
		recs = append(recs, cl.PollRecords(ctx, n-len(recs)).Records()...)
	}
	if len(recs) < n {
		h.t.Fatalf("topic %s has %d records, want %d", topic, len(recs), n)
	}
	return recs
}
