package event

import (
	"fmt"
	"math/big"
	"strings"
)

// Type is the Kafka Connect type of a value. Semantic types (timestamps,
// decimals, JSON, …) are one of these plus a Schema.Name, exactly as Kafka
// Connect and Debezium model them, so every sink and codec only has to know
// this small set.
type Type uint8

// The Kafka Connect types. The Go value a Row holds for each is given beside it.
const (
	Boolean Type = iota + 1 // bool
	Int8                    // int8
	Int16                   // int16
	Int32                   // int32
	Int64                   // int64
	Float32                 // float32
	Float64                 // float64
	String                  // string
	Bytes                   // []byte, or Decimal when Schema.Name is DecimalName
	Array                   // []any, elements per Schema.Elem
	Struct                  // []any, one value per Schema.Fields entry; Decimal when Schema.Name is VariableDecimalName
)

var typeNames = [...]string{"", "boolean", "int8", "int16", "int32", "int64", "float32", "float64", "string", "bytes", "array", "struct"}

// String returns the Kafka Connect name of the type ("int64", "struct", …).
func (t Type) String() string {
	if int(t) < len(typeNames) && t != 0 {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// Semantic type names used by Kafka Connect and Debezium. They travel in Avro
// schemas as "connect.name" so consumers written for Debezium understand them.
const (
	DecimalName           = "org.apache.kafka.connect.data.Decimal"
	ConnectDateName       = "org.apache.kafka.connect.data.Date"
	ConnectTimeName       = "org.apache.kafka.connect.data.Time"
	ConnectTimestampName  = "org.apache.kafka.connect.data.Timestamp"
	VariableDecimalName   = "io.debezium.data.VariableScaleDecimal"
	DateName              = "io.debezium.time.Date"
	TimeName              = "io.debezium.time.Time"
	MicroTimeName         = "io.debezium.time.MicroTime"
	NanoTimeName          = "io.debezium.time.NanoTime"
	TimestampName         = "io.debezium.time.Timestamp"
	MicroTimestampName    = "io.debezium.time.MicroTimestamp"
	NanoTimestampName     = "io.debezium.time.NanoTimestamp"
	ZonedTimeName         = "io.debezium.time.ZonedTime"
	ZonedTimestampName    = "io.debezium.time.ZonedTimestamp"
	MicroDurationName     = "io.debezium.time.MicroDuration"
	IntervalName          = "io.debezium.time.Interval"
	YearName              = "io.debezium.time.Year"
	JSONName              = "io.debezium.data.Json"
	UUIDName              = "io.debezium.data.Uuid"
	XMLName               = "io.debezium.data.Xml"
	EnumName              = "io.debezium.data.Enum"
	EnumSetName           = "io.debezium.data.EnumSet"
	BitsName              = "io.debezium.data.Bits"
	DecimalScaleParam     = "scale"
	DecimalPrecisionParam = "connect.decimal.precision"
	AllowedParam          = "allowed"
	LengthParam           = "length"
)

// Schema describes the shape of one value the way Kafka Connect does. Schemas
// are immutable once built and shared freely between goroutines.
type Schema struct {
	Type     Type
	Optional bool
	// Name is the semantic type (one of the *Name constants) for primitives,
	// or the record's full name for structs.
	Name string
	// Version is Kafka Connect's schema version ("connect.version"); 0 means unset.
	Version int
	// Params are Kafka Connect's schema parameters ("connect.parameters"),
	// for example a decimal's scale or an enum's allowed values.
	Params map[string]string
	// Default is the default value, in the Go form a Row holds; nil means none.
	Default any
	Doc     string
	Elem    *Schema // element schema of an Array
	Fields  []Field // fields of a Struct, in order
}

// Field is one named member of a Struct schema.
type Field struct {
	Name   string
	Schema *Schema
}

// FieldIndex returns the index of the field called name, or -1.
func (s *Schema) FieldIndex(name string) int {
	for i, f := range s.Fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}

// Decimal is an exact decimal number: Unscaled × 10^-Scale. It is the value of
// Bytes fields named DecimalName and of VariableDecimalName structs.
type Decimal struct {
	Unscaled *big.Int
	Scale    int32
}

// ParseDecimal parses a plain decimal literal such as "-123.4500" keeping every
// digit; the scale is the number of digits after the point.
func ParseDecimal(s string) (Decimal, error) {
	digits, frac, _ := strings.Cut(s, ".")
	if frac != "" && strings.ContainsAny(frac, "+-") {
		return Decimal{}, fmt.Errorf("parse decimal %q: misplaced sign", s)
	}
	u, ok := new(big.Int).SetString(digits+frac, 10)
	if !ok {
		return Decimal{}, fmt.Errorf("parse decimal %q: not a decimal number", s)
	}
	return Decimal{Unscaled: u, Scale: int32(len(frac))}, nil
}

// String renders the decimal in plain notation with exactly Scale fractional digits.
func (d Decimal) String() string {
	if d.Unscaled == nil {
		return "0"
	}
	s := d.Unscaled.String()
	if d.Scale <= 0 {
		if d.Scale < 0 && d.Unscaled.Sign() != 0 {
			s += strings.Repeat("0", int(-d.Scale))
		}
		return s
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if len(s) <= int(d.Scale) {
		s = strings.Repeat("0", int(d.Scale)-len(s)+1) + s
	}
	cut := len(s) - int(d.Scale)
	s = s[:cut] + "." + s[cut:]
	if neg {
		s = "-" + s
	}
	return s
}

// Equal reports whether two decimals have the same digits and scale.
func (d Decimal) Equal(o Decimal) bool {
	if d.Scale != o.Scale {
		return false
	}
	if d.Unscaled == nil || o.Unscaled == nil {
		return (d.Unscaled == nil || d.Unscaled.Sign() == 0) && (o.Unscaled == nil || o.Unscaled.Sign() == 0)
	}
	return d.Unscaled.Cmp(o.Unscaled) == 0
}
