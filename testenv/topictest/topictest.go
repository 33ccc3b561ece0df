// Package topictest reads topics back from their start in integration
// tests, each record's key and value decoded by the production
// kafka.Decoder with the schemas of a registry: what a source wrote, as a
// consumer of its topics sees it.
//
// It lives apart from kafkatest so that kafkatest stays free of sluice's
// own packages: tests inside connectors/kafka and the packages it builds on
// can use kafkatest, not this package.
package topictest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors/kafka"
	"github.com/sluice-cdc/sluice/schema/event"
)

// Wait bounds how long a read waits for the records it expects without
// any record arriving: a long topic read back takes as long as it needs
// while records keep coming, up to 20 times Wait.
const Wait = 30 * time.Second

// pollWait bounds one poll, so that alive and done are asked at least
// this often.
const pollWait = 500 * time.Millisecond

// Record is a record read back: the record as consumed and, unless it was
// read raw, its key and value decoded.
type Record struct {
	// Raw is the record as consumed: topic, partition, offset and the
	// framed key and value.
	Raw *kgo.Record
	kafka.Decoded
}

// Change returns the key row and the change of a record a source wrote to
// a table's topic: a nil key for a null key, a nil change for a tombstone.
// A key that is not a struct, or a value that is not a Debezium envelope,
// is an error.
func (r Record) Change() (event.Row, *event.Event, error) {
	key, ok := r.Key.(event.Row)
	if r.Key != nil && !ok {
		return nil, nil, fmt.Errorf("key of %s@%d: a %T, not a row", r.Raw.Topic, r.Raw.Offset, r.Key)
	}
	if r.Value != nil && r.Event == nil {
		return nil, nil, fmt.Errorf("value of %s@%d: schema %s is not a Debezium envelope", r.Raw.Topic, r.Raw.Offset, r.ValueSchema.Name)
	}
	return key, r.Event, nil
}

// RowSchema returns the schema of the rows a Debezium envelope value
// carries (its after field's, else its before field's), also for a delete
// or a truncate; nil for a tombstone and for other values.
func (r Record) RowSchema() *event.Schema {
	if r.Event == nil {
		return nil
	}
	for _, name := range []string{"after", "before"} {
		if i := r.ValueSchema.FieldIndex(name); i >= 0 {
			return r.ValueSchema.Fields[i].Schema
		}
	}
	return nil
}

// Reader reads topics of one Kafka cluster back, decoding with one
// kafka.Decoder, so each schema id is fetched from the registry once.
// It is safe for concurrent use; each read has a consumer of its own.
type Reader struct {
	brokers []string
	dec     *kafka.Decoder
}

// NewReader returns a reader of the cluster at brokers that resolves
// schema ids with reg (a *registry.Client).
func NewReader(brokers []string, reg kafka.SchemaSource) *Reader {
	return &Reader{brokers: brokers, dec: kafka.NewDecoder(reg)}
}

// NewRawReader returns a reader of the cluster at brokers that decodes
// nothing: for topics whose records are not Confluent frames, such as a
// source's dead-letter topic of JSON records.
func NewRawReader(brokers []string) *Reader { return &Reader{brokers: brokers} }

// ReadUntil consumes topic from its start, decoding each record (unless the
// reader is raw), until done
// accepts the records read so far, and returns them with true. done is
// asked before the first poll and after each, at least every half second.
// alive, when not nil, is called between polls to notice that what writes
// the topic stopped; it fails the test then. When done has not accepted
// and no record arrived for Wait, ReadUntil returns the records read and
// false. A record that cannot be decoded fails the test.
func (rd *Reader) ReadUntil(t testing.TB, topic string, alive func(), done func([]Record) bool) ([]Record, bool) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(rd.brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatalf("topictest: consumer of %s: %v", topic, err)
	}
	defer cl.Close()
	ctx := context.Background()
	var out []Record
	began := time.Now()
	for progress := began; !done(out); {
		if alive != nil {
			alive()
		}
		if time.Since(progress) > Wait || time.Since(began) > 20*Wait {
			return out, false
		}
		pctx, pcancel := context.WithTimeout(ctx, pollWait)
		fs := cl.PollFetches(pctx)
		pcancel()
		fs.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				t.Logf("topictest: fetch %s: %v", topic, err)
			}
		})
		var decodeErr error
		fs.EachRecord(func(r *kgo.Record) {
			if decodeErr != nil {
				return
			}
			rec := Record{Raw: r}
			if rd.dec == nil {
				out = append(out, rec)
				return
			}
			if err := rd.dec.DecodeKey(ctx, r, &rec.Decoded); err != nil {
				decodeErr = fmt.Errorf("record %s/%d@%d: %w", r.Topic, r.Partition, r.Offset, err)
			} else if err := rd.dec.DecodeValue(ctx, r, &rec.Decoded); err != nil {
				decodeErr = fmt.Errorf("record %s/%d@%d: %w", r.Topic, r.Partition, r.Offset, err)
			}
			out = append(out, rec)
		})
		if decodeErr != nil {
			t.Fatal(decodeErr)
		}
		if fs.NumRecords() > 0 {
			progress = time.Now()
		}
	}
	return out, true
}

// Read consumes topic from its start until at least n records arrived,
// and returns them; it fails the test when no record arrived for Wait
// before they all did.
// alive is as ReadUntil's.
func (rd *Reader) Read(t testing.TB, topic string, n int, alive func()) []Record {
	t.Helper()
	rs, ok := rd.ReadUntil(t, topic, alive, func(rs []Record) bool { return len(rs) >= n })
	if !ok {
		t.Fatalf("topic %s: got %d records, want %d", topic, len(rs), n)
	}
	return rs
}

// ReadAll consumes a single-partition topic from its start to its end as
// listed when called; a topic that does not exist has no records. It fails
// the test when no record arrived for Wait before those up to that end did.
// alive is as ReadUntil's.
func (rd *Reader) ReadAll(t testing.TB, topic string, alive func()) []Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(rd.brokers...))
	if err != nil {
		t.Fatalf("topictest: client of %v: %v", rd.brokers, err)
	}
	ends, err := kadm.NewClient(cl).ListEndOffsets(context.Background(), topic)
	cl.Close()
	if err != nil {
		t.Fatalf("topictest: end offsets of %s: %v", topic, err)
	}
	end, ok := ends.Lookup(topic, 0)
	if !ok || end.Err != nil || end.Offset == 0 {
		return nil
	}
	rs, ok := rd.ReadUntil(t, topic, alive, func(rs []Record) bool {
		return len(rs) > 0 && rs[len(rs)-1].Raw.Offset >= end.Offset-1
	})
	if !ok {
		t.Fatalf("topic %s: got %d records, want those up to its end at offset %d", topic, len(rs), end.Offset)
	}
	return rs
}
