// Package kafka connects connectors to Kafka: the Writer turns a source's
// batches into records through its key and value converters (by default
// Avro in Confluent's wire format, schemas registered once per table
// version; or Kafka Connect's JSON) and acknowledges each batch only when
// Kafka has acknowledged every record of it and of every earlier batch.
package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
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

// Producer is the part of a franz-go client the Writer uses. Like
// kgo.Client, it must not use a record once it has called its promise: the
// Writer then reuses the record's value.
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
	keys        Converter
	values      Converter
	topics      TopicEnsurer
	schemaOpts  schema.Options
	topicOf     TopicFunc // nil: the default, cached per table
	tombstones  bool
	maxBuffered int64
	maxRecord   int32 // the producer's max.request.size; 0 when not known
	logger      *slog.Logger
	staged      *staging // nil: no transforms

	tables map[*event.Table]*tableWriter // by table version
	// The schema-change topic's schemas and topic, made at its first event.
	changes      *schema.SchemaChanges
	changeTopic  *metaTopic
	skipped      [256]bool // by event.Op: operations not written
	recordErrors recordErrors
	tx           *transactions // nil: no transaction topic
	heartbeat    *heartbeats   // nil: no heartbeat topic

	// acking is held while batches are acknowledged: the producer's
	// promises, Emit and Flush release batches from different goroutines,
	// and their acks must still run one at a time, in order.
	acking  sync.Mutex
	mu      sync.Mutex
	pending []*pendingBatch // batches not yet acknowledged, in order
	failed  error           // the first produce failure; sticky
	// cut is the error that ended an Emit cut short by its context (the
	// source stopping): that batch is never acknowledged, and Emit
	// refuses more, but the batches before it still are.
	cut    error
	broken chan struct{} // closed at the first failure
	space  chan struct{} // signalled whenever a record leaves the buffer

	// buffers holds (as *[]byte) the values of records Kafka acknowledged,
	// for the values of the next ones (valueBuffer).
	buffers sync.Pool
}

var _ connectors.Emitter = (*Writer)(nil)

// TopicEnsurer makes sure a topic exists before the first record goes to it.
type TopicEnsurer interface {
	EnsureTopic(ctx context.Context, topic string) error
}

// Option configures a Writer.
type Option func(*Writer)

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

// WithConverters sets how keys and values are written (Kafka Connect's
// key.converter and value.converter); the default is an AvroConverter with
// the Writer's registry for both.
func WithConverters(keys, values Converter) Option {
	return func(w *Writer) { w.keys, w.values = keys, values }
}

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(w *Writer) { w.logger = l } }

// NewWriter returns a Writer producing through p, registering schemas with
// r (unless WithConverters says otherwise) and creating topics with t. so
// names the records' schemas.
func NewWriter(p Producer, r SchemaRegistrar, t TopicEnsurer, so schema.Options, opts ...Option) *Writer {
	w := &Writer{
		producer: p, topics: t, schemaOpts: so, tombstones: true, logger: slog.Default(), maxBuffered: MaxBufferedBytes,
		tables: map[*event.Table]*tableWriter{}, space: make(chan struct{}, 1), broken: make(chan struct{}),
	}
	for _, o := range opts {
		o(w)
	}
	if w.keys == nil {
		avro := NewAvroConverter(r, w.logger)
		w.keys, w.values = avro, avro
	}
	return w
}

// tableWriter holds what encoding one table version needs.
type tableWriter struct {
	topic    string // the default topic of the table
	schemas  *schema.TableSchemas
	encoders map[string]*eventEncoders // per topic
	// values builds envelopes as values for a Stage or a converter that
	// takes values; nil until first used.
	values *schema.EnvelopeValues
}

// envelopeValues returns the builder of the table version's envelopes as values.
func (tw *tableWriter) envelopeValues() *schema.EnvelopeValues {
	if tw.values == nil {
		tw.values = tw.schemas.Envelope.Values()
	}
	return tw.values
}

// eventEncoders write one table version's change events to one topic.
type eventEncoders struct {
	key   Encoder // nil for a keyless table
	value envelopeEncoder
	// valueSize is the length of the last value written: the next one's
	// buffer is at least that large (valueBuffer).
	valueSize int
}

// envelopeEncoder writes a change event as the record value, Debezium's envelope.
type envelopeEncoder interface {
	appendEvent(dst []byte, e *event.Event) ([]byte, error)
}

