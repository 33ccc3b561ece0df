package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/sluice-cdc/sluice/schema/event"
)

// FromAvro parses Avro schema JSON — one sluice registered, or one Debezium
// and Confluent's AvroConverter registered — into an event.Schema, the way
// the AvroConverter reads schemas back into Kafka Connect:
//
//   - "connect.name", "connect.version", "connect.parameters", "connect.doc",
//     "connect.default" and "connect.type" (int8, int16) restore the Connect
//     schema exactly, so AvroJSON followed by FromAvro gives back the schema;
//   - without them, the logical types decimal, date, time-millis and
//     timestamp-millis become Connect's Decimal, Date, Time and Timestamp, a
//     record is a struct named by its full name, and defaults come from the
//     fields' "default";
//   - unions of "null" and one type are optional values.
//
// Avro types with no Kafka Connect counterpart in the model — maps, enums,
// fixed, and unions of several non-null types — are an error naming where
// they occur.
func FromAvro(schemaJSON string) (*event.Schema, error) {
	dec := json.NewDecoder(strings.NewReader(schemaJSON))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("parse Avro schema: %w", err)
	}
	p := avroParser{named: map[string]*event.Schema{}}
	s, err := p.schema(v, "", "")
	if err != nil {
		return nil, fmt.Errorf("parse Avro schema: %w", err)
	}
	return s, nil
}

// avroParser converts one schema; named holds the records defined so far by
// full name.
type avroParser struct {
	named map[string]*event.Schema
}

var avroPrimitives = map[string]event.Type{
	"boolean": event.Boolean,
	"int":     event.Int32,
	"long":    event.Int64,
	"float":   event.Float32,
	"double":  event.Float64,
	"string":  event.String,
	"bytes":   event.Bytes,
}

// schema converts a schema in JSON form; ns is the enclosing namespace and
// at names the place for errors. It returns a schema the caller may modify.
func (p *avroParser) schema(v any, ns, at string) (*event.Schema, error) {
	switch x := v.(type) {
	case string:
		if t, ok := avroPrimitives[x]; ok {
			return &event.Schema{Type: t}, nil
		}
		if x == "null" {
			return nil, fmt.Errorf("%s: a bare null type has no Kafka Connect counterpart", where(at))
		}
		return p.ref(x, ns, at)
	case []any:
		return p.union(x, ns, at)
	case map[string]any:
		return p.object(x, ns, at)
	}
	return nil, fmt.Errorf("%s: a schema must be a string, an array or an object, not %T", where(at), v)
}

// ref resolves a reference to a record defined earlier.
func (p *avroParser) ref(name, ns, at string) (*event.Schema, error) {
	full := name
	if !strings.Contains(name, ".") && ns != "" {
		full = ns + "." + name
	}
	s, ok := p.named[full]
	if !ok {
		if s, ok = p.named[name]; !ok {
			return nil, fmt.Errorf("%s: unknown type %q", where(at), name)
		}
	}
	c := *s
	return &c, nil
}

func (p *avroParser) union(branches []any, ns, at string) (*event.Schema, error) {
	if len(branches) == 2 {
		for i, b := range branches {
			if b == "null" {
				s, err := p.schema(branches[1-i], ns, at)
				if err != nil {
					return nil, err
				}
				s.Optional = true
				return s, nil
			}
		}
	}
	return nil, fmt.Errorf("%s: only unions of null and one type have a Kafka Connect counterpart", where(at))
}

func (p *avroParser) object(o map[string]any, ns, at string) (*event.Schema, error) {
	typ, _ := o["type"].(string)
	var s *event.Schema
	switch typ {
	case "record", "error":
		return p.record(o, ns, at)
	case "array":
		elem, err := p.schema(o["items"], ns, at+"[]")
		if err != nil {
			return nil, err
		}
		s = &event.Schema{Type: event.Array, Elem: elem}
	case "map", "enum", "fixed":
		return nil, fmt.Errorf("%s: Avro %s has no Kafka Connect counterpart in sluice", where(at), typ)
	default:
		t, ok := avroPrimitives[typ]
		if !ok {
			return nil, fmt.Errorf("%s: unknown type %v", where(at), o["type"])
		}
		s = &event.Schema{Type: t}
		if t == event.Int32 {
			switch o[propConnectType] {
			case "int8":
				s.Type = event.Int8
			case "int16":
				s.Type = event.Int16
			}
		}
	}
	if err := connectProps(s, o); err != nil {
		return nil, fmt.Errorf("%s: %w", where(at), err)
	}
	if _, ok := o[propConnectName]; !ok {
		if err := logicalProps(s, o); err != nil {
			return nil, fmt.Errorf("%s: %w", where(at), err)
		}
	}
	return s, nil
}

