package transforms

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

func init() {
	registerKeyValue("Cast", "Casts fields, or the whole key or value, to another primitive type, as Kafka Connect's Cast.",
		&conf.Spec{Keys: []conf.Key{
			{Name: "spec", Type: conf.List, Required: true, Check: checkCastSpec, Doc: "field1:type,field2:type to cast fields of a struct, or a single type to cast the whole value. Types: int8, int16, int32, int64, float32, float64, boolean, string; bytes cast only to string."},
			replaceNullKey,
		}},
		func(c *conf.Config, s side) (Transform, error) {
			casts, whole, _ := parseCastSpec(c.List("spec"))
			return &cast{side: s, casts: casts, whole: whole, withDefault: c.Bool("replace.null.with.default"), cache: schemaCache[*event.Schema]{}}, nil
		})
}

// castTargets are the types a value can be cast to, by Kafka Connect name.
var castTargets = map[string]event.Type{
	"int8": event.Int8, "int16": event.Int16, "int32": event.Int32, "int64": event.Int64,
	"float32": event.Float32, "float64": event.Float64, "boolean": event.Boolean, "string": event.String,
}

func checkCastSpec(v string) error {
	_, _, err := parseCastSpec(conf.SplitList(v))
	return err
}

// parseCastSpec reads "field:type,…" or a single whole-value type.
func parseCastSpec(items []string) (map[string]event.Type, event.Type, error) {
	if len(items) == 0 {
		return nil, 0, errors.New("must specify at least one field to cast")
	}
	target := func(name string) (event.Type, error) {
		name = strings.ToLower(strings.TrimSpace(name))
		if t, ok := castTargets[name]; ok {
			return t, nil
		}
		switch name {
		case "bytes", "array", "map", "struct":
			return 0, fmt.Errorf("cast transformation does not support casting to %s; supported types are int8, int16, int32, int64, float32, float64, boolean, string", name)
		}
		return 0, fmt.Errorf("invalid type found in casting spec: %s", name)
	}
	casts := map[string]event.Type{}
	for _, item := range items {
		parts := strings.Split(item, ":")
		switch len(parts) {
		case 1:
			if len(items) > 1 {
				return nil, 0, errors.New("cast transformations that specify a type to cast the entire value to may only specify a single cast in their spec")
			}
			t, err := target(parts[0])
			return nil, t, err
		case 2:
			t, err := target(parts[1])
			if err != nil {
				return nil, 0, err
			}
			casts[strings.TrimSpace(parts[0])] = t
		default:
			return nil, 0, fmt.Errorf("invalid cast mapping: %s", item)
		}
	}
	return casts, 0, nil
}

// cast is Kafka Connect's Cast$Key and Cast$Value. Null keys and values
// pass through unchanged; a cast field that is null stays null. Casting
// changes a field's type, so its semantic name (a Connect Timestamp cast to
// string, say) is dropped unless the type stays the same.
type cast struct {
	side        side
	casts       map[string]event.Type
	whole       event.Type // 0: cast fields
	withDefault bool
	cache       schemaCache[*event.Schema]
}

func (t *cast) Apply(r *record.Record) (*record.Record, error) {
	schema, v := t.side.get(r)
	if v == nil {
		return r, nil
	}
	if schema == nil {
		return nil, fmt.Errorf("cast types needs a %s with a schema; this record's %s has none", t.side, t.side)
	}
	out, err := t.cache.get(schema, t.outSchema)
	if err != nil {
		return nil, err
	}
	if t.whole != 0 {
		nv, err := castValue(t.whole, schema, v)
		if err != nil {
			return nil, err
		}
		return t.side.with(r, out, nv), nil
	}
	row, err := requireStruct(schema, v, t.side, "cast types")
	if err != nil {
		return nil, err
	}
	nv := make(event.Row, len(row))
	for i, f := range schema.Fields {
		nv[i] = fieldValue(f, row[i], t.withDefault)
		if target, ok := t.casts[f.Name]; ok {
			if nv[i], err = castValue(target, f.Schema, nv[i]); err != nil {
				return nil, fmt.Errorf("cast field %q: %w", f.Name, err)
			}
		}
	}
	return t.side.with(r, out, nv), nil
}