// envelopeValueEncoder is the envelopeEncoder of converters that take the
// envelope as a value.
type envelopeValueEncoder struct {
	values *schema.EnvelopeValues
	enc    Encoder
}

func (e envelopeValueEncoder) appendEvent(dst []byte, ev *event.Event) ([]byte, error) {
	v, err := e.values.Value(ev)
	if err != nil {
		return dst, err
	}
	return e.enc.Append(dst, v)
}

// pendingBatch counts a batch's records still waiting for Kafka.
type pendingBatch struct {
	outstanding int
	sealed      bool // every record of the batch has been handed to the producer
	ack         func()
	// produceCtx is the context the batch's records are produced with:
	// the source's, without its cancellation.
	produceCtx context.Context
	// promise is every record's produce promise (made once per batch);
	// reusing is that of a record whose value valueBuffer gave, which it
	// then gives back.
	promise, reusing func(*kgo.Record, error)
}

// Emit encodes and produces every event of b, and arranges for b.Ack to be
// called once all of them, and every earlier batch, are acknowledged by
// Kafka. It blocks while the producer's buffer is full. After any produce
// failure, Emit returns that failure and nothing more is acknowledged.
// When ctx ends part way, b is never acknowledged and later batches are
// refused, but the batches before b still are (interrupted).
func (w *Writer) Emit(ctx context.Context, b connectors.Batch) error {
	if err := w.err(); err != nil {
		return err
	}
	w.mu.Lock()
	cut := w.cut
	w.mu.Unlock()
	if cut != nil {
		return fmt.Errorf("an earlier batch was cut short, so nothing after it can be acknowledged: %w", cut)
	}
	pb := &pendingBatch{ack: b.Ack, produceCtx: context.WithoutCancel(ctx)}
	pb.promise = func(r *kgo.Record, err error) { w.done(pb, r, err) }
	pb.reusing = func(r *kgo.Record, err error) {
		w.done(pb, r, err)
		w.reuse(r.Value)
	}
	w.mu.Lock()
	w.pending = append(w.pending, pb)
	w.mu.Unlock()
	hb, err := w.heartbeatDue(ctx)
	if err != nil {
		return w.interrupted(ctx, err)
	}
	if hb != nil {
		if err := w.produce(ctx, pb, hb, pb.promise); err != nil {
			return w.interrupted(ctx, err)
		}
	}
	for _, e := range b.Events {
		if w.skipped[e.Op] && e.SchemaChange == nil {
			continue
		}
		before, err := w.boundary(ctx, e)
		if err != nil {
			return w.interrupted(ctx, err)
		}
		recs, owned, err := w.records(ctx, e)
		if err != nil {
			return w.interrupted(ctx, err)
		}
		for _, r := range before {
			if err := w.produce(ctx, pb, r, pb.promise); err != nil {
				return w.interrupted(ctx, err)
			}
		}
		for i, r := range recs {
			promise := pb.promise
			if i == 0 && owned {
				promise = pb.reusing
			}
			if err := w.produce(ctx, pb, r, promise); err != nil {
				return w.interrupted(ctx, err)
			}
		}
	}
	if b.Committed && w.tx != nil && w.tx.id != "" {
		end, err := w.endTransaction(ctx)
		if err != nil {
			return w.interrupted(ctx, err)
		}
		if err := w.produce(ctx, pb, end, pb.promise); err != nil {
			return w.interrupted(ctx, err)
		}
	}
	w.mu.Lock()
	pb.sealed = true
	w.mu.Unlock()
	w.release()
	return w.err()
}

// interrupted ends an Emit that err stopped part way. When ctx ended, the
// source is stopping: the batch was cut short and is never acknowledged,
// but those before it are, as Kafka takes their records, so that the
// source stores their position before it stops. Any other error is a
// failure of the writer (fail).
func (w *Writer) interrupted(ctx context.Context, err error) error {
	if ctx.Err() == nil || w.err() != nil {
		w.fail(err)
		return err
	}
	w.mu.Lock()
	if w.cut == nil {
		w.cut = err
	}
	w.mu.Unlock()
	return err
}