func (p *avroParser) record(o map[string]any, ns, at string) (*event.Schema, error) {
	name, _ := o["name"].(string)
	if name == "" {
		return nil, fmt.Errorf("%s: record without a name", where(at))
	}
	full := name
	if space, ok := o["namespace"].(string); ok && !strings.Contains(name, ".") {
		ns = space
	}
	if !strings.Contains(name, ".") && ns != "" {
		full = ns + "." + name
	}
	recordNS, _ := splitName(full)
	s := &event.Schema{Type: event.Struct, Name: full}
	if _, n := splitName(full); strings.HasPrefix(n, connectDefaultName) && recordNS == connectDefaultNamespace {
		s.Name = ""
	}
	fields, ok := o["fields"].([]any)
	if !ok {
		return nil, fmt.Errorf("%s: record %s without fields", where(at), full)
	}
	for _, fv := range fields {
		fo, ok := fv.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("record %s: a field must be an object", full)
		}
		fname, _ := fo["name"].(string)
		fs, err := p.schema(fo["type"], recordNS, fieldPath(at, fname))
		if err != nil {
			return nil, err
		}
		if doc, ok := fo["doc"].(string); ok && fs.Doc == "" {
			fs.Doc = doc
		}
		if d, ok := fo["default"]; ok && d != nil && fs.Default == nil {
			if fs.Default, err = defaultValue(fs, d); err != nil {
				return nil, fmt.Errorf("%s: default: %w", where(fieldPath(at, fname)), err)
			}
		}
		s.Fields = append(s.Fields, event.Field{Name: fname, Schema: fs})
	}
	if err := connectProps(s, o); err != nil {
		return nil, fmt.Errorf("%s: %w", where(at), err)
	}
	if _, dup := p.named[full]; dup {
		return nil, fmt.Errorf("%s: record %s is defined twice", where(at), full)
	}
	p.named[full] = s
	c := *s
	return &c, nil
}

// connectProps applies the connect.* properties Confluent writes.
func connectProps(s *event.Schema, o map[string]any) error {
	if v, ok := o[propConnectName]; ok {
		name, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s must be a string", propConnectName)
		}
		s.Name = name
	}
	if v, ok := o[propConnectVersion]; ok {
		n, ok := v.(json.Number)
		version, err := strconv.Atoi(string(n))
		if !ok || err != nil {
			return fmt.Errorf("%s must be an integer, not %v", propConnectVersion, v)
		}
		s.Version = version
	}
	if v, ok := o[propConnectDoc]; ok {
		doc, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s must be a string", propConnectDoc)
		}
		s.Doc = doc
	}
	if v, ok := o[propConnectParameters]; ok {
		params, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s must be an object", propConnectParameters)
		}
		s.Params = make(map[string]string, len(params))
		for k, pv := range params {
			str, ok := pv.(string)
			if !ok {
				return fmt.Errorf("%s %q must be a string", propConnectParameters, k)
			}
			s.Params[k] = str
		}
	}
	if v, ok := o[propConnectDefault]; ok && v != nil {
		d, err := defaultValue(s, v)
		if err != nil {
			return fmt.Errorf("%s: %w", propConnectDefault, err)
		}
		s.Default = d
	}
	return nil
}

