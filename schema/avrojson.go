package schema

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"unicode/utf8"

	"github.com/sluice-cdc/sluice/schema/event"
)

// Avro properties written by Confluent's AvroConverter to carry Kafka Connect
// schema details that Avro itself has no place for.
const (
	propConnectName       = "connect.name"
	propConnectVersion    = "connect.version"
	propConnectParameters = "connect.parameters"
	propConnectDoc        = "connect.doc"
	propConnectDefault    = "connect.default"
	propConnectType       = "connect.type"
	propLogicalType       = "logicalType"
)

// Confluent names unnamed Connect structs io.confluent.connect.avro.ConnectDefault,
// then ConnectDefault2, ConnectDefault3, … within one schema.
const (
	connectDefaultNamespace = "io.confluent.connect.avro"
	connectDefaultName      = "ConnectDefault"
)

// defaultDecimalPrecision is the Avro precision Confluent writes for a Decimal
// whose schema has no connect.decimal.precision parameter.
const defaultDecimalPrecision = 64

// AvroJSON renders s as the Avro schema JSON that Confluent's AvroConverter
// registers for the equivalent Kafka Connect schema: Connect types map to Avro
// types (int8 and int16 to "int" with "connect.type"), semantic names,
// versions, parameters, docs and defaults travel as "connect.*" properties,
// Decimal gets the "decimal" logical type with precision and scale (when
// Avro allows them: 0 <= scale <= precision), optional
// values become unions with "null" (first, with a null default, unless the
// schema has a default of its own), and a record defined once is referenced
// by name afterwards. Names are made valid with AvroName and FieldName.
//
// The output is compact and its keys are in the order Avro's Java library
// writes them, so it matches what a Debezium deployment registers.
func AvroJSON(s *event.Schema) (string, error) {
	w := jsonWriter{defined: map[string]*event.Schema{}}
	if err := w.schema(s, ""); err != nil {
		return "", err
	}
	return string(w.b), nil
}

// jsonWriter renders one schema; defined remembers the records written so far.
type jsonWriter struct {
	b       []byte
	defined map[string]*event.Schema
	unnamed int // unnamed structs seen, for ConnectDefault names
}

// nullFirst reports whether an optional schema's union lists "null" first,
// which Confluent does unless the schema has a default (an Avro union's
// default must match its first branch).
func nullFirst(s *event.Schema) bool { return s.Default == nil }

func (w *jsonWriter) schema(s *event.Schema, ns string) error {
	if s == nil {
		return errors.New("missing schema")
	}
	if !s.Optional {
		return w.base(s, ns)
	}
	if nullFirst(s) {
		w.raw(`["null",`)
		if err := w.base(s, ns); err != nil {
			return err
		}
		w.raw(`]`)
		return nil
	}
	w.raw(`[`)
	if err := w.base(s, ns); err != nil {
		return err
	}
	w.raw(`,"null"]`)
	return nil
}

// primitiveNames are the Avro types of the Connect primitives.
var primitiveNames = map[event.Type]string{
	event.Boolean: "boolean",
	event.Int8:    "int",
	event.Int16:   "int",
	event.Int32:   "int",
	event.Int64:   "long",
	event.Float32: "float",
	event.Float64: "double",
	event.String:  "string",
	event.Bytes:   "bytes",
}

func (w *jsonWriter) base(s *event.Schema, ns string) error {
	switch s.Type {
	case event.Struct:
		return w.record(s, ns)
	case event.Array:
		if s.Elem == nil {
			return errors.New("array schema without element schema")
		}
		w.raw(`{"type":"array","items":`)
		if err := w.schema(s.Elem, ns); err != nil {
			return fmt.Errorf("array element: %w", err)
		}
		if err := w.props(s); err != nil {
			return err
		}
		w.raw(`}`)
		return nil
	}
	avroType, ok := primitiveNames[s.Type]
	if !ok {
		return fmt.Errorf("unknown schema type %s", s.Type)
	}
	if !hasProps(s) {
		w.str(avroType)
		return nil
	}
	w.raw(`{"type":`)
	w.str(avroType)
	if err := w.props(s); err != nil {
		return err
	}
	w.raw(`}`)
	return nil
}

func hasProps(s *event.Schema) bool {
	return s.Type == event.Int8 || s.Type == event.Int16 || s.Name != "" || s.Version != 0 ||
		len(s.Params) > 0 || s.Doc != "" || s.Default != nil
}

