package elasticsearch

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/kafka"
	"github.com/sluice-cdc/sluice/schema/event"
)

// maxIDBytes is Elasticsearch's limit on the length of a document id.
const maxIDBytes = 512

// opKind is what an action does to Elasticsearch.
type opKind uint8

const (
	opSkip     opKind = iota // nothing to write (an ignored null value, a redundant tombstone)
	opIndex                  // write the whole document
	opDelete                 // delete the document
	opTruncate               // delete every document of the index older than the action's version
)

// action is what one consumed record asks of Elasticsearch.
type action struct {
	rec   *kgo.Record
	op    opKind
	index string
	id    string
	// version is the external version (versioned actions only): the
	// record's source position, see event.Position.Version.
	version   int64
	versioned bool
	fields    []field
	// merge says the document must be merged with the stored one: some
	// field is unavailable (unchanged TOAST), or write.method is upsert.
	merge bool
}

// rejection is a record that cannot be written, and why.
type rejection struct {
	rec *kgo.Record
	// malformed rejections follow behavior.on.malformed.documents; the
	// others (records that cannot be decoded or transformed) follow
	// errors.tolerance.
	malformed bool
	stage     string // Kafka Connect's stage name, for the dead-letter headers
	class     string // the error's kind: an Elasticsearch error type, or sluice's
	reason    string
}

func (r *rejection) Error() string {
	return fmt.Sprintf("record %s/%d@%d: %s: %s", r.rec.Topic, r.rec.Partition, r.rec.Offset, r.class, r.reason)
}

// converter turns consumed records into actions. It is used by one
// goroutine.
type converter struct {
	dec         *kafka.SinkDecoder
	keyIgnore   bool
	upsert      bool
	onNull      string
	placeholder string
	// flat holds, per flattened row schema, where the fields the sink
	// reads are.
	flat map[*event.Schema]flatFields
	// lastDelete remembers, per partition, the last record when it was a
	// versioned delete, so that the tombstone following it is not turned
	// into an unversioned delete.
	lastDelete map[partition]deleted
}

type partition struct {
	topic string
	part  int32
}

type deleted struct {
	offset int64
	key    []byte
}

// flatFields are the fields of a flattened row the sink reads.
type flatFields struct {
	lsn     int // index of an int64 __source_lsn or __lsn field, or -1
	txID    int // index of a string __transaction_id or __id field, or -1
	deleted int // index of the __deleted field, or -1
}

// commit is the position a flattened row is versioned by, as envelopeVersion
// takes it from an envelope: the commit LSN of its transaction id when it
// has one of the form "<xid>:<commit LSN>", else its LSN; false when it has
// no positive LSN.
func (ff flatFields) commit(row event.Row) (uint64, bool) {
	if ff.lsn < 0 {
		return 0, false
	}
	lsn, ok := row[ff.lsn].(int64)
	if !ok || lsn <= 0 {
		return 0, false
	}
	if ff.txID < 0 {
		return uint64(lsn), true
	}
	id, _ := row[ff.txID].(string)
	return commitLSN(id, uint64(lsn)), true
}

// newConverter returns a converter that decodes records with dec.
func newConverter(dec *kafka.SinkDecoder, cfg *Config) *converter {
	return &converter{
		dec: dec, keyIgnore: cfg.KeyIgnore, upsert: cfg.Upsert, onNull: cfg.OnNull, placeholder: cfg.Placeholder,
		flat: map[*event.Schema]flatFields{}, lastDelete: map[partition]deleted{},
	}
}

// errNullValue is returned for a null value under behavior.on.null.values=fail.
var errNullValue = errors.New("record has a null value and behavior.on.null.values is fail")

