// Package kafka connects connectors to Kafka: the Writer turns a source's
// batches into Avro records (Confluent wire format, schemas registered once
// per table version) and acknowledges each batch only when Kafka has
// acknowledged every record of it and of every earlier batch.
package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/registry"
)

// SchemaRegistrar gives the registry id of a record schema written to a
// topic, registering it when needed (registry.Client). The Writer calls it
// once per table version and topic.
type SchemaRegistrar interface {
	Register(ctx context.Context, topic string, isKey bool, schema string) (registry.Registration, error)
}

// Producer is the part of a franz-go client the Writer uses.
type Producer interface {
	Produce(ctx context.Context, r *kgo.Record, promise func(*kgo.Record, error))
	BufferedProduceBytes() int64
	Flush(ctx context.Context) error
}

// TopicFunc names the topic an event goes to.
type TopicFunc func(e *event.Event) string

// Writer writes a source's events to Kafka. It implements
// connectors.Emitter; Emit is called from one goroutine.
type Writer struct {
	producer    Producer
	registry    SchemaRegistrar
	topics      TopicEnsurer
	schemaOpts  schema.Options
	topicOf     TopicFunc // nil: the default, cached per table
	tombstones  bool
	maxBuffered int64
	logger      *slog.Logger
	staged      *staging // nil: no transforms

	tables map[*event.Table]*tableWriter // by table version
	// The schema-change topic's codecs and schema ids, made at its first event.
	changes   *schema.SchemaChanges
	changeIDs [2]uint32

	mu      sync.Mutex
	pending []*pendingBatch // batches not yet acknowledged, in order
	failed  error           // the first produce failure; sticky
	space   chan struct{}   // signalled whenever a record leaves the buffer
}

var _ connectors.Emitter = (*Writer)(nil)

// TopicEnsurer makes sure a topic exists before the first record goes to it.
type TopicEnsurer interface {
	EnsureTopic(ctx context.Context, topic string) error
}

// Option configures a Writer.
type Option func(*Writer)

// WithTombstones follows each delete with a tombstone: the same key and a
// null value (Debezium's tombstones.on.delete, default true).
func WithTombstones(on bool) Option { return func(w *Writer) { w.tombstones = on } }

// WithTopicFunc overrides how topics are named (the default is
// <prefix>.<schema>.<table>, or <prefix>.<database>.<table> without a schema,
// computed once per table version).
func WithTopicFunc(f TopicFunc) Option { return func(w *Writer) { w.topicOf = f } }

// WithMaxBuffered sets how many bytes of records may wait in the
// producer's buffer; Emit waits for room below it. It must not exceed the
// client's kgo.MaxBufferedBytes (default MaxBufferedBytes, which ClientOpts sets).
func WithMaxBuffered(bytes int64) Option { return func(w *Writer) { w.maxBuffered = bytes } }

// WithStage passes every record through s (a chain of transforms) before
// it is encoded: the change, and the tombstone after a delete.
func WithStage(s connectors.Stage) Option {
	return func(w *Writer) {
		if s != nil {
			w.staged = newStaging(s)
		}
	}
}

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(w *Writer) { w.logger = l } }

// NewWriter returns a Writer producing through p, registering schemas with
// r and creating topics with t. so names the Avro records.
func NewWriter(p Producer, r SchemaRegistrar, t TopicEnsurer, so schema.Options, opts ...Option) *Writer {
	w := &Writer{
		producer: p, registry: r, topics: t, schemaOpts: so, tombstones: true, logger: slog.Default(), maxBuffered: MaxBufferedBytes,
		tables: map[*event.Table]*tableWriter{}, space: make(chan struct{}, 1),
	}
	for _, o := range opts {
		o(w)
	}
	return w
}

// tableWriter holds what encoding one table version needs.
type tableWriter struct {
	topic   string // the default topic of the table
	schemas *schema.TableSchemas
	ids     map[string][2]uint32 // per topic: key and value schema ids
	// values builds envelopes as values for a Stage; nil until first used.
	values *schema.EnvelopeValues
}

// pendingBatch counts a batch's records still waiting for Kafka.
type pendingBatch struct {
	outstanding int
	sealed      bool // every record of the batch has been handed to the producer
	ack         func()
}