// props writes the properties that follow "type" (and "items" or "fields"),
// in the order Confluent adds them.
func (w *jsonWriter) props(s *event.Schema) error {
	switch s.Type {
	case event.Int8, event.Int16:
		w.key(propConnectType)
		w.str(s.Type.String())
	}
	lt := logicalType(s)
	if s.Type == event.Bytes && s.Name == event.DecimalName {
		scale, err := decimalScale(s)
		if err != nil {
			return err
		}
		precision := defaultDecimalPrecision
		if p, ok := s.Params[event.DecimalPrecisionParam]; ok {
			if precision, err = strconv.Atoi(p); err != nil {
				return fmt.Errorf("decimal precision parameter %q: %w", p, err)
			}
		}
		w.key("scale")
		w.raw(strconv.Itoa(int(scale)))
		w.key("precision")
		w.raw(strconv.Itoa(precision))
		if scale < 0 || int(scale) > precision {
			// Not a decimal Avro can describe (Postgres allows numeric(2,-3) and
			// numeric(3,5)): the bytes and the connect.* properties carry it,
			// as Java's Avro reads it, which ignores such a logical type.
			lt = ""
		}
	}
	if s.Doc != "" {
		w.key(propConnectDoc)
		w.str(s.Doc)
	}
	if s.Version != 0 {
		w.key(propConnectVersion)
		w.raw(strconv.Itoa(s.Version))
	}
	if len(s.Params) > 0 {
		w.key(propConnectParameters)
		w.raw(`{`)
		for i, k := range paramOrder(s.Params) {
			if i > 0 {
				w.raw(`,`)
			}
			w.str(k)
			w.raw(`:`)
			w.str(s.Params[k])
		}
		w.raw(`}`)
	}
	if s.Default != nil {
		w.key(propConnectDefault)
		if err := w.value(s, s.Default); err != nil {
			return fmt.Errorf("default: %w", err)
		}
	}
	if s.Name != "" && s.Type != event.Struct {
		w.key(propConnectName)
		w.str(s.Name)
	}
	if lt != "" {
		w.key(propLogicalType)
		w.str(lt)
	}
	return nil
}

// logicalType returns the Avro logical type Confluent adds for Kafka Connect's
// own semantic types.
func logicalType(s *event.Schema) string {
	switch {
	case s.Type == event.Bytes && s.Name == event.DecimalName:
		return "decimal"
	case s.Type == event.Int32 && s.Name == event.ConnectDateName:
		return "date"
	case s.Type == event.Int32 && s.Name == event.ConnectTimeName:
		return "time-millis"
	case s.Type == event.Int64 && s.Name == event.ConnectTimestampName:
		return "timestamp-millis"
	}
	return ""
}

func (w *jsonWriter) record(s *event.Schema, ns string) error {
	full := AvroName(s.Name)
	if s.Name == "" {
		w.unnamed++
		full = connectDefaultNamespace + "." + connectDefaultName
		if w.unnamed > 1 {
			full += strconv.Itoa(w.unnamed)
		}
	}
	space, name := splitName(full)
	if prev, ok := w.defined[full]; ok {
		if !sameDefinition(prev, s) {
			return fmt.Errorf("record %s is defined twice with different contents", full)
		}
		if space == ns {
			w.str(name)
		} else {
			w.str(full)
		}
		return nil
	}
	w.defined[full] = s
	w.raw(`{"type":"record","name":`)
	w.str(name)
	if space != ns {
		w.key("namespace")
		w.str(space)
	}
	w.raw(`,"fields":[`)
	for i, f := range s.Fields {
		if i > 0 {
			w.raw(`,`)
		}
		if err := w.field(f, space); err != nil {
			return fmt.Errorf("field %q of %s: %w", f.Name, full, err)
		}
	}
	w.raw(`]`)
	if err := w.props(s); err != nil {
		return err
	}
	if s.Name != "" {
		w.key(propConnectName)
		w.str(s.Name)
	}
	w.raw(`}`)
	return nil
}

func (w *jsonWriter) field(f event.Field, ns string) error {
	if f.Schema == nil {
		return errors.New("missing schema")
	}
	w.raw(`{"name":`)
	w.str(FieldName(f.Name))
	w.raw(`,"type":`)
	if err := w.schema(f.Schema, ns); err != nil {
		return err
	}
	if f.Schema.Doc != "" {
		w.key("doc")
		w.str(f.Schema.Doc)
	}
	switch {
	case f.Schema.Default != nil:
		w.key("default")
		if err := w.value(f.Schema, f.Schema.Default); err != nil {
			return fmt.Errorf("default: %w", err)
		}
	case f.Schema.Optional:
		w.raw(`,"default":null`)
	}
	w.raw(`}`)
	return nil
}

