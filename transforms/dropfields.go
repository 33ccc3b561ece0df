package transforms

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

// fieldDropper is ExtractNewRecordState's drop.fields.* keys: the fields a
// record's header lists are removed from its value (and key), as Kafka
// Connect's ReplaceField with exclude does. The schemas it derives are
// kept per input schema and list of names, so each is derived once.
type fieldDropper struct {
	header         string // drop.fields.header.name; empty: nothing is dropped
	fromKey        bool
	keepCompatible bool

	derived map[dropUse]*dropped
}

type dropUse struct {
	schema *event.Schema
	names  string // the header's names, joined by commas
}

// dropped is a struct schema without some of its fields, and the indexes
// of the fields it keeps.
type dropped struct {
	schema *event.Schema
	keep   []int
}

// apply removes the fields the record's header lists; it returns r itself
// when there is nothing to remove. r is a copy the caller owns.
func (d *fieldDropper) apply(r *record.Record) (*record.Record, error) {
	if d.header == "" {
		return r, nil
	}
	h, ok := r.Header(d.header)
	if !ok || h.Value == nil {
		return r, nil
	}
	names, err := stringList(h.Value)
	if err != nil {
		return nil, fmt.Errorf("drop.fields.header.name: header %s: %w", d.header, err)
	}
	if len(names) == 0 {
		return r, nil
	}
	joined := strings.Join(names, ",")
	if d.fromKey && r.Key != nil {
		r.KeySchema, r.Key = d.drop(r.KeySchema, r.Key, names, joined)
	}
	if r.Value != nil {
		r.ValueSchema, r.Value = d.drop(r.ValueSchema, r.Value, names, joined)
	}
	return r, nil
}

// drop removes the named fields from a struct value: with
// keep.schema.compatible only those whose schema is optional.
func (d *fieldDropper) drop(s *event.Schema, v any, names []string, joined string) (*event.Schema, any) {
	row, ok := v.(event.Row)
	if s == nil || s.Type != event.Struct || !ok {
		return s, v
	}
	use := dropUse{s, joined}
	x := d.derived[use]
	if x == nil {
		x = &dropped{}
		var fields []event.Field
		for i, f := range s.Fields {
			if slices.Contains(names, f.Name) && (!d.keepCompatible || f.Schema.Optional) {
				continue
			}
			fields = append(fields, f)
			x.keep = append(x.keep, i)
		}
		if len(fields) == len(s.Fields) {
			x.schema = s
		} else {
			// ReplaceField copies the schema's basics: not its optionality.
			x.schema = &event.Schema{Type: event.Struct, Name: s.Name, Version: s.Version, Doc: s.Doc, Params: s.Params, Fields: fields}
		}
		if d.derived == nil {
			d.derived = map[dropUse]*dropped{}
		}
		d.derived[use] = x
	}
	if x.schema == s {
		return s, v
	}
	out := make(event.Row, len(x.keep))
	for i, j := range x.keep {
		out[i] = row[j]
	}
	return x.schema, out
}

// stringList is a header's list of field names.
func stringList(v any) ([]string, error) {
	switch l := v.(type) {
	case []string:
		return l, nil
	case []any:
		out := make([]string, len(l))
		for i, item := range l {
			s, ok := item.(string)
			if !ok {
				return nil, fmt.Errorf("item %d is a %T, not a string", i, item)
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, fmt.Errorf("a %T, not a list of field names", v)
}