// convert turns one record into an action, on the record as the
// connector's transforms left it (see kafka.SinkDecoder): its topic names
// the index, its key the document. A record the transforms dropped is
// skipped. A record that cannot be written is a rejection; an error is a
// failure to reach the registry (retryable) or a permanent one.
func (c *converter) convert(ctx context.Context, r *kgo.Record) (action, *rejection, error) {
	a := action{rec: r}
	tp := partition{r.Topic, r.Partition}
	prev, hadDelete := c.lastDelete[tp]
	delete(c.lastDelete, tp)

	var d kafka.SinkRecord
	switch keep, err := c.dec.Decode(ctx, r, !c.keyIgnore, &d); {
	case err != nil:
		rej, err := readFailure(r, err)
		return a, rej, err
	case !keep:
		return a, nil, nil
	}
	a.index = strings.ToLower(d.Topic)

	// A key that cannot be an id rejects the record, unless it truncates.
	var idRej *rejection
	if c.keyIgnore {
		a.id = d.Topic + "+" + strconv.Itoa(int(r.Partition)) + "+" + strconv.FormatInt(r.Offset, 10)
	} else {
		a.id, idRej = documentID(r, &d.Decoded)
	}

	if d.Value == nil {
		switch {
		case idRej != nil:
			return a, idRej, nil
		case c.onNull == "fail":
			return a, nil, connectors.Permanent(fmt.Errorf("record %s/%d@%d: %w", r.Topic, r.Partition, r.Offset, errNullValue))
		case c.onNull == "ignore" || c.keyIgnore:
			return a, nil, nil
		case hadDelete && prev.offset == r.Offset-1 && bytes.Equal(prev.key, r.Key):
			// The tombstone after a versioned delete: the delete did the work.
			return a, nil, nil
		}
		a.op = opDelete
		return a, nil, nil
	}

	var err error
	if ev := d.Event; ev != nil {
		if a.version, a.versioned, err = envelopeVersion(ev); err != nil {
			return a, &rejection{rec: r, malformed: true, stage: "TASK_PUT", class: "sluice.VersionError", reason: err.Error()}, nil
		}
		if ev.Op == event.OpTruncate {
			a.op = opTruncate
			return a, nil, nil
		}
		if idRej != nil {
			return a, idRej, nil
		}
		switch ev.Op {
		case event.OpDelete:
			a.op = opDelete
			if a.versioned {
				c.lastDelete[tp] = deleted{offset: r.Offset, key: r.Key}
			}
			return a, nil, nil
		}
		if ev.After == nil {
			return a, &rejection{rec: r, malformed: true, stage: "TASK_PUT", class: "sluice.MissingAfter", reason: fmt.Sprintf("%s event without an after row", ev.Op)}, nil
		}
		row, s := d.Row()
		return c.document(a, s, row)
	}
	row, s := d.Row()
	if s == nil {
		return a, &rejection{rec: r, stage: "VALUE_CONVERTER", class: "sluice.DecodeError", reason: fmt.Sprintf("value schema %s is a %s, not a record", d.ValueSchema.Name, d.ValueSchema.Type)}, nil
	}
	if idRej != nil {
		return a, idRej, nil
	}
	ff := c.flatFields(s)
	if ff.deleted >= 0 && (row[ff.deleted] == "true" || row[ff.deleted] == true) {
		a.op = opDelete
	}
	if commit, ok := ff.commit(row); ok {
		if a.version, err = (event.Position{Commit: commit}).Version(); err != nil {
			return a, &rejection{rec: r, malformed: true, stage: "TASK_PUT", class: "sluice.VersionError", reason: err.Error()}, nil
		}
		a.versioned = true
	}
	if a.op == opDelete {
		return a, nil, nil
	}
	return c.document(a, s, row)
}

// flatFields finds, once per schema, the fields of a flattened row the
// sink reads.
func (c *converter) flatFields(s *event.Schema) flatFields {
	if ff, ok := c.flat[s]; ok {
		return ff
	}
	ff := flatFields{lsn: -1, txID: -1, deleted: s.FieldIndex("__deleted")}
	for _, name := range []string{"__source_lsn", "__lsn"} {
		if i := s.FieldIndex(name); i >= 0 && s.Fields[i].Schema.Type == event.Int64 && ff.lsn < 0 {
			ff.lsn = i
		}
	}
	for _, name := range []string{"__transaction_id", "__id"} {
		if i := s.FieldIndex(name); i >= 0 && s.Fields[i].Schema.Type == event.String && ff.txID < 0 {
			ff.txID = i
		}
	}
	c.flat[s] = ff
	return ff
}

// document renders the row as the action's document.
func (c *converter) document(a action, s *event.Schema, row event.Row) (action, *rejection, error) {
	fields, err := renderRow(s, row, c.placeholder)
	if err != nil {
		return a, &rejection{rec: a.rec, malformed: true, stage: "TASK_PUT", class: "sluice.RenderError", reason: err.Error()}, nil
	}
	a.op, a.fields, a.merge = opIndex, fields, c.upsert
	for _, f := range fields {
		a.merge = a.merge || f.unavailable
	}
	return a, nil, nil
}

