// Column type mapping. This file and its types_*.go siblings map Postgres column types to event
// schemas and Postgres text values to event values, as Debezium's Postgres
// connector does. pgoutput sends column values in text format and the
// snapshot reads them the same way, so every value arrives as the text the
// server's output function produced. The sessions producing that text must
// run with DateStyle=ISO, IntervalStyle=postgres, bytea_output=hex (escape
// is also understood), lc_monetary C or en_US, and extra_float_digits >= 1
// (the default since Postgres 12) so floats round-trip.

package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"time"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/logical"
)

// Option configures a Mapper.
type Option func(*Mapper)

// WithDecimalMode sets decimal.handling.mode for numeric and money (default precise).
func WithDecimalMode(m logical.DecimalMode) Option { return func(x *Mapper) { x.decimal = m } }

// WithTimeMode sets time.precision.mode (default adaptive).
func WithTimeMode(m logical.TimeMode) Option { return func(x *Mapper) { x.time = m } }

// WithBinaryMode sets binary.handling.mode for bytea (default bytes).
func WithBinaryMode(m logical.BinaryMode) Option { return func(x *Mapper) { x.binary = m } }

// WithIntervalMode sets interval.handling.mode (default numeric).
func WithIntervalMode(m logical.IntervalMode) Option { return func(x *Mapper) { x.interval = m } }

// WithMoneyFractionDigits sets money.fraction.digits, the scale of money
// values in precise mode (default 2).
func WithMoneyFractionDigits(n int) Option { return func(x *Mapper) { x.moneyDigits = n } }

// WithLogger sets where warnings about unknown types and unrepresentable
// values go (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(x *Mapper) { x.log = l } }

// Mapper builds the ColumnType of Postgres columns. It is safe for
// concurrent use if its TypeLookup is.
type Mapper struct {
	types       TypeLookup
	decimal     logical.DecimalMode
	time        logical.TimeMode
	binary      logical.BinaryMode
	interval    logical.IntervalMode
	moneyDigits int
	log         *slog.Logger
}

// NewMapper returns a Mapper resolving type OIDs through types.
func NewMapper(types TypeLookup, opts ...Option) *Mapper {
	m := &Mapper{types: types, moneyDigits: 2, log: slog.Default()}
	for _, o := range opts {
		o(m)
	}
	return m
}

// ColumnType is the mapping of one column: its event schema and the
// conversion of its text values. It is immutable and safe for concurrent use.
type ColumnType struct {
	// Schema is the column's value schema; Optional when the column is
	// nullable, and always in precise decimal mode for numeric columns,
	// whose NaN and infinities become null.
	Schema *event.Schema
	// SourceType names the type as Postgres does ("numeric(10,2)", "_int4",
	// "mood"), with the domain's name for domain columns.
	SourceType string
	convert    func(text string) (any, error)
}

// Value converts the text form of a non-null value into the Go value the
// Schema wants (see event.Type). A SQL NULL is nil and needs no conversion.
func (c *ColumnType) Value(text string) (any, error) { return c.convert(text) }

const maxTypeDepth = 16

// Column maps a column of type oid with modifier typmod (atttypmod; -1 for
// none). name is used only in log messages; optional says whether the
// column is nullable. Domains resolve to their base type, keeping the
// column's nullability unless the domain is NOT NULL; unknown types map to
// their text as a string, with a warning.
func (m *Mapper) Column(ctx context.Context, name string, oid uint32, typmod int32, optional bool) (*ColumnType, error) {
	t, err := m.types.Type(ctx, oid)
	if err != nil {
		return nil, fmt.Errorf("map column %s: %w", name, err)
	}
	ct, err := m.build(ctx, name, t, typmod, 0)
	if err != nil {
		return nil, fmt.Errorf("map column %s: %w", name, err)
	}
	ct.SourceType = sourceType(t, typmod)
	// A column of a domain declared NOT NULL is required, as JDBC (and so
	// Debezium) reports it.
	if optional && !(t.Kind == 'd' && t.NotNull) {
		ct.Schema.Optional = true
	}
	if rejected != "" {
		convert := ct.convert
		ct.convert = func(s string) (any, error) {
			if s == rejected {
				return nil, fmt.Errorf("%q is rejected", s)
			}
			return convert(s)
		}
	}
	return ct, nil
}

