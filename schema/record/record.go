// Package record is a Kafka record as single message transforms see it, in
// Kafka Connect's terms: a topic, a key and a value each with its schema,
// headers and a timestamp. Both ends of Kafka build records — a source's
// pipeline from its change events before encoding, a sink after decoding —
// and the transforms package rewrites them.
//
// Values have the Go forms event.Row holds for each event.Type; a Struct
// value is an event.Row with one value per field of its schema, nil is
// null. Records, their values and their schemas are not modified in place
// by transforms: a transform that changes something returns a new record
// (which may share what it did not change).
package record

import "github.com/sluice-cdc/sluice/schema/event"

// Record is one Kafka record.
type Record struct {
	Topic string
	// KeySchema is nil when the key is null and schemaless.
	KeySchema *event.Schema
	Key       any
	// ValueSchema is nil for a tombstone (a null value).
	ValueSchema *event.Schema
	Value       any
	Headers     []Header
	// Timestamp is the record's time in Unix milliseconds; 0 lets Kafka set it.
	Timestamp int64
}

// Header is one record header with its value's schema (nil: a null value).
type Header struct {
	Key    string
	Schema *event.Schema
	Value  any
}

// Tombstone reports whether the record's value is null.
func (r *Record) Tombstone() bool { return r.Value == nil }

// Clone returns a shallow copy whose headers can be changed freely.
func (r *Record) Clone() *Record {
	c := *r
	c.Headers = append([]Header(nil), r.Headers...)
	return &c
}

// Header returns the last header called key, and whether there is one.
func (r *Record) Header(key string) (Header, bool) {
	for i := len(r.Headers) - 1; i >= 0; i-- {
		if r.Headers[i].Key == key {
			return r.Headers[i], true
		}
	}
	return Header{}, false
}

// Field returns the value of the field called name of a Struct value and
// its schema, or false when s is not a struct, has no such field or v is null.
func Field(s *event.Schema, v any, name string) (*event.Schema, any, bool) {
	if s == nil || s.Type != event.Struct {
		return nil, nil, false
	}
	i := s.FieldIndex(name)
	row, ok := v.(event.Row)
	if i < 0 || !ok || i >= len(row) {
		return nil, nil, false
	}
	return s.Fields[i].Schema, row[i], true
}