// envelopeVersion derives the external version of an event from its source
// position and transaction.total_order (the place in the transaction, from
// 1). For Postgres events (those with a source.lsn) the position is the
// commit LSN of the event's transaction, the number after the last ':' of
// transaction.id ("<xid>:<commit LSN>"), or source.lsn when the event has
// no transaction block or its id is not of that form (snapshot reads,
// whose source.lsn is the slot's consistent point, or for incremental
// snapshot reads the LSN of their chunk's high watermark message, and for
// blocking ones where the stream was held; events written without
// transaction metadata). Debezium's own Postgres events carry the change's
// LSN after the ':', so they are versioned by it. Not source.lsn first:
// that is the LSN of the change itself, and a transaction that began
// before a slot's consistent point and committed after it has changes
// before the consistent point, newer than the snapshot's reads of their
// rows; its commit LSN is after the consistent point. For MySQL and
// MariaDB events the position is source.file and source.pos (where the
// rows event holding the row starts, as Debezium writes it: positions grow
// through a transaction and from one to the next; for snapshot reads the
// snapshot's binlog position, for incremental snapshot reads that of their
// chunk's high watermark row, for blocking ones where the stream was held)
// as event.BinlogCommit packs them. Events with neither are unversioned.
func envelopeVersion(ev *event.Event) (int64, bool, error) {
	var p event.Position
	switch {
	case ev.Source.LSN > 0:
		p.Commit = uint64(ev.Source.LSN)
		if t := ev.Transaction; t != nil {
			p.Commit = commitLSN(t.ID, p.Commit)
		}
	case ev.Source.File != "" && ev.Source.Pos > 0:
		c, err := event.BinlogCommit(ev.Source.File, uint32(ev.Source.Pos))
		if err != nil {
			return 0, false, err
		}
		p.Commit = c
	default:
		return 0, false, nil
	}
	if t := ev.Transaction; t != nil && t.TotalOrder > 0 {
		p.Index = uint32(min(t.TotalOrder-1, 1<<32-1))
	}
	v, err := p.Version()
	return v, true, err
}

// commitLSN is the commit LSN in a Postgres transaction id, "<xid>:<commit
// LSN>": the positive decimal number after its last ':'. It is lsn when id
// is not of that form.
func commitLSN(id string, lsn uint64) uint64 {
	i := strings.LastIndexByte(id, ':')
	if i < 0 {
		return lsn
	}
	if c, err := strconv.ParseUint(id[i+1:], 10, 64); err == nil && c > 0 {
		return c
	}
	return lsn
}

// readFailure turns an error of kafka.SinkDecoder into a rejection for a
// record that cannot be decoded or transformed, or returns it when it is
// worth retrying (the registry is unavailable, ctx ended).
func readFailure(r *kgo.Record, err error) (*rejection, error) {
	var bad *kafka.BadRecordError
	var failed *kafka.TransformError
	switch {
	case errors.As(err, &failed):
		return &rejection{rec: r, stage: "TRANSFORMATION", class: "sluice.TransformError", reason: failed.Err.Error()}, nil
	case !errors.As(err, &bad):
		return nil, err
	case bad.Key:
		return &rejection{rec: r, stage: "KEY_CONVERTER", class: "sluice.DecodeError", reason: bad.Err.Error()}, nil
	}
	return &rejection{rec: r, stage: "VALUE_CONVERTER", class: "sluice.DecodeError", reason: bad.Err.Error()}, nil
}

// documentID turns the decoded key of r into a document id: a
// single-field key is used as is (text as it is, numbers in decimal, bytes
// in base64), a composite key becomes the JSON array of its values.
func documentID(r *kgo.Record, d *kafka.Decoded) (string, *rejection) {
	malformed := func(reason string) *rejection {
		return &rejection{rec: r, malformed: true, stage: "TASK_PUT", class: "sluice.InvalidDocumentID", reason: reason}
	}
	if d.KeySchema == nil && d.Key == nil {
		return "", malformed("record has no key to use as document id (set key.ignore=true to index keyless records)")
	}
	s, err := keyText(d.KeySchema, d.Key)
	switch {
	case err != nil:
		return "", malformed(err.Error())
	case s == "":
		return "", malformed("document id is empty")
	case len(s) > maxIDBytes:
		return "", malformed(fmt.Sprintf("document id is %d bytes, more than Elasticsearch's limit of %d", len(s), maxIDBytes))
	}
	return s, nil
}

// keyText renders a decoded key as a document id.
func keyText(s *event.Schema, v any) (string, error) {
	var vals []any
	switch x := v.(type) {
	case event.Row:
		vals = x
	case []any:
		vals = x
	default:
		return scalarText(s, v)
	}
	if len(vals) == 1 {
		return scalarText(s.Fields[0].Schema, vals[0])
	}
	b := []byte{'['}
	for i, f := range s.Fields {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = docStyle.AppendValue(b, f.Schema, vals[i]); err != nil {
			return "", fmt.Errorf("key field %q: %w", f.Name, err)
		}
	}
	return string(append(b, ']')), nil
}

func scalarText(s *event.Schema, v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", errors.New("key value is null")
	case string:
		return x, nil
	case []byte:
		return base64.StdEncoding.EncodeToString(x), nil
	case event.Decimal:
		return x.String(), nil
	}
	b, err := docStyle.AppendValue(nil, s, v)
	return string(b), err
}