// produce hands one record to the producer once its buffer has room, with
// promise (one of pb's). The record is produced with a context that the
// source's stopping does not cancel: what is already buffered is still
// delivered, and Flush drains it. Only the wait for room ends with ctx.
func (w *Writer) produce(ctx context.Context, pb *pendingBatch, r *kgo.Record, promise func(*kgo.Record, error)) error {
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
	w.producer.Produce(pb.produceCtx, r, promise)
	return nil
}

// valueBuffer returns an empty buffer for a record value at least as large
// as last, the length of the value written before it to the topic: that of
// an acknowledged record when one is that large, or else a new one an
// eighth larger, so that values of a few kilobytes (JsonConverter's JSON
// with its schema) are not copied through growing buffers. A value is the
// largest allocation of a record, and the producer has copied it into its
// request before it calls the record's promise, the earliest it is given
// back.
func (w *Writer) valueBuffer(last int) []byte {
	if p, _ := w.buffers.Get().(*[]byte); p != nil && cap(*p) >= last {
		return (*p)[:0]
	}
	return make([]byte, 0, max(512, last+last/8))
}

// reuse gives the value of a record whose promise ran to valueBuffer.
func (w *Writer) reuse(value []byte) {
	if cap(value) > 0 {
		w.buffers.Put(&value)
	}
}

// done is the produce promise: it counts the record and releases finished
// batches in order.
func (w *Writer) done(pb *pendingBatch, r *kgo.Record, err error) {
	select {
	case w.space <- struct{}{}:
	default:
	}
	if err != nil && errors.Is(err, kerr.MessageTooLarge) {
		err = w.tooLarge(r, err)
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

// recordSlack is what a record batch adds to a lone record's key, value
// and headers, rounded up: a record within it of max.request.size may
// still fit.
const recordSlack = 128

// tooLarge decides on a record Kafka refused as too large. A record larger
// by itself than the producer's max.request.size, which the producer
// refuses alone before sending, is skipped with errors.tolerance=all, as
// Kafka Connect's source tasks skip records they cannot produce (KIP-779),
// and nil is returned. Every other such refusal — the record refused by
// the broker, whose topic allows less than the producer sends, along with
// the records batched with it — is a permanent error saying what to change:
// retrying sends the same record again.
func (w *Writer) tooLarge(r *kgo.Record, err error) error {
	size := len(r.Key) + len(r.Value)
	for _, h := range r.Headers {
		size += len(h.Key) + len(h.Value)
	}
	alone := w.maxRecord > 0 && size > int(w.maxRecord)-recordSlack
	if alone && w.recordErrors.tolerate {
		attrs := []any{"topic", r.Topic, "bytes", size, "max_request_size", w.maxRecord}
		if w.recordErrors.withMessage {
			attrs = append(attrs, "key", string(r.Key))
		}
		w.logger.Warn("skipped a record too large to produce (errors.tolerance=all)", attrs...)
		return nil
	}
	limit := "the topic's max.message.bytes"
	if alone {
		limit = fmt.Sprintf("producer.override.max.request.size (%d bytes)", w.maxRecord)
	}
	return connectors.Permanent(fmt.Errorf("a record of %d bytes is larger than %s allows: %w. Nothing after it is acknowledged; "+
		"raise producer.override.max.request.size and the topic's max.message.bytes, leave the large columns out (column.exclude.list), "+
		"or set errors.tolerance=all to skip records too large to produce", size, limit, err))
}

// release acknowledges, in order, the batches at the head of the queue whose
// records are all durable.
func (w *Writer) release() {
	w.acking.Lock()
	defer w.acking.Unlock()
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
		close(w.broken)
		w.logger.Error("writing to Kafka failed; no further position is acknowledged", "error", err)
	}
}

// Failed is closed at the first failure to write, which every later Emit
// and Flush returns: a source waiting for its next changes learns of it at
// once, not when it next emits.
func (w *Writer) Failed() <-chan struct{} { return w.broken }

func (w *Writer) err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failed
}