// rejected, when not empty, is a text every column refuses to convert. Only
// this package's tests set it (export_test.go), to drive a conversion
// failure through the whole source.
var rejected string

func (m *Mapper) build(ctx context.Context, name string, t *TypeInfo, typmod int32, depth int) (*ColumnType, error) {
	if depth > maxTypeDepth {
		return nil, fmt.Errorf("type %s nests more than %d domains or arrays", t.Name, maxTypeDepth)
	}
	switch {
	case t.Kind == 'd':
		base, err := m.types.Type(ctx, t.BaseType)
		if err != nil {
			return nil, err
		}
		if typmod < 0 {
			typmod = t.BaseTypmod
		}
		return m.build(ctx, name, base, typmod, depth+1)
	case t.IsArray():
		return m.array(ctx, name, t, typmod, depth)
	case t.Kind == 'e':
		return passthrough(logical.Enum(t.EnumLabels)), nil
	case t.Kind == 'r' || t.Kind == 'm':
		return passthrough(&event.Schema{Type: event.String}), nil
	}
	if ct := m.base(name, t, typmod); ct != nil {
		return ct, nil
	}
	m.log.Warn("unknown column type, emitting its text as a string",
		slog.String("column", name), slog.String("type", t.Namespace+"."+t.Name), slog.Uint64("oid", uint64(t.OID)))
	return passthrough(&event.Schema{Type: event.String}), nil
}

// array maps an array type to an Array of optional elements (required for
// enums, as Debezium has them). Values of any number of dimensions are
// flattened in row-major order.
func (m *Mapper) array(ctx context.Context, name string, t *TypeInfo, typmod int32, depth int) (*ColumnType, error) {
	et, err := m.types.Type(ctx, t.Elem)
	if err != nil {
		return nil, err
	}
	elem, err := m.build(ctx, name, et, typmod, depth+1)
	if err != nil {
		return nil, err
	}
	// Elements are optional, but an enum's, which Debezium makes required.
	elem.Schema.Optional = et.Kind != 'e'
	delim := et.Delim
	if delim == 0 {
		delim = ','
	}
	return &ColumnType{
		Schema: &event.Schema{Type: event.Array, Elem: elem.Schema},
		convert: func(s string) (any, error) {
			items, err := parseArray(s, delim)
			if err != nil {
				return nil, err
			}
			out := make([]any, len(items))
			for i, it := range items {
				if it.null {
					continue
				}
				if out[i], err = elem.convert(it.text); err != nil {
					return nil, fmt.Errorf("array element %d: %w", i+1, err)
				}
			}
			return out, nil
		},
	}, nil
}

