package transforms

import (
	"fmt"
	"strings"

	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

func init() {
	registerKeyValue("TimestampConverter", "Converts a timestamp field, or the whole key or value, between Unix epoch numbers, formatted strings and Kafka Connect's Date, Time and Timestamp, as Kafka Connect's TimestampConverter.",
		&conf.Spec{Keys: []conf.Key{
			{Name: "field", Type: conf.String, Doc: "The field containing the timestamp, or empty if the entire value is a timestamp."},
			{Name: "target.type", Type: conf.String, Required: true, Check: oneOf("string", "unix", "Date", "Time", "Timestamp"), Doc: "The desired timestamp representation: string, unix, Date, Time, or Timestamp."},
			{Name: "format", Type: conf.String, Check: checkDateFormat, Doc: "A java.text.SimpleDateFormat pattern (y, M, MMM, d, E, H, k, h, K, a, m, s, S, X, Z and quoted text), in UTC and English: the output when target.type is string, and how string inputs are parsed."},
			{Name: "unix.precision", Type: conf.String, Default: "milliseconds", Check: oneOf("nanoseconds", "microseconds", "milliseconds", "seconds"), Doc: "The precision of Unix timestamps, as output when target.type is unix and as read from int64 inputs: seconds, milliseconds, microseconds, or nanoseconds."},
			replaceNullKey,
		}},
		newTimestampConverter)
}

// oneOf is a case-sensitive choice, as Kafka Connect's ValidString.
func oneOf(allowed ...string) func(string) error {
	return func(v string) error {
		for _, a := range allowed {
			if strings.TrimSpace(v) == a {
				return nil
			}
		}
		return fmt.Errorf("invalid value %q: must be one of %s", v, strings.Join(allowed, ", "))
	}
}

func newTimestampConverter(c *conf.Config, s side) (Transform, error) {
	t := &timestampConverter{side: s, field: c.String("field"), target: c.String("target.type"), precision: c.String("unix.precision"),
		withDefault: c.Bool("replace.null.with.default"), cache: schemaCache[*event.Schema]{}}
	if p := c.String("format"); p != "" {
		t.format, _ = parseDateFormat(p)
	} else if t.target == "string" {
		return nil, problem("format", "TimestampConverter requires format option to be specified when using string timestamps")
	}
	return t, nil
}

// timestampConverter is Kafka Connect's TimestampConverter$Key and $Value.
// It goes through Unix milliseconds, so sub-millisecond parts are lost as in
// Kafka Connect. A null timestamp stays null; a tombstone passes through.
type timestampConverter struct {
	side        side
	field       string // "": the whole key or value
	target      string
	format      *dateFormat
	precision   string
	withDefault bool
	cache       schemaCache[*event.Schema]
}

func (t *timestampConverter) Apply(r *record.Record) (*record.Record, error) {
	schema, v := t.side.get(r)
	if schema == nil {
		if v == nil {
			return r, nil
		}
		return nil, fmt.Errorf("converting timestamp formats needs a %s with a schema; this record's %s has none", t.side, t.side)
	}
	out, err := t.cache.get(schema, t.outSchema)
	if err != nil {
		return nil, err
	}
	if t.field == "" {
		nv, err := t.convert(schema, v)
		if err != nil {
			return nil, err
		}
		return t.side.with(r, out, nv), nil
	}
	if v == nil {
		return t.side.with(r, out, nil), nil
	}
	row, err := requireStruct(schema, v, t.side, "converting timestamp formats")
	if err != nil {
		return nil, err
	}
	nv := make(event.Row, len(row))
	for i, f := range schema.Fields {
		nv[i] = fieldValue(f, row[i], t.withDefault)
		if f.Name == t.field {
			if nv[i], err = t.convert(f.Schema, nv[i]); err != nil {
				return nil, fmt.Errorf("field %q: %w", f.Name, err)
			}
		}
	}
	return t.side.with(r, out, nv), nil
}

func (t *timestampConverter) outSchema(s *event.Schema) (*event.Schema, error) {
	if t.field == "" {
		if _, err := timestampKind(s); err != nil {
			return nil, err
		}
		return t.targetSchema(s.Optional), nil
	}
	if !isStruct(s) {
		return nil, fmt.Errorf("converting timestamp formats needs a struct %s to convert field %q; this record's %s is %s", t.side, t.field, t.side, describe(s))
	}
	fields := append([]event.Field(nil), s.Fields...)
	for i, f := range fields {
		if f.Name == t.field {
			if _, err := timestampKind(f.Schema); err != nil {
				return nil, fmt.Errorf("field %q: %w", f.Name, err)
			}
			fields[i].Schema = t.targetSchema(f.Schema.Optional)
		}
	}
	out := structLike(s, fields)
	out.Optional = s.Optional
	return out, nil
}

func (t *timestampConverter) targetSchema(optional bool) *event.Schema {
	switch t.target {
	case "string":
		return &event.Schema{Type: event.String, Optional: optional}
	case "unix":
		return &event.Schema{Type: event.Int64, Optional: optional}
	case "Date":
		return &event.Schema{Type: event.Int32, Name: event.ConnectDateName, Version: 1, Optional: optional}
	case "Time":
		return &event.Schema{Type: event.Int32, Name: event.ConnectTimeName, Version: 1, Optional: optional}
	}
	return &event.Schema{Type: event.Int64, Name: event.ConnectTimestampName, Version: 1, Optional: optional}
}

// timestampKind is how a schema holds a timestamp, as Kafka Connect reads
// it: a Connect Timestamp, Date or Time, a string, or an int64 Unix time.
func timestampKind(s *event.Schema) (string, error) {
	switch {
	case s.Name == event.ConnectTimestampName:
		return "Timestamp", nil
	case s.Name == event.ConnectDateName:
		return "Date", nil
	case s.Name == event.ConnectTimeName:
		return "Time", nil
	case s.Type == event.String:
		return "string", nil
	case s.Type == event.Int64:
		return "unix", nil
	}
	return "", fmt.Errorf("schema %s does not correspond to a known timestamp type format", describe(s))
}

var unixMillis = map[string]int64{"seconds": 1000, "milliseconds": 1, "microseconds": 1000, "nanoseconds": 1_000_000}

// convert turns a timestamp of schema s into the target type.
func (t *timestampConverter) convert(s *event.Schema, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	kind, err := timestampKind(s)
	if err != nil {
		return nil, err
	}
	var ms int64
	switch x := v.(type) {
	case string:
		if t.format == nil {
			return nil, fmt.Errorf("a string timestamp needs format to be parsed")
		}
		if ms, err = t.format.parse(x); err != nil {
			return nil, err
		}
	case int32:
		ms = int64(x)
		if kind == "Date" {
			ms *= millisPerDay
		}
	case int64:
		ms = x
		if kind == "unix" {
			switch t.precision {
			case "seconds":
				ms = x * 1000
			case "microseconds", "nanoseconds":
				ms = x / unixMillis[t.precision]
			}
		}
	default:
		return nil, fmt.Errorf("expected a %s timestamp, found %T", kind, v)
	}
	switch t.target {
	case "string":
		return t.format.format(ms), nil
	case "unix":
		switch t.precision {
		case "seconds":
			return ms / 1000, nil
		case "microseconds", "nanoseconds":
			return ms * unixMillis[t.precision], nil
		}
		return ms, nil
	case "Date":
		return int32(floorDiv(ms, millisPerDay)), nil
	case "Time":
		return int32(ms - floorDiv(ms, millisPerDay)*millisPerDay), nil
	}
	return ms, nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