// Emit encodes and produces every event of b, and arranges for b.Ack to be
// called once all of them, and every earlier batch, are acknowledged by
// Kafka. It blocks while the producer's buffer is full. After any produce
// failure, Emit returns that failure and nothing more is acknowledged.
func (w *Writer) Emit(ctx context.Context, b connectors.Batch) error {
	if err := w.err(); err != nil {
		return err
	}
	pb := &pendingBatch{ack: b.Ack}
	w.mu.Lock()
	w.pending = append(w.pending, pb)
	w.mu.Unlock()
	for _, e := range b.Events {
		recs, err := w.records(ctx, e)
		if err != nil {
			w.fail(err)
			return err
		}
		for _, r := range recs {
			if err := w.produce(ctx, pb, r); err != nil {
				return err
			}
		}
	}
	w.mu.Lock()
	pb.sealed = true
	w.mu.Unlock()
	w.release()
	return w.err()
}

// produce hands one record to the producer once its buffer has room. The
// record is produced with a context that the source's stopping does not
// cancel: what is already buffered is still delivered, and Flush drains it.
// Only the wait for room ends with ctx.
func (w *Writer) produce(ctx context.Context, pb *pendingBatch, r *kgo.Record) error {
	size := int64(len(r.Key) + len(r.Value))
	for buffered := w.producer.BufferedProduceBytes(); buffered > 0 && buffered+size > w.maxBuffered; buffered = w.producer.BufferedProduceBytes() {
		select {
		case <-w.space:
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := w.err(); err != nil {
			return err
		}
	}
	w.mu.Lock()
	pb.outstanding++
	w.mu.Unlock()
	w.producer.Produce(context.WithoutCancel(ctx), r, func(r *kgo.Record, err error) { w.done(pb, r, err) })
	return nil
}

// done is the produce promise: it counts the record and releases finished
// batches in order.
func (w *Writer) done(pb *pendingBatch, r *kgo.Record, err error) {
	select {
	case w.space <- struct{}{}:
	default:
	}
	if err != nil {
		w.fail(fmt.Errorf("produce to topic %q: %w", r.Topic, err))
		return
	}
	w.mu.Lock()
	pb.outstanding--
	w.mu.Unlock()
	w.release()
}

// release acknowledges, in order, the batches at the head of the queue whose
// records are all durable.
func (w *Writer) release() {
	for {
		w.mu.Lock()
		if w.failed != nil || len(w.pending) == 0 {
			w.mu.Unlock()
			return
		}
		head := w.pending[0]
		if !head.sealed || head.outstanding > 0 {
			w.mu.Unlock()
			return
		}
		w.pending = w.pending[1:]
		w.mu.Unlock()
		if head.ack != nil {
			head.ack()
		}
	}
}

func (w *Writer) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failed == nil {
		w.failed = err
		w.logger.Error("writing to Kafka failed; no further position is acknowledged", "error", err)
	}
}

func (w *Writer) err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failed
}

// Flush waits until every record produced so far is acknowledged by Kafka
// (and so every batch whose records all are has been acknowledged), or fails.
func (w *Writer) Flush(ctx context.Context) error {
	if err := w.producer.Flush(ctx); err != nil {
		return fmt.Errorf("flush produced records: %w", err)
	}
	w.release()
	return w.err()
}

// Pending reports how many batches await acknowledgement.
func (w *Writer) Pending() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.pending)
}

// records encodes one event as its Kafka records: the change, and a
// tombstone after a delete when enabled.
func (w *Writer) records(ctx context.Context, e *event.Event) ([]*kgo.Record, error) {
	if e.SchemaChange != nil {
		r, err := w.schemaChangeRecord(ctx, e)
		if err != nil {
			return nil, err
		}
		return []*kgo.Record{r}, nil
	}
	tw, err := w.tableWriter(e.Table)
	if err != nil {
		return nil, err
	}
	topic := tw.topic
	if w.topicOf != nil {
		topic = w.topicOf(e)
	}
	if w.staged != nil {
		return w.stagedRecords(ctx, tw, topic, e)
	}
	keyID, valueID, err := w.schemaIDs(ctx, tw, e.Table, topic)
	if err != nil {
		return nil, err
	}
	var key []byte
	if tw.schemas.Key != nil && e.Op != event.OpTruncate {
		key = schema.AppendFrame(make([]byte, 0, 64), keyID, nil)
		if key, err = tw.schemas.Key.Append(key, e.Key()); err != nil {
			return nil, fmt.Errorf("encode key of %s at %s: %w", e.Table.ID, e.Position, err)
		}
	}
	value := schema.AppendFrame(make([]byte, 0, 512), valueID, nil)
	if value, err = tw.schemas.Envelope.Append(value, e); err != nil {
		return nil, fmt.Errorf("encode %s event of %s at %s: %w", e.Op, e.Table.ID, e.Position, err)
	}
	recs := []*kgo.Record{{Topic: topic, Key: key, Value: value}}
	if e.Op == event.OpDelete && w.tombstones && key != nil {
		recs = append(recs, &kgo.Record{Topic: topic, Key: key})
	}
	return recs, nil
}