func (t *cast) outSchema(s *event.Schema) (*event.Schema, error) {
	if t.whole != 0 {
		return castSchema(s, t.whole, true)
	}
	if !isStruct(s) {
		return nil, fmt.Errorf("cast types needs a struct %s to cast fields; this record's %s is %s", t.side, t.side, describe(s))
	}
	fields := make([]event.Field, len(s.Fields))
	for i, f := range s.Fields {
		fields[i] = f
		if target, ok := t.casts[f.Name]; ok {
			cs, err := castSchema(f.Schema, target, false)
			if err != nil {
				return nil, fmt.Errorf("field %q: %w", f.Name, err)
			}
			fields[i].Schema = cs
		}
	}
	out := structLike(s, fields)
	out.Optional = s.Optional
	return out, nil
}

// castSchema is the schema of s cast to target, optional as s is, with its
// default cast too. A cast field gets a plain schema of the target type,
// as in Kafka Connect. The whole key or value keeps the name, version, doc
// and parameters of s (Kafka Connect's copySchemaBasics), but those of a
// Connect Date, Time, Timestamp or Decimal only when the type stays: they
// would name a type the value no longer has. As in Kafka Connect, a type
// that does not cast (a struct, an array, bytes but to string) fails only
// on a value that is not null.
func castSchema(s *event.Schema, target event.Type, whole bool) (*event.Schema, error) {
	out := &event.Schema{Type: target, Optional: s.Optional}
	if whole && (target == s.Type || !isConnectTemporal(s) && s.Name != event.DecimalName) {
		out.Name, out.Version, out.Doc, out.Params = s.Name, s.Version, s.Doc, s.Params
	}
	if s.Default != nil {
		d, err := castValue(target, s, s.Default)
		if err != nil {
			return nil, fmt.Errorf("default value: %w", err)
		}
		out.Default = d
	}
	return out, nil
}

// castValue casts v, of schema s, to target as Kafka Connect's Cast does:
// numbers narrow by wrapping, floats to integers saturate, strings parse,
// booleans are 1 and 0, and anything becomes its Java string form (bytes
// in base64, Connect dates and times in ISO 8601).
func castValue(target event.Type, s *event.Schema, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	outOfRange := func() (any, error) {
		return nil, fmt.Errorf("value (%v) was out of range for requested data type %s", v, target)
	}
	var (
		n      int64
		f      float64
		isInt  bool
		isReal bool
	)
	switch x := v.(type) {
	case bool:
		if x {
			n = 1
		}
		if target == event.String {
			return strconv.FormatBool(x), nil
		}
		isInt = true
	case int8:
		n, isInt = int64(x), true
	case int16:
		n, isInt = int64(x), true
	case int32:
		n, isInt = int64(x), true
	case int64:
		n, isInt = x, true
	case float32:
		if target == event.String {
			return javaFloatString(float64(x), 32), nil
		}
		f, isReal = float64(x), true
	case float64:
		if target == event.String {
			return javaFloatString(x, 64), nil
		}
		f, isReal = x, true
	case []byte:
		if target != event.String {
			return nil, fmt.Errorf("cannot cast bytes to %s: bytes cast only to string", target)
		}
		return base64.StdEncoding.EncodeToString(x), nil
	case event.Decimal:
		if target == event.String {
			return javaDecimalString(x), nil
		}
		rat := new(big.Rat).SetFrac(x.Unscaled, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(x.Scale)), nil))
		if x.Scale < 0 {
			rat = new(big.Rat).SetInt(new(big.Int).Mul(x.Unscaled, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-x.Scale)), nil)))
		}
		switch target {
		case event.Float32: // rounded once, as BigDecimal.floatValue
			f32, _ := rat.Float32()
			return f32, nil
		case event.Float64:
			f, _ = rat.Float64()
			isReal = true
		default:
			n, isInt = lowBits(new(big.Int).Quo(rat.Num(), rat.Denom())), true
		}
	case string:
		switch target {
		case event.String:
			return x, nil
		case event.Boolean:
			return strings.EqualFold(x, "true"), nil
		case event.Float32, event.Float64:
			bits := 64
			if target == event.Float32 {
				bits = 32
			}
			p, ok := parseJavaFloat(x, bits)
			if !ok {
				return outOfRange()
			}
			if target == event.Float32 {
				return float32(p), nil
			}
			return p, nil
		default:
			bits := map[event.Type]int{event.Int8: 8, event.Int16: 16, event.Int32: 32, event.Int64: 64}[target]
			p, err := strconv.ParseInt(x, 10, bits)
			if err != nil {
				return outOfRange()
			}
			return intOf(target, p), nil
		}
	default:
		if s != nil {
			return nil, fmt.Errorf("cast transformation does not support casting from %s; supported types are int8, int16, int32, int64, float32, float64, boolean, string, bytes", describe(s))
		}
		return nil, fmt.Errorf("unexpected type in cast transformation: %T", v)
	}
	if isInt && target == event.String {
		if s != nil && isConnectTemporal(s) {
			return connectDateString(s, n), nil
		}
		return strconv.FormatInt(n, 10), nil
	}
	switch target {
	case event.Boolean:
		if isReal {
			return javaF2L(f) != 0, nil
		}
		return n != 0, nil
	case event.Float32:
		if isInt {
			return float32(n), nil
		}
		return float32(f), nil
	case event.Float64:
		if isInt {
			return float64(n), nil
		}
		return f, nil
	case event.Int64:
		if isReal {
			return javaF2L(f), nil
		}
		return n, nil
	default: // int8, int16, int32: Java narrows a float through int
		if isReal {
			n = int64(javaF2I(f))
		}
		return intOf(target, n), nil
	}
}

