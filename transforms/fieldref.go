package transforms

import (
	"fmt"
	"strings"

	"github.com/sluice-cdc/sluice/schema/event"
)

// fieldRef is one item of ExtractNewRecordState's add.fields or add.headers:
// a field of Debezium's envelope ("op", "ts_ms"), of its source block
// ("table", "source.ts_ms") or of its transaction block ("id",
// "transaction.total_order"), and the name it gets ("__op",
// "__source_ts_ms", or prefix+alias for "source.ts_ms:alias").
type fieldRef struct {
	block string // "source", "transaction", or "" for the envelope itself
	field string
	name  string
}

// parseFieldRefs parses a comma-separated add.fields or add.headers value
// as Debezium's FieldReference does: an unqualified field belongs to the
// envelope (op, ts_ms, ts_us, ts_ns), the transaction block (id,
// total_order, data_collection_order) or else the source block.
func parseFieldRefs(prefix string, items []string) ([]fieldRef, error) {
	var refs []fieldRef
	for _, item := range items {
		path, alias, aliased := strings.Cut(item, ":")
		if strings.Contains(alias, ":") || (aliased && strings.TrimSpace(alias) == "") {
			return nil, fmt.Errorf("invalid field %q: use field, block.field, or either followed by :name", item)
		}
		path = strings.TrimSpace(path)
		block, field, qualified := strings.Cut(path, ".")
		if field == "" && qualified || block == "" || strings.Contains(field, ".") {
			return nil, fmt.Errorf("invalid field %q: use field, block.field, or either followed by :name", item)
		}
		r := fieldRef{}
		if qualified {
			r.block, r.field = block, field
			r.name = prefix + block + "_" + field
		} else {
			r.field = block
			r.block = blockOf(block)
			r.name = prefix + block
		}
		if aliased {
			r.name = prefix + strings.TrimSpace(alias)
		}
		refs = append(refs, r)
	}
	return refs, nil
}

// blockOf is the envelope block an unqualified field belongs to.
func blockOf(field string) string {
	switch field {
	case "id", "total_order", "data_collection_order":
		return "transaction"
	case "op", "ts_ms", "ts_us", "ts_ns":
		return ""
	}
	return "source"
}

// boundRef is a fieldRef resolved against one envelope schema: where its
// value is and the (optional) schema it is added with.
type boundRef struct {
	name   string
	schema *event.Schema
	block  int // index of the block in the envelope, -1 for the envelope itself
	field  int // index of the field in the block (or the envelope)
}

// bind resolves the reference in the envelope schema as Debezium does: the
// field of the block, else a field of that name of the envelope itself (one
// another transform added), else nothing (false: the field is not added).
func (r fieldRef) bind(envelope *event.Schema) (boundRef, bool) {
	b := boundRef{name: r.name, block: -1, field: -1}
	if r.block != "" {
		if bi := envelope.FieldIndex(r.block); bi >= 0 && envelope.Fields[bi].Schema.Type == event.Struct {
			if fi := envelope.Fields[bi].Schema.FieldIndex(r.field); fi >= 0 {
				b.block, b.field = bi, fi
				b.schema = optionalCopy(envelope.Fields[bi].Schema.Fields[fi].Schema)
				return b, true
			}
		}
	}
	if fi := envelope.FieldIndex(r.field); fi >= 0 {
		b.field = fi
		b.schema = optionalCopy(envelope.Fields[fi].Schema)
		return b, true
	}
	return b, false
}

// value is the referenced value in an envelope value; null when its block is.
func (b boundRef) value(envelope event.Row) any {
	if b.block < 0 {
		return envelope[b.field]
	}
	block, _ := envelope[b.block].(event.Row)
	if block == nil {
		return nil
	}
	return block[b.field]
}

// optionalCopy is s made optional without a default, as Kafka Connect's
// SchemaUtil.copySchemaBasics(s).optional() builds it.
func optionalCopy(s *event.Schema) *event.Schema {
	c := *s
	c.Optional = true
	c.Default = nil
	return &c
}

// isEnvelope reports whether a value schema is Debezium's change event
// envelope: a struct whose name ends in ".Envelope", as Debezium's
// SmtManager.isValidEnvelope decides.
func isEnvelope(s *event.Schema) bool {
	return s != nil && s.Type == event.Struct && strings.HasSuffix(s.Name, ".Envelope")
}