// logicalProps maps Avro logical types to Kafka Connect's semantic types for
// schemas written without connect.* properties.
func logicalProps(s *event.Schema, o map[string]any) error {
	lt, _ := o[propLogicalType].(string)
	switch {
	case lt == "decimal" && s.Type == event.Bytes:
		scale, _ := o["scale"].(json.Number)
		if scale == "" {
			scale = "0"
		}
		if _, err := strconv.ParseInt(string(scale), 10, 32); err != nil {
			return fmt.Errorf("decimal scale %v: %w", o["scale"], err)
		}
		s.Name, s.Version = event.DecimalName, 1
		s.Params = map[string]string{event.DecimalScaleParam: string(scale)}
		if precision, ok := o["precision"].(json.Number); ok {
			s.Params[event.DecimalPrecisionParam] = string(precision)
		}
	case lt == "date" && s.Type == event.Int32:
		s.Name, s.Version = event.ConnectDateName, 1
	case lt == "time-millis" && s.Type == event.Int32:
		s.Name, s.Version = event.ConnectTimeName, 1
	case lt == "timestamp-millis" && s.Type == event.Int64:
		s.Name, s.Version = event.ConnectTimestampName, 1
	}
	return nil
}

// defaultValue converts a default in Avro's JSON form to the Go form a Row
// holds for schema s.
func defaultValue(s *event.Schema, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	bad := func() (any, error) { return nil, fmt.Errorf("%v is not a %s value", v, s.Type) }
	switch s.Type {
	case event.Boolean:
		b, ok := v.(bool)
		if !ok {
			return bad()
		}
		return b, nil
	case event.Int8, event.Int16, event.Int32, event.Int64:
		n, ok := v.(json.Number)
		if !ok {
			return bad()
		}
		return intOf(s.Type, string(n))
	case event.Float32, event.Float64:
		n, ok := v.(json.Number)
		if !ok {
			return bad()
		}
		if s.Type == event.Float32 {
			f, err := strconv.ParseFloat(string(n), 32)
			return float32(f), err
		}
		return strconv.ParseFloat(string(n), 64)
	case event.String:
		str, ok := v.(string)
		if !ok {
			return bad()
		}
		return str, nil
	case event.Bytes:
		b, err := latin1Bytes(v)
		if err != nil {
			return nil, err
		}
		if s.Name == event.DecimalName {
			scale, err := decimalScale(s)
			if err != nil {
				return nil, err
			}
			return event.Decimal{Unscaled: unscaledInt(b), Scale: scale}, nil
		}
		return b, nil
	case event.Array:
		list, ok := v.([]any)
		if !ok {
			return bad()
		}
		out := make([]any, len(list))
		for i, e := range list {
			var err error
			if out[i], err = defaultValue(s.Elem, e); err != nil {
				return nil, fmt.Errorf("element %d: %w", i, err)
			}
		}
		return out, nil
	case event.Struct:
		o, ok := v.(map[string]any)
		if !ok {
			return bad()
		}
		if s.Name == event.VariableDecimalName {
			scale, _ := o["scale"].(json.Number)
			sc, err := strconv.ParseInt(string(scale), 10, 32)
			if err != nil {
				return nil, fmt.Errorf("scale: %w", err)
			}
			b, err := latin1Bytes(o["value"])
			if err != nil {
				return nil, err
			}
			return event.Decimal{Unscaled: unscaledInt(b), Scale: int32(sc)}, nil
		}
		out := make([]any, len(s.Fields))
		for i, f := range s.Fields {
			var err error
			if out[i], err = defaultValue(f.Schema, o[FieldName(f.Name)]); err != nil {
				return nil, fmt.Errorf("field %q: %w", f.Name, err)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown schema type %s", s.Type)
}

// latin1Bytes reads bytes from Avro's JSON form, a string of code points 0-255.
func latin1Bytes(v any) ([]byte, error) {
	str, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("bytes default %v is not a string", v)
	}
	var b bytes.Buffer
	for _, r := range str {
		if r > 0xFF {
			return nil, errors.New("bytes default has a character above U+00FF")
		}
		b.WriteByte(byte(r))
	}
	return b.Bytes(), nil
}

// unscaledInt reads a two's complement big-endian integer.
func unscaledInt(b []byte) *big.Int {
	return setUnscaled(new(big.Int), make([]big.Word, unscaledWords(len(b))), b)
}

func fieldPath(at, name string) string {
	if at == "" {
		return name
	}
	return at + "." + name
}

func where(at string) string {
	if at == "" {
		return "top level"
	}
	return fmt.Sprintf("field %q", at)
}