// base maps the built-in and well-known extension types; nil means unknown.
func (m *Mapper) base(name string, t *TypeInfo, typmod int32) *ColumnType {
	if t.Namespace != "pg_catalog" {
		switch t.Name {
		case "citext":
			return passthrough(&event.Schema{Type: event.String})
		case "ltree":
			return passthrough(&event.Schema{Type: event.String, Name: "io.debezium.data.Ltree", Version: 1})
		}
		return nil
	}
	switch t.Name {
	case "bool":
		return typed(&event.Schema{Type: event.Boolean}, func(s string) (any, error) { return parseBool(s) })
	case "int2":
		return typed(&event.Schema{Type: event.Int16}, func(s string) (any, error) {
			v, err := strconv.ParseInt(s, 10, 16)
			return int16(v), err
		})
	case "int4":
		return typed(&event.Schema{Type: event.Int32}, func(s string) (any, error) {
			v, err := strconv.ParseInt(s, 10, 32)
			return int32(v), err
		})
	case "int8":
		return typed(&event.Schema{Type: event.Int64}, func(s string) (any, error) { return strconv.ParseInt(s, 10, 64) })
	case "oid":
		return typed(&event.Schema{Type: event.Int64}, func(s string) (any, error) {
			v, err := strconv.ParseUint(s, 10, 32)
			return int64(v), err
		})
	case "float4":
		return typed(&event.Schema{Type: event.Float32}, func(s string) (any, error) {
			v, err := strconv.ParseFloat(s, 32)
			return float32(v), err
		})
	case "float8":
		return typed(&event.Schema{Type: event.Float64}, func(s string) (any, error) { return strconv.ParseFloat(s, 64) })
	case "numeric":
		return m.numeric(name, typmod)
	case "money":
		return m.money()
	case "text", "varchar", "bpchar", "name", "char", "inet", "cidr", "macaddr", "macaddr8":
		return passthrough(&event.Schema{Type: event.String})
	case "uuid":
		return passthrough(logical.UUID())
	case "json", "jsonb":
		return passthrough(logical.JSON())
	case "xml":
		return passthrough(logical.XML())
	case "bytea":
		mode := m.binary
		return typed(logical.Binary(mode), func(s string) (any, error) {
			b, err := parseBytea(s)
			if err != nil {
				return nil, err
			}
			return logical.BinaryValue(mode, b), nil
		})
	case "bit", "varbit":
		return bits(typmod)
	case "date":
		return typed(logical.Date(m.time), dateValue)
	case "time":
		mode, p := m.time, timePrecision(typmod)
		return typed(logical.Time(mode, p), func(s string) (any, error) {
			us, err := parseTime(s)
			if err != nil {
				return nil, err
			}
			return logical.TimeValue(mode, p, us), nil
		})
	case "timetz":
		return typed(logical.ZonedTime(), func(s string) (any, error) {
			us, off, err := parseTimetz(s)
			if err != nil {
				return nil, err
			}
			return logical.ZonedTimeValue(us, off), nil
		})
	case "timestamp":
		return timestamp(m.time, timePrecision(typmod))
	case "timestamptz":
		p := timePrecision(typmod)
		return typed(logical.ZonedTimestamp(), func(s string) (any, error) {
			if s == textInfinity || s == textMinusInfinity {
				return s, nil
			}
			t, err := parseTimestamptz(s)
			if err != nil {
				return nil, err
			}
			return logical.ZonedTimestampValue(t, p), nil
		})
	case "interval":
		mode := m.interval
		return typed(logical.Interval(mode), func(s string) (any, error) {
			mo, d, us, err := parseInterval(s)
			if err != nil {
				return nil, err
			}
			return logical.IntervalValue(mode, mo, d, us), nil
		})
	}
	return nil
}

// numeric maps numeric(p,s) to a Decimal and unconstrained numeric to a
// VariableScaleDecimal (in precise mode). NaN and ±Infinity become float
// values in double mode, their text in string mode, and null with a
// warning in precise mode, where the schema is therefore always optional.
func (m *Mapper) numeric(name string, typmod int32) *ColumnType {
	mode := m.decimal
	variable := typmod < 0
	precision, scale := numericTypmod(typmod)
	var schema *event.Schema
	if variable {
		schema = logical.VariableDecimalSchema(mode)
	} else {
		schema = logical.DecimalSchema(mode, precision, scale)
	}
	if mode == logical.DecimalPrecise {
		schema.Optional = true
	}
	log := m.log
	return typed(schema, func(s string) (any, error) {
		if f, ok := numericSpecial(s); ok {
			if v, ok := logical.SpecialFloat(mode, f); ok {
				return v, nil
			}
			log.Warn("numeric value cannot be represented in decimal.handling.mode=precise, emitting null",
				slog.String("column", name), slog.String("value", s))
			return nil, nil
		}
		d, err := event.ParseDecimal(s)
		if err != nil {
			return nil, err
		}
		if variable {
			return logical.VariableDecimalValue(mode, d), nil
		}
		return logical.DecimalValue(mode, d, scale), nil
	})
}

