package transforms

import (
	"fmt"
	"log/slog"
	"regexp"
	"strings"

	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

func init() {
	Register(Type{
		Name:    "EventRouter",
		Aliases: []string{"io.debezium.transforms.outbox.EventRouter"},
		Doc: "Debezium's outbox event router: each row inserted into an outbox table becomes a record on the topic its " +
			"route.by.field column names (outbox.event.<aggregatetype>), keyed by its aggregateid, with its payload as the value " +
			"and its id as the header id. Updates are skipped (as table.op.invalid.behavior says), deletes and tombstones dropped.",
		Spec: &conf.Spec{Keys: []conf.Key{
			{Name: "table.field.event.id", Type: conf.String, Default: "id", Doc: "The column holding the event id, sent as the header id."},
			{Name: "table.field.event.key", Type: conf.String, Default: "aggregateid", Doc: "The column holding the record key."},
			{Name: "table.field.event.type", Type: conf.String, Default: "type", Doc: "The column holding the event type; place it with table.fields.additional.placement (type:header) to send it."},
			{Name: "table.field.event.payload", Type: conf.String, Default: "payload", Doc: "The column holding the record value."},
			{Name: "table.field.event.timestamp", Type: conf.String, Doc: "A timestamp column (io.debezium.time.Timestamp, MicroTimestamp or NanoTimestamp) giving the record's timestamp; empty: the event's ts_ms."},
			{Name: "table.field.event.schema.version", Type: conf.String, Doc: "An int32 column whose value becomes the version of the value schema (with envelope placements)."},
			{Name: "table.fields.additional.placement", Type: conf.List, Check: checkPlacements,
				Doc: "More columns to send, as column:header[:alias] or column:envelope[:alias]; with an envelope placement the value becomes a struct of payload and those columns."},
			{Name: "table.field.additional.missing", Type: conf.String, Default: "error", Allowed: []string{"error", "ignore"}, Doc: "What a placed column missing from the table does: error or ignore (it is not sent)."},
			{Name: "route.by.field", Type: conf.String, Default: "aggregatetype", Doc: "The column whose value routes the record, as ${routedByValue} of route.topic.replacement."},
			{Name: "route.topic.regex", Type: conf.String, Default: "(?<routedByValue>.*)", Check: checkRegex, Doc: "Regular expression matched against the whole value of route.by.field."},
			{Name: "route.topic.replacement", Type: conf.String, Default: "outbox.event.${routedByValue}", Doc: "The topic; ${name} and $1 refer to the expression's groups, as in Java."},
			{Name: "route.tombstone.on.empty.payload", Type: conf.Boolean, Default: "false", Doc: "Whether a null or blank payload becomes a tombstone (null value and value schema)."},
			{Name: "table.op.invalid.behavior", Type: conf.String, Default: "warn", Allowed: []string{"warn", "error", "fatal"},
				Doc: "What an update of the outbox table does: warn or error log it and skip it, fatal fails the connector."},
			{Name: "table.expand.json.payload", Type: conf.Boolean, Default: "false", Check: refuseExpandJSON, Doc: "Not supported: only false is accepted."},
		}},
		New: newOutbox,
	})
}

func refuseExpandJSON(v string) error {
	if strings.EqualFold(strings.TrimSpace(v), "true") {
		return fmt.Errorf("not supported: the payload is sent as the column holds it (a JSON string for json, jsonb or text); leave it false")
	}
	return nil
}

// placement is one item of table.fields.additional.placement.
type placement struct {
	column, alias string
	header        bool // else the envelope
}

func parsePlacements(items []string) ([]placement, error) {
	var out []placement
	for _, item := range items {
		parts := strings.Split(item, ":")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || (len(parts) == 3 && parts[2] == "") {
			return nil, fmt.Errorf("invalid placement %q: use column:header, column:envelope, or either followed by :alias", item)
		}
		p := placement{column: parts[0], alias: parts[0]}
		if len(parts) == 3 {
			p.alias = parts[2]
		}
		switch strings.ToLower(parts[1]) {
		case "header":
			p.header = true
		case "envelope":
		case "partition":
			return nil, fmt.Errorf("invalid placement %q: sluice's records carry no partition; use header or envelope", item)
		default:
			return nil, fmt.Errorf("invalid placement %q: %q is not header or envelope", item, parts[1])
		}
		out = append(out, p)
	}
	return out, nil
}

func checkPlacements(v string) error {
	_, err := parsePlacements(conf.SplitList(v))
	return err
}

// outbox is Debezium's outbox EventRouter (EventRouterDelegate). It is
// called from one goroutine at a time, as a chain is.
type outbox struct {
	id, key, payload, timestamp, version, routeBy string
	placements                                    []placement
	ignoreMissing                                 bool
	tombstoneOnEmpty                              bool
	onUpdate                                      string
	re                                            *regexp.Regexp
	template                                      string
	log                                           *slog.Logger

	shapes map[*event.Schema]*outboxShape
}

// outboxShape is what the router derived from one outbox row schema.
type outboxShape struct {
	after                              int // index of after in the envelope
	id, key, payload, timestamp, route int // column indexes; timestamp -1 when unset
	version                            int // -1 when unset
	keySchema, payloadSchema, idSchema *event.Schema
	timestampUnit                      int64 // divisor to milliseconds
	headers, envelope                  []placedColumn
	// values are the value schemas of envelope placements, one per routed
	// value (their names hold it) and schema version.
	values map[valueUse]*event.Schema
}

type placedColumn struct {
	alias  string
	index  int
	schema *event.Schema
}

type valueUse struct {
	routed  string
	version int32
}

func newOutbox(c *conf.Config) (Transform, error) {
	placements, _ := parsePlacements(c.List("table.fields.additional.placement"))
	return &outbox{
		id: c.String("table.field.event.id"), key: c.String("table.field.event.key"), payload: c.String("table.field.event.payload"),
		timestamp: c.String("table.field.event.timestamp"), version: c.String("table.field.event.schema.version"),
		routeBy: c.String("route.by.field"), placements: placements,
		ignoreMissing:    c.Enum("table.field.additional.missing") == "ignore",
		tombstoneOnEmpty: c.Bool("route.tombstone.on.empty.payload"),
		onUpdate:         c.Enum("table.op.invalid.behavior"),
		re:               regexp.MustCompile("^(?:" + c.String("route.topic.regex") + ")$"),
		template:         javaReplacement(c.String("route.topic.replacement")),
		log:              slog.Default().With("transform", "EventRouter"),
		shapes:           map[*event.Schema]*outboxShape{},
	}, nil
}

// Apply routes a create (or snapshot read) of an outbox row; it drops
// tombstones, deletes and truncates, skips updates as
// table.op.invalid.behavior says, and passes records that are not
// Debezium envelopes unchanged.
func (o *outbox) Apply(r *record.Record) (*record.Record, error) {
	if r.Value == nil {
		return nil, nil
	}
	envelope, ok := r.Value.(event.Row)
	if !isEnvelope(r.ValueSchema) || !ok {
		return r, nil
	}
	op, _ := envelopeField(r.ValueSchema, envelope, "op").(string)
	switch op {
	case "d", "t":
		return nil, nil
	case "u":
		switch o.onUpdate {
		case "fatal":
			return nil, fmt.Errorf("unexpected update of the outbox table on %s (key %v); table.op.invalid.behavior=fatal", r.Topic, r.Key)
		case "error":
			o.log.Error("unexpected update of the outbox table ignored", "topic", r.Topic)
		default:
			o.log.Warn("unexpected update of the outbox table ignored", "topic", r.Topic)
		}
		return nil, nil
	}
	shape, err := o.shape(r.ValueSchema)
	if err != nil {
		return nil, err
	}
	row, _ := envelope[shape.after].(event.Row)
	if row == nil {
		return nil, fmt.Errorf("%s event on %s has no row after it", op, r.Topic)
	}
	routed, ok := row[shape.route].(string)
	if !ok {
		return nil, fmt.Errorf("route.by.field: column %q is null", o.routeBy)
	}
	out := &record.Record{
		Topic:     routed,
		KeySchema: shape.keySchema, Key: row[shape.key],
		Headers:   append(append([]record.Header(nil), r.Headers...), record.Header{Key: "id", Schema: shape.idSchema, Value: row[shape.id]}),
		Timestamp: r.Timestamp,
	}
	if ts, ok := envelopeField(r.ValueSchema, envelope, "ts_ms").(int64); ok {
		out.Timestamp = ts
	}
	if shape.timestamp >= 0 {
		if ts, ok := row[shape.timestamp].(int64); ok {
			out.Timestamp = ts / shape.timestampUnit
		}
	}
	for _, h := range shape.headers {
		out.Headers = append(out.Headers, record.Header{Key: h.alias, Schema: h.schema, Value: row[h.index]})
	}
	payload := row[shape.payload]
	switch {
	case o.tombstoneOnEmpty && blank(payload):
	case len(shape.envelope) == 0:
		out.ValueSchema, out.Value = shape.payloadSchema, payload
	default:
		var version int32
		if shape.version >= 0 {
			version, _ = row[shape.version].(int32)
		}
		value := make(event.Row, 0, 1+len(shape.envelope))
		value = append(value, payload)
		for _, e := range shape.envelope {
			value = append(value, row[e.index])
		}
		out.ValueSchema, out.Value = o.valueSchema(shape, r.ValueSchema.Fields[shape.after].Schema, routed, version), value
	}
	if m := o.re.FindStringSubmatchIndex(out.Topic); m != nil {
		out.Topic = string(o.re.ExpandString(nil, o.template, routed, m))
	}
	return out, nil
}

// valueSchema is the struct of payload and the envelope placements, named
// as Debezium names it ("<prefix>.<schema>.<table>.<routed value>.Value"),
// derived once per routed value and schema version.
func (o *outbox) valueSchema(shape *outboxShape, row *event.Schema, routed string, version int32) *event.Schema {
	use := valueUse{routed, version}
	if s := shape.values[use]; s != nil {
		return s
	}
	name := routed
	if row.Name != "" {
		if dot := strings.LastIndexByte(row.Name, '.'); dot >= 0 {
			name = row.Name[:dot+1] + routed + row.Name[dot:]
		} else {
			name = routed + "." + row.Name
		}
	}
	s := &event.Schema{Type: event.Struct, Name: name, Version: int(version), Fields: []event.Field{{Name: "payload", Schema: shape.payloadSchema}}}
	for _, e := range shape.envelope {
		s.Fields = append(s.Fields, event.Field{Name: e.alias, Schema: e.schema})
	}
	shape.values[use] = s
	return s
}

// shape returns what the router derived from an envelope schema, deriving
// it the first time; a missing column is an error naming its key.
func (o *outbox) shape(envelope *event.Schema) (*outboxShape, error) {
	if s := o.shapes[envelope]; s != nil {
		return s, nil
	}
	s := &outboxShape{after: envelope.FieldIndex("after"), timestamp: -1, version: -1, timestampUnit: 1, values: map[valueUse]*event.Schema{}}
	if s.after < 0 || envelope.Fields[s.after].Schema.Type != event.Struct {
		return nil, fmt.Errorf("envelope %s has no after struct", envelope.Name)
	}
	row := envelope.Fields[s.after].Schema
	column := func(key, name string) (int, error) {
		i := row.FieldIndex(name)
		if i < 0 {
			return -1, fmt.Errorf("%s: the outbox table %s has no column %q", key, schemaName(row), name)
		}
		return i, nil
	}
	var err error
	if s.id, err = column("table.field.event.id", o.id); err != nil {
		return nil, err
	}
	if s.key, err = column("table.field.event.key", o.key); err != nil {
		return nil, err
	}
	if s.payload, err = column("table.field.event.payload", o.payload); err != nil {
		return nil, err
	}
	if s.route, err = column("route.by.field", o.routeBy); err != nil {
		return nil, err
	}
	if t := row.Fields[s.route].Schema.Type; t != event.String {
		return nil, fmt.Errorf("route.by.field: column %q is a %s, not a string", o.routeBy, t)
	}
	s.idSchema, s.keySchema, s.payloadSchema = row.Fields[s.id].Schema, row.Fields[s.key].Schema, row.Fields[s.payload].Schema
	if o.timestamp != "" {
		if s.timestamp, err = column("table.field.event.timestamp", o.timestamp); err != nil {
			return nil, err
		}
		switch ts := row.Fields[s.timestamp].Schema; ts.Name {
		case event.ConnectTimestampName, event.TimestampName:
		case event.MicroTimestampName:
			s.timestampUnit = 1_000
		case event.NanoTimestampName:
			s.timestampUnit = 1_000_000
		default:
			kind := ts.Type.String()
			if ts.Name != "" {
				kind += " " + ts.Name
			}
			return nil, fmt.Errorf("table.field.event.timestamp: column %q is a %s, not a timestamp (io.debezium.time.Timestamp, MicroTimestamp or NanoTimestamp)", o.timestamp, kind)
		}
	}
	if o.version != "" {
		if s.version, err = column("table.field.event.schema.version", o.version); err != nil {
			return nil, err
		}
		if t := row.Fields[s.version].Schema.Type; t != event.Int32 {
			return nil, fmt.Errorf("table.field.event.schema.version: column %q is a %s, not an int32", o.version, t)
		}
	}
	for _, p := range o.placements {
		i := row.FieldIndex(p.column)
		if i < 0 {
			if o.ignoreMissing {
				continue
			}
			return nil, fmt.Errorf("table.fields.additional.placement: the outbox table %s has no column %q", schemaName(row), p.column)
		}
		c := placedColumn{alias: p.alias, index: i, schema: row.Fields[i].Schema}
		if p.header {
			s.headers = append(s.headers, c)
		} else {
			s.envelope = append(s.envelope, c)
		}
	}
	o.shapes[envelope] = s
	return s, nil
}

// envelopeField is the value of a top-level field of a struct value, or nil.
func envelopeField(s *event.Schema, v event.Row, name string) any {
	_, x, _ := record.Field(s, v, name)
	return x
}

// blank reports whether a payload is null or, as text, blank: Debezium's
// payload.toString().trim().isEmpty().
func blank(v any) bool {
	switch p := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(p) == ""
	case []byte:
		return strings.TrimSpace(string(p)) == ""
	}
	return false
}