// sameDefinition reports whether two uses of a record name describe the same
// record; optionality and defaults belong to the use, not the definition.
func sameDefinition(a, b *event.Schema) bool {
	x, y := *a, *b
	x.Optional, y.Optional = false, false
	x.Default, y.Default = nil, nil
	return reflect.DeepEqual(x, y)
}

// value writes v, a value of schema s in the Go form a Row holds, as an Avro
// JSON default: bytes and decimals as strings of code points 0-255.
func (w *jsonWriter) value(s *event.Schema, v any) error {
	if v == nil {
		if !s.Optional {
			return errors.New("null for a required value")
		}
		w.raw(`null`)
		return nil
	}
	bad := func() error { return fmt.Errorf("want %s, got %T", goTypeName(s), v) }
	switch s.Type {
	case event.Boolean:
		b, ok := v.(bool)
		if !ok {
			return bad()
		}
		w.raw(strconv.FormatBool(b))
	case event.Int8, event.Int16, event.Int32, event.Int64:
		i, ok := intValue(s.Type, v)
		if !ok {
			return bad()
		}
		w.raw(strconv.FormatInt(i, 10))
	case event.Float32, event.Float64:
		f, ok := floatValue(s.Type, v)
		if !ok {
			return bad()
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("%v cannot be written as JSON", f)
		}
		bits := 64
		if s.Type == event.Float32 {
			bits = 32
		}
		w.raw(strconv.FormatFloat(f, 'g', -1, bits))
	case event.String:
		str, ok := v.(string)
		if !ok {
			return bad()
		}
		w.str(str)
	case event.Bytes:
		if d, ok := v.(event.Decimal); ok && s.Name == event.DecimalName {
			w.latin1(appendUnscaled(nil, d.Unscaled))
			break
		}
		b, ok := v.([]byte)
		if !ok || s.Name == event.DecimalName {
			return bad()
		}
		w.latin1(b)
	case event.Array:
		list, ok := v.([]any)
		if !ok {
			return bad()
		}
		w.raw(`[`)
		for i, e := range list {
			if i > 0 {
				w.raw(`,`)
			}
			if err := w.value(s.Elem, e); err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
		}
		w.raw(`]`)
	case event.Struct:
		return w.structValue(s, v)
	default:
		return fmt.Errorf("unknown schema type %s", s.Type)
	}
	return nil
}

func (w *jsonWriter) structValue(s *event.Schema, v any) error {
	var vals []any
	switch x := v.(type) {
	case event.Decimal:
		if s.Name != event.VariableDecimalName {
			return fmt.Errorf("want []any, got %T", v)
		}
		w.raw(`{"scale":` + strconv.Itoa(int(x.Scale)) + `,"value":`)
		w.latin1(appendUnscaled(nil, x.Unscaled))
		w.raw(`}`)
		return nil
	case []any:
		vals = x
	case event.Row:
		vals = x
	default:
		return fmt.Errorf("want %s, got %T", goTypeName(s), v)
	}
	if len(vals) != len(s.Fields) {
		return fmt.Errorf("%d values for %d fields", len(vals), len(s.Fields))
	}
	w.raw(`{`)
	for i, f := range s.Fields {
		if i > 0 {
			w.raw(`,`)
		}
		w.str(FieldName(f.Name))
		w.raw(`:`)
		if err := w.value(f.Schema, vals[i]); err != nil {
			return fmt.Errorf("field %q: %w", f.Name, err)
		}
	}
	w.raw(`}`)
	return nil
}

func (w *jsonWriter) raw(s string) { w.b = append(w.b, s...) }

// key writes `,"k":`.
func (w *jsonWriter) key(k string) {
	w.b = append(w.b, ',')
	w.str(k)
	w.b = append(w.b, ':')
}

// str writes s as a JSON string, escaping only what JSON requires.
func (w *jsonWriter) str(s string) {
	w.b = append(w.b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				w.b = append(w.b, `\ufffd`...)
			} else {
				w.b = append(w.b, s[i:i+n]...)
			}
			i += n
			continue
		}
		switch {
		case c == '"' || c == '\\':
			w.b = append(w.b, '\\', c)
		case c < 0x20:
			w.b = append(w.b, `\u00`...)
			w.b = append(w.b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xF])
		default:
			w.b = append(w.b, c)
		}
		i++
	}
	w.b = append(w.b, '"')
}

// latin1 writes bytes as a JSON string of code points 0-255, Avro's JSON form
// for bytes.
func (w *jsonWriter) latin1(b []byte) {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	w.str(string(r))
}