// money maps money to a Decimal of money.fraction.digits scale (no precision
// parameter, as Debezium), float64 or the plain decimal text.
func (m *Mapper) money() *ColumnType {
	mode, digits := m.decimal, m.moneyDigits
	return typed(logical.DecimalSchema(mode, 0, digits), func(s string) (any, error) {
		d, err := parseMoney(s)
		if err != nil {
			return nil, err
		}
		return logical.DecimalValue(mode, logical.Rescale(d, digits), digits), nil
	})
}

// bits maps bit(1) and varbit(1) to a boolean, longer bit strings to
// io.debezium.data.Bits with their declared length (2147483647 when varbit
// has none).
func bits(typmod int32) *ColumnType {
	if typmod == 1 {
		return typed(&event.Schema{Type: event.Boolean}, func(s string) (any, error) {
			switch s {
			case "1":
				return true, nil
			case "0":
				return false, nil
			}
			return nil, fmt.Errorf("parse bit(1) %q: want 0 or 1", truncate(s))
		})
	}
	length := int(typmod)
	if length < 0 {
		length = math.MaxInt32
	}
	return typed(logical.Bits(length), func(s string) (any, error) { return parseBits(s) })
}

func dateValue(s string) (any, error) {
	switch s {
	case textInfinity:
		return int32(dateInfinityDays), nil
	case textMinusInfinity:
		return int32(dateMinusInfinityDays), nil
	}
	days, err := parseDate(s)
	if err != nil {
		return nil, err
	}
	return logical.DateValue(days)
}

func timestamp(mode logical.TimeMode, p int) *ColumnType {
	return typed(logical.Timestamp(mode, p), func(s string) (any, error) {
		var t time.Time
		switch s {
		case textInfinity:
			t = time.UnixMicro(timestampInfinityMicros)
		case textMinusInfinity:
			t = time.UnixMicro(timestampMinusInfinityMic)
		default:
			var err error
			if t, err = parseDateTime(s, false); err != nil {
				return nil, err
			}
		}
		return logical.TimestampValue(mode, p, t), nil
	})
}

// timePrecision is the fractional-second precision of a time or timestamp
// type modifier; none means 6.
func timePrecision(typmod int32) int {
	if typmod < 0 || typmod > 6 {
		return 6
	}
	return int(typmod)
}

// numericTypmod splits numeric's modifier into precision and scale (the
// scale is an 11-bit signed field since Postgres 15).
func numericTypmod(typmod int32) (precision, scale int) {
	if typmod < 4 {
		return 0, 0
	}
	t := typmod - 4
	precision = int(t>>16) & 0xffff
	scale = int(t & 0x7ff)
	if scale > 1023 {
		scale -= 2048
	}
	return precision, scale
}

// sourceType renders a type with its modifier the way format_type does for
// the common cases.
func sourceType(t *TypeInfo, typmod int32) string {
	if typmod < 0 {
		return t.Name
	}
	switch t.Name {
	case "numeric":
		p, s := numericTypmod(typmod)
		return fmt.Sprintf("numeric(%d,%d)", p, s)
	case "varchar", "bpchar":
		return fmt.Sprintf("%s(%d)", t.Name, typmod-4)
	case "bit", "varbit", "time", "timetz", "timestamp", "timestamptz":
		return fmt.Sprintf("%s(%d)", t.Name, typmod)
	}
	return t.Name
}

func typed(s *event.Schema, f func(string) (any, error)) *ColumnType {
	return &ColumnType{Schema: s, convert: f}
}

func passthrough(s *event.Schema) *ColumnType {
	return &ColumnType{Schema: s, convert: func(v string) (any, error) { return v, nil }}
}
