package kafka

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/schema/event"
)

// metaTopic is a topic whose records have fixed key and value schemas — the
// schema-change, transaction and heartbeat topics. The topic is ensured and
// its encoders are made at its first record.
type metaTopic struct {
	name       string
	key, value *schema.Codec
	enc        [2]Encoder
}

func newMetaTopic(name string, key, value *event.Schema) (*metaTopic, error) {
	k, err := schema.NewCodec(key)
	if err != nil {
		return nil, err
	}
	v, err := schema.NewCodec(value)
	if err != nil {
		return nil, err
	}
	return &metaTopic{name: name, key: k, value: v}, nil
}

// metaRecord encodes one record of t.
func (w *Writer) metaRecord(ctx context.Context, t *metaTopic, key, value any) (*kgo.Record, error) {
	if t.enc[1] == nil {
		if err := w.topics.EnsureTopic(ctx, t.name); err != nil {
			return nil, err
		}
		k, err := codecEncoder(ctx, w.keys, t.name, true, t.key)
		if err != nil {
			return nil, fmt.Errorf("the key of topic %s: %w", t.name, err)
		}
		v, err := codecEncoder(ctx, w.values, t.name, false, t.value)
		if err != nil {
			return nil, fmt.Errorf("the value of topic %s: %w", t.name, err)
		}
		t.enc = [2]Encoder{k, v}
	}
	kb, err := t.enc[0].Append(make([]byte, 0, 64), key)
	if err != nil {
		return nil, fmt.Errorf("encode a key for topic %s: %w", t.name, err)
	}
	vb, err := t.enc[1].Append(make([]byte, 0, 256), value)
	if err != nil {
		return nil, fmt.Errorf("encode a value for topic %s: %w", t.name, err)
	}
	return &kgo.Record{Topic: t.name, Key: kb, Value: vb}, nil
}

// WithOutput applies what a source's configuration declares about its
// records besides their topic prefix: tombstones, the operations not
// written, and the transaction and heartbeat topics.
func WithOutput(out connectors.SourceOutput) Option {
	return func(w *Writer) {
		w.tombstones = out.Tombstones
		for _, op := range out.Skipped {
			w.skipped[op] = true
		}
		if out.TransactionTopic != "" {
			key, value := schema.TransactionSchemas()
			t, err := newMetaTopic(out.TransactionTopic, key, value)
			if err != nil {
				panic(err) // fixed schemas: cannot fail
			}
			w.tx = &transactions{topic: t}
		}
		if out.HeartbeatTopic != "" {
			key, value := schema.HeartbeatSchemas()
			t, err := newMetaTopic(out.HeartbeatTopic, key, value)
			if err != nil {
				panic(err) // fixed schemas: cannot fail
			}
			w.heartbeat = &heartbeats{topic: t, every: out.HeartbeatInterval, server: out.TopicPrefix}
		}
	}
}

// transactions tracks the transaction whose events are being written, for
// the BEGIN and END records of the transaction topic (Debezium's
// provide.transaction.metadata). A transaction begins at its first
// written event and ends at its commit (a batch marked Committed) or when
// the next transaction's first event comes.
type transactions struct {
	topic       *metaTopic
	id          string // "" between transactions
	tsMs        int64  // the commit time
	count       int64
	collections []collectionCount // in the order of their first event
}

type collectionCount struct {
	name  string
	count int64
}

// boundary returns the records that go before e: the END of the previous
// transaction and the BEGIN of e's, when e starts a transaction. It counts e.
func (w *Writer) boundary(ctx context.Context, e *event.Event) ([]*kgo.Record, error) {
	tx := w.tx
	if tx == nil || e.Transaction == nil || e.Table == nil {
		return nil, nil
	}
	var out []*kgo.Record
	if tx.id != e.Transaction.ID {
		if tx.id != "" {
			end, err := w.endTransaction(ctx)
			if err != nil {
				return nil, err
			}
			out = append(out, end)
		}
		tx.id, tx.tsMs, tx.count, tx.collections = e.Transaction.ID, e.Source.TsMillis(), 0, tx.collections[:0]
		begin, err := w.metaRecord(ctx, tx.topic, event.Row{tx.id}, event.Row{"BEGIN", tx.id, nil, nil, tx.tsMs})
		if err != nil {
			return nil, err
		}
		out = append(out, begin)
	}
	tx.count++
	name := e.Table.ID.String()
	for i := range tx.collections {
		if tx.collections[i].name == name {
			tx.collections[i].count++
			return out, nil
		}
	}
	tx.collections = append(tx.collections, collectionCount{name, 1})
	return out, nil
}

// endTransaction returns the END record of the transaction in progress and
// forgets it.
func (w *Writer) endTransaction(ctx context.Context) (*kgo.Record, error) {
	tx := w.tx
	collections := make([]any, len(tx.collections))
	for i, c := range tx.collections {
		collections[i] = event.Row{c.name, c.count}
	}
	r, err := w.metaRecord(ctx, tx.topic, event.Row{tx.id}, event.Row{"END", tx.id, tx.count, collections, tx.tsMs})
	tx.id = ""
	return r, err
}

// heartbeats writes Debezium's heartbeat records, at most one per interval
// and only while the source emits (a source with heartbeat.interval.ms set
// emits at least that often, changes or not).
type heartbeats struct {
	topic  *metaTopic
	every  time.Duration
	server string
	last   time.Time
}

// heartbeatDue returns a heartbeat record when one is due, or nil.
func (w *Writer) heartbeatDue(ctx context.Context) (*kgo.Record, error) {
	hb := w.heartbeat
	if hb == nil {
		return nil, nil
	}
	now := time.Now()
	if now.Sub(hb.last) < hb.every {
		return nil, nil
	}
	hb.last = now
	return w.metaRecord(ctx, hb.topic, event.Row{hb.server}, event.Row{now.UnixMilli()})
}