// Flush waits until every record produced so far is acknowledged by Kafka
// (and so every batch whose records all are has been acknowledged), or fails.
func (w *Writer) Flush(ctx context.Context) error {
	// After a failure nothing more is acknowledged: there is nothing to
	// wait for.
	if err := w.err(); err != nil {
		return err
	}
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
// tombstone after a delete when enabled. owned says that the first
// record's value is a buffer of valueBuffer, to give back once Kafka
// acknowledged it: that of a change event encoded without a stage.
func (w *Writer) records(ctx context.Context, e *event.Event) (recs []*kgo.Record, owned bool, err error) {
	if e.SchemaChange != nil {
		r, err := w.schemaChangeRecord(ctx, e)
		if err != nil {
			return nil, false, err
		}
		return []*kgo.Record{r}, false, nil
	}
	tw, err := w.tableWriter(e.Table)
	if err != nil {
		return nil, false, err
	}
	topic := tw.topic
	if w.topicOf != nil {
		topic = w.topicOf(e)
	}
	if w.staged != nil {
		recs, err := w.stagedRecords(ctx, tw, topic, e)
		return recs, false, err
	}
	enc, err := w.eventEncoders(ctx, tw, topic)
	if err != nil {
		return nil, false, err
	}
	var key []byte
	if enc.key != nil && e.Op != event.OpTruncate {
		if key, err = enc.key.Append(make([]byte, 0, 64), e.Key()); err != nil {
			return nil, false, fmt.Errorf("encode key of %s at %s: %w", e.Table.ID, e.Position, err)
		}
	}
	value, err := enc.value.appendEvent(w.valueBuffer(enc.valueSize), e)
	if err != nil {
		return nil, false, fmt.Errorf("encode %s event of %s at %s: %w", e.Op, e.Table.ID, e.Position, err)
	}
	enc.valueSize = len(value)
	recs = []*kgo.Record{{Topic: topic, Key: key, Value: value}}
	if e.Op == event.OpDelete && w.tombstones && key != nil {
		recs = append(recs, &kgo.Record{Topic: topic, Key: key})
	}
	return recs, true, nil
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
	tw := &tableWriter{topic: w.schemaOpts.Prefix + "." + t.ID.String(), schemas: ts, encoders: map[string]*eventEncoders{}}
	w.tables[t] = tw
	return tw, nil
}

// eventEncoders returns the encoders of a table version's events on a
// topic, creating the topic and registering the schemas the first time.
func (w *Writer) eventEncoders(ctx context.Context, tw *tableWriter, topic string) (*eventEncoders, error) {
	if enc, ok := tw.encoders[topic]; ok {
		return enc, nil
	}
	if err := w.topics.EnsureTopic(ctx, topic); err != nil {
		return nil, err
	}
	enc := &eventEncoders{}
	var err error
	if k := tw.schemas.Key; k != nil {
		if enc.key, err = codecEncoder(ctx, w.keys, topic, true, k); err != nil {
			return nil, fmt.Errorf("key of %s: %w", tw.schemas.Table.ID, err)
		}
	}
	envelope := tw.schemas.Envelope
	if avro, ok := w.values.(*AvroConverter); ok {
		id, err := avro.register(ctx, topic, false, envelope.Schema(), envelope.AvroJSON())
		if err != nil {
			return nil, fmt.Errorf("value of %s: %w", tw.schemas.Table.ID, err)
		}
		enc.value = &avroEnvelopeEncoder{id: id, codec: envelope}
	} else {
		ve, err := w.values.Encoder(ctx, topic, false, envelope.Schema())
		if err != nil {
			return nil, fmt.Errorf("value of %s: %w", tw.schemas.Table.ID, err)
		}
		enc.value = envelopeValueEncoder{values: tw.envelopeValues(), enc: ve}
	}
	tw.encoders[topic] = enc
	return enc, nil
}

// codecEncoder is conv's encoder of codec's schema; an AvroConverter
// reuses the compiled codec.
func codecEncoder(ctx context.Context, conv Converter, topic string, isKey bool, codec *schema.Codec) (Encoder, error) {
	if avro, ok := conv.(*AvroConverter); ok {
		return avro.codecEncoder(ctx, topic, isKey, codec)
	}
	return conv.Encoder(ctx, topic, isKey, codec.Schema())
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
	if w.changes == nil {
		sc, err := schema.ForSchemaChanges(w.schemaOpts)
		if err != nil {
			return nil, err
		}
		w.changes, w.changeTopic = sc, &metaTopic{name: w.schemaOpts.Prefix, key: sc.Key, value: sc.Value}
	}
	r, err := w.metaRecord(ctx, w.changeTopic, w.changes.KeyRow(e), w.changes.ValueRow(e))
	if err != nil {
		return nil, fmt.Errorf("the schema change at %s:%d: %w", e.Source.File, e.Source.Pos, err)
	}
	return r, nil
}