// javaDecimalString is Java's BigDecimal.toString: plain digits, but for
// a negative scale or a number below 10^-6, which are written as
// scientific notation ("1E-7", "1.23E+5").
func javaDecimalString(d event.Decimal) string {
	if d.Unscaled == nil {
		d.Unscaled = new(big.Int)
	}
	digits := new(big.Int).Abs(d.Unscaled).String()
	adjusted := -int(d.Scale) + len(digits) - 1
	if d.Scale >= 0 && adjusted >= -6 {
		return d.String()
	}
	s := digits[:1]
	if len(digits) > 1 {
		s += "." + digits[1:]
	}
	s += "E"
	if adjusted > 0 {
		s += "+"
	}
	s += strconv.Itoa(adjusted)
	if d.Unscaled.Sign() < 0 {
		s = "-" + s
	}
	return s
}

// javaFloat is what Java's Float.parseFloat and Double.parseDouble read,
// but for hexadecimal: a decimal number with an optional f, F, d or D, NaN
// or Infinity, each with an optional sign.
var javaFloat = regexp.MustCompile(`^[+-]?(NaN|Infinity|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[fFdD]?)$`)

// parseJavaFloat reads s as Java does, ignoring the control characters
// and spaces around it; out of range is infinite.
func parseJavaFloat(s string, bits int) (float64, bool) {
	s = strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
	if !javaFloat.MatchString(s) {
		return 0, false
	}
	if !strings.HasSuffix(s, "Infinity") {
		s = strings.TrimRight(s, "fFdD")
	}
	f, err := strconv.ParseFloat(s, bits)
	return f, err == nil || errors.Is(err, strconv.ErrRange)
}

// lowBits is BigInteger.longValue: the low 64 bits, two's complement.
func lowBits(x *big.Int) int64 {
	if x.IsInt64() {
		return x.Int64()
	}
	m := new(big.Int).And(x, new(big.Int).SetUint64(math.MaxUint64))
	return int64(m.Uint64())
}

// javaF2L and javaF2I are Java's (long) and (int) casts of a double: NaN is
// 0 and values out of range saturate.
func javaF2L(f float64) int64 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}

func javaF2I(f float64) int32 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt32:
		return math.MaxInt32
	case f <= math.MinInt32:
		return math.MinInt32
	}
	return int32(f)
}

// javaFloatString is Java's Float.toString (bits 32) or Double.toString:
// "1.0", "0.001", "1.0E7", "1.0E-4", "NaN", "Infinity".
func javaFloatString(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	if a := math.Abs(f); a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, bits)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	mant, exp, _ := strings.Cut(strconv.FormatFloat(f, 'e', -1, bits), "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}

const millisPerDay = 86_400_000

// connectDateString is Kafka Connect's string form of a Date, Time or
// Timestamp value (Values.dateFormatFor): a time of day before the first
// day's end, a date at midnight, a timestamp otherwise.
func connectDateString(s *event.Schema, n int64) string {
	ms := n
	if s.Name == event.ConnectDateName {
		ms = n * millisPerDay
	}
	t := dateFormats.timestamp
	switch {
	case ms < millisPerDay:
		t = dateFormats.time
	case ms%millisPerDay == 0:
		t = dateFormats.date
	}
	return t.format(ms)
}

var dateFormats = struct{ date, time, timestamp *dateFormat }{
	mustDateFormat("yyyy-MM-dd"), mustDateFormat("HH:mm:ss.SSS'Z'"), mustDateFormat("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"),
}

func mustDateFormat(p string) *dateFormat {
	f, err := parseDateFormat(p)
	if err != nil {
		panic(err)
	}
	return f
}