// tableWriter returns the codecs of a table version, deriving them the
// first time.
func (w *Writer) tableWriter(t *event.Table) (*tableWriter, error) {
	if tw := w.tables[t]; tw != nil {
		return tw, nil
	}
	ts, err := schema.ForTable(t, w.schemaOpts)
	if err != nil {
		return nil, err
	}
	tw := &tableWriter{topic: w.schemaOpts.Prefix + "." + t.ID.String(), schemas: ts, ids: map[string][2]uint32{}}
	w.tables[t] = tw
	return tw, nil
}

// schemaIDs returns the key and value schema ids of a table version on a
// topic, creating the topic and registering the schemas the first time.
func (w *Writer) schemaIDs(ctx context.Context, tw *tableWriter, t *event.Table, topic string) (uint32, uint32, error) {
	if ids, ok := tw.ids[topic]; ok {
		return ids[0], ids[1], nil
	}
	if err := w.topics.EnsureTopic(ctx, topic); err != nil {
		return 0, 0, err
	}
	var ids [2]uint32
	if k := tw.schemas.Key; k != nil {
		reg, err := w.registry.Register(ctx, topic, true, k.AvroJSON())
		if err != nil {
			return 0, 0, registrationError(fmt.Errorf("register key schema of %s for topic %q: %w", t.ID, topic, err))
		}
		ids[0] = uint32(reg.ID)
	}
	reg, err := w.registry.Register(ctx, topic, false, tw.schemas.Envelope.AvroJSON())
	if err != nil {
		return 0, 0, registrationError(fmt.Errorf("register value schema of %s for topic %q: %w", t.ID, topic, err))
	}
	ids[1] = uint32(reg.ID)
	tw.ids[topic] = ids
	return ids[0], ids[1], nil
}

// registrationError marks a schema the registry rejected (incompatible or
// invalid) as permanent: retrying cannot help, the connector must stop and
// nothing after the rejected change may be acknowledged.
func registrationError(err error) error {
	if errors.Is(err, registry.ErrIncompatible) || errors.Is(err, registry.ErrInvalidSchema) || errors.Is(err, registry.ErrNotRegistered) {
		return connectors.Permanent(err)
	}
	return err
}

// schemaChangeRecord encodes a schema-change event as Debezium's record on
// the topic named by the topic prefix: the SchemaChangeKey and
// SchemaChangeValue schemas of schema.ForSchemaChanges, registered the
// first time.
func (w *Writer) schemaChangeRecord(ctx context.Context, e *event.Event) (*kgo.Record, error) {
	topic := w.schemaOpts.Prefix
	if w.changes == nil {
		sc, err := schema.ForSchemaChanges(w.schemaOpts)
		if err != nil {
			return nil, err
		}
		if err := w.topics.EnsureTopic(ctx, topic); err != nil {
			return nil, err
		}
		key, err := w.registry.Register(ctx, topic, true, sc.Key.AvroJSON())
		if err != nil {
			return nil, registrationError(fmt.Errorf("register the schema-change key schema for topic %q: %w", topic, err))
		}
		value, err := w.registry.Register(ctx, topic, false, sc.Value.AvroJSON())
		if err != nil {
			return nil, registrationError(fmt.Errorf("register the schema-change value schema for topic %q: %w", topic, err))
		}
		w.changes, w.changeIDs = sc, [2]uint32{uint32(key.ID), uint32(value.ID)}
	}
	key, err := w.changes.Key.Append(schema.AppendFrame(make([]byte, 0, 64), w.changeIDs[0], nil), w.changes.KeyRow(e))
	if err != nil {
		return nil, fmt.Errorf("encode the schema-change key at %s:%d: %w", e.Source.File, e.Source.Pos, err)
	}
	value, err := w.changes.Value.Append(schema.AppendFrame(make([]byte, 0, 1024), w.changeIDs[1], nil), w.changes.ValueRow(e))
	if err != nil {
		return nil, fmt.Errorf("encode the schema-change value at %s:%d: %w", e.Source.File, e.Source.Pos, err)
	}
	return &kgo.Record{Topic: topic, Key: key, Value: value}, nil
}
