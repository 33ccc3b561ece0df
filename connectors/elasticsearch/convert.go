package elasticsearch

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/registry"
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
	// others (records that cannot be decoded) follow errors.tolerance.
	malformed bool
	stage     string // Kafka Connect's stage name, for the dead-letter headers
	class     string // the error's kind: an Elasticsearch error type, or sluice's
	reason    string
}

func (r *rejection) Error() string {
	return fmt.Sprintf("record %s/%d@%d: %s: %s", r.rec.Topic, r.rec.Partition, r.rec.Offset, r.class, r.reason)
}

// schemaSource resolves the schema ids of Confluent frames (registry.Client).
type schemaSource interface {
	Schema(ctx context.Context, id int) (*registry.Schema, error)
}

// converter turns consumed records into actions. It is used by one
// goroutine; codecs are compiled once per schema id.
type converter struct {
	reg         schemaSource
	keyIgnore   bool
	upsert      bool
	onNull      string
	placeholder string
	keys        map[uint32]*schema.Codec
	values      map[uint32]*valueCodec
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

// valueCodec decodes the values written with one schema.
type valueCodec struct {
	envelope *schema.EnvelopeCodec // Debezium envelopes
	flat     *schema.Codec         // flattened rows
	row      *event.Schema         // the row's struct schema
	lsn      int                   // flattened: index of an int64 __source_lsn or __lsn field, or -1
	deleted  int                   // flattened: index of the __deleted field, or -1
}

func newConverter(reg schemaSource, cfg *Config) *converter {
	return &converter{
		reg: reg, keyIgnore: cfg.KeyIgnore, upsert: cfg.Upsert, onNull: cfg.OnNull, placeholder: cfg.Placeholder,
		keys: map[uint32]*schema.Codec{}, values: map[uint32]*valueCodec{}, lastDelete: map[partition]deleted{},
	}
}

// errNullValue is returned for a null value under behavior.on.null.values=fail.
var errNullValue = errors.New("record has a null value and behavior.on.null.values is fail")

// convert turns one record into an action. A record that cannot be written
// is a rejection; an error is a failure to reach the registry (retryable)
// or a permanent one.
func (c *converter) convert(ctx context.Context, r *kgo.Record) (action, *rejection, error) {
	a := action{rec: r, index: strings.ToLower(r.Topic)}
	tp := partition{r.Topic, r.Partition}
	prev, hadDelete := c.lastDelete[tp]
	delete(c.lastDelete, tp)

	// A key that cannot be an id rejects the record, unless it truncates.
	var idRej *rejection
	var err error
	if c.keyIgnore {
		a.id = r.Topic + "+" + strconv.Itoa(int(r.Partition)) + "+" + strconv.FormatInt(r.Offset, 10)
	} else if a.id, idRej, err = c.documentID(ctx, r); err != nil {
		return a, nil, err
	}

	if r.Value == nil {
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

	vc, body, rej, err := c.value(ctx, r)
	if rej != nil || err != nil {
		return a, rej, err
	}
	if vc.envelope != nil {
		var ev event.Event
		if err := vc.envelope.Decode(body, &ev); err != nil {
			return a, c.undecodable(r, "VALUE_CONVERTER", err), nil
		}
		if a.version, a.versioned, err = envelopeVersion(&ev); err != nil {
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
		return c.document(a, vc.row, ev.After)
	}
	if idRej != nil {
		return a, idRej, nil
	}
	v, err := vc.flat.Decode(body)
	if err != nil {
		return a, c.undecodable(r, "VALUE_CONVERTER", err), nil
	}
	row, _ := v.(event.Row)
	if vc.deleted >= 0 && (row[vc.deleted] == "true" || row[vc.deleted] == true) {
		a.op = opDelete
	}
	if vc.lsn >= 0 {
		if lsn, ok := row[vc.lsn].(int64); ok && lsn > 0 {
			if a.version, err = (event.Position{Commit: uint64(lsn)}).Version(); err != nil {
				return a, &rejection{rec: r, malformed: true, stage: "TASK_PUT", class: "sluice.VersionError", reason: err.Error()}, nil
			}
			a.versioned = true
		}
	}
	if a.op == opDelete {
		return a, nil, nil
	}
	return c.document(a, vc.row, row)
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
// 1): for Postgres, source.lsn (the commit LSN; for snapshot reads the
// slot's consistent point); for MySQL and MariaDB, source.file and
// source.pos (where the transaction starts; for snapshot reads the
// snapshot's binlog position) as event.BinlogCommit packs them. Events with
// neither are unversioned.
func envelopeVersion(ev *event.Event) (int64, bool, error) {
	var p event.Position
	switch {
	case ev.Source.LSN > 0:
		p.Commit = uint64(ev.Source.LSN)
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

func (c *converter) undecodable(r *kgo.Record, stage string, err error) *rejection {
	return &rejection{rec: r, stage: stage, class: "sluice.DecodeError", reason: err.Error()}
}

// value finds the codec of a record's value and returns the Avro body.
func (c *converter) value(ctx context.Context, r *kgo.Record) (*valueCodec, []byte, *rejection, error) {
	id, body, err := schema.SplitFrame(r.Value)
	if err != nil {
		return nil, nil, c.undecodable(r, "VALUE_CONVERTER", err), nil
	}
	if vc, ok := c.values[id]; ok {
		return vc, body, nil, nil
	}
	s, rej, err := c.fetch(ctx, r, id, "VALUE_CONVERTER")
	if rej != nil || err != nil {
		return nil, nil, rej, err
	}
	vc := &valueCodec{lsn: -1, deleted: -1}
	if isEnvelope(s) {
		if vc.envelope, err = schema.NewEnvelopeCodec(s, nil); err != nil {
			return nil, nil, c.undecodable(r, "VALUE_CONVERTER", err), nil
		}
		if i := s.FieldIndex("after"); i >= 0 {
			vc.row = s.Fields[i].Schema
		} else {
			vc.row = s.Fields[s.FieldIndex("before")].Schema
		}
	} else {
		if s.Type != event.Struct {
			return nil, nil, c.undecodable(r, "VALUE_CONVERTER", fmt.Errorf("value schema id %d is a %s, not a record", id, s.Type)), nil
		}
		if vc.flat, err = schema.NewCodec(s); err != nil {
			return nil, nil, c.undecodable(r, "VALUE_CONVERTER", err), nil
		}
		vc.row = s
		for _, name := range []string{"__source_lsn", "__lsn"} {
			if i := s.FieldIndex(name); i >= 0 && s.Fields[i].Schema.Type == event.Int64 && vc.lsn < 0 {
				vc.lsn = i
			}
		}
		vc.deleted = s.FieldIndex("__deleted")
	}
	c.values[id] = vc
	return vc, body, nil, nil
}

// isEnvelope reports whether s is a Debezium envelope: op, source and a
// before or after row.
func isEnvelope(s *event.Schema) bool {
	if s.Type != event.Struct || s.FieldIndex("op") < 0 || s.FieldIndex("source") < 0 {
		return false
	}
	for _, name := range []string{"after", "before"} {
		if i := s.FieldIndex(name); i >= 0 && s.Fields[i].Schema.Type == event.Struct {
			return true
		}
	}
	return false
}

// fetch gets and parses a schema from the registry. An unknown or
// unparsable schema rejects the record; an unreachable registry is an error.
func (c *converter) fetch(ctx context.Context, r *kgo.Record, id uint32, stage string) (*event.Schema, *rejection, error) {
	got, err := c.reg.Schema(ctx, int(id))
	if err != nil {
		if errors.Is(err, registry.ErrUnavailable) || ctx.Err() != nil {
			return nil, nil, fmt.Errorf("fetch schema id %d for %s/%d@%d: %w", id, r.Topic, r.Partition, r.Offset, err)
		}
		return nil, c.undecodable(r, stage, err), nil
	}
	s, err := schema.FromAvro(got.Text)
	if err != nil {
		return nil, c.undecodable(r, stage, fmt.Errorf("schema id %d: %w", id, err)), nil
	}
	return s, nil, nil
}

// documentID turns the record key into a document id: a single-field key
// is used as is (text as it is, numbers in decimal, bytes in base64), a
// composite key becomes the JSON array of its values. A key without a
// Confluent frame is used as text.
func (c *converter) documentID(ctx context.Context, r *kgo.Record) (string, *rejection, error) {
	malformed := func(reason string) *rejection {
		return &rejection{rec: r, malformed: true, stage: "TASK_PUT", class: "sluice.InvalidDocumentID", reason: reason}
	}
	if len(r.Key) == 0 {
		return "", malformed("record has no key to use as document id (set key.ignore=true to index keyless records)"), nil
	}
	id, body, err := schema.SplitFrame(r.Key)
	var s string
	if err != nil {
		if !utf8.Valid(r.Key) {
			return "", c.undecodable(r, "KEY_CONVERTER", fmt.Errorf("key is neither a Confluent frame nor UTF-8 text")), nil
		}
		s = string(r.Key)
	} else {
		codec, ok := c.keys[id]
		if !ok {
			ks, rej, err := c.fetch(ctx, r, id, "KEY_CONVERTER")
			if rej != nil || err != nil {
				return "", rej, err
			}
			if codec, err = schema.NewCodec(ks); err != nil {
				return "", c.undecodable(r, "KEY_CONVERTER", err), nil
			}
			c.keys[id] = codec
		}
		v, err := codec.Decode(body)
		if err != nil {
			return "", c.undecodable(r, "KEY_CONVERTER", err), nil
		}
		if s, err = keyText(codec.Schema(), v); err != nil {
			return "", malformed(err.Error()), nil
		}
	}
	switch {
	case s == "":
		return "", malformed("document id is empty"), nil
	case len(s) > maxIDBytes:
		return "", malformed(fmt.Sprintf("document id is %d bytes, more than Elasticsearch's limit of %d", len(s), maxIDBytes)), nil
	}
	return s, nil, nil
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
