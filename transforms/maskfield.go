package transforms

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

func init() {
	registerKeyValue("MaskField", "Replaces fields with the null value of their type (0, false, empty string, …) or a given replacement, as Kafka Connect's MaskField.",
		&conf.Spec{Keys: []conf.Key{
			{Name: "fields", Type: conf.List, Required: true, Check: nonEmptyList, Doc: "Names of fields to mask."},
			{Name: "replacement", Type: conf.String, Doc: "Replacement for every masked value, converted to the field's type (numeric and string fields only)."},
			replaceNullKey,
		}},
		func(c *conf.Config, s side) (Transform, error) {
			if c.Given("replacement") && c.String("replacement") == "" {
				return nil, problem("replacement", "string must be non-empty")
			}
			return &maskField{side: s, fields: set(c.List("fields")), replacement: c.String("replacement"),
				custom: c.Given("replacement"), withDefault: c.Bool("replace.null.with.default")}, nil
		})
}

// maskField is Kafka Connect's MaskField$Key and MaskField$Value. The
// schema is unchanged. Kafka Connect fails on a null value; here a
// tombstone passes through unchanged, since sluice emits them after deletes.
type maskField struct {
	side        side
	fields      map[string]bool
	replacement string
	custom      bool
	withDefault bool
}

func (t *maskField) Apply(r *record.Record) (*record.Record, error) {
	schema, v := t.side.get(r)
	if v == nil {
		return r, nil
	}
	row, err := requireStruct(schema, v, t.side, "mask fields")
	if err != nil {
		return nil, err
	}
	nv := make(event.Row, len(row))
	for i, f := range schema.Fields {
		nv[i] = fieldValue(f, row[i], t.withDefault)
		if t.fields[f.Name] && nv[i] != nil {
			if nv[i], err = t.mask(f.Schema, nv[i]); err != nil {
				return nil, fmt.Errorf("mask field %q: %w", f.Name, err)
			}
		}
	}
	return t.side.with(r, schema, nv), nil
}

// isConnectTemporal reports Kafka Connect's Date, Time and Timestamp, whose
// Java values are java.util.Date: masked to the epoch, never replaced.
func isConnectTemporal(s *event.Schema) bool {
	return s.Name == event.ConnectDateName || s.Name == event.ConnectTimeName || s.Name == event.ConnectTimestampName
}

func (t *maskField) mask(s *event.Schema, v any) (any, error) {
	if !t.custom {
		switch s.Type {
		case event.Boolean:
			return false, nil
		case event.Int8:
			return int8(0), nil
		case event.Int16:
			return int16(0), nil
		case event.Int32:
			return int32(0), nil
		case event.Int64:
			return int64(0), nil
		case event.Float32:
			return float32(0), nil
		case event.Float64:
			return float64(0), nil
		case event.String:
			return "", nil
		case event.Array:
			return []any{}, nil
		}
		if d, ok := v.(event.Decimal); ok {
			return event.Decimal{Unscaled: new(big.Int), Scale: d.Scale}, nil
		}
		return nil, fmt.Errorf("cannot mask value of type %s", describe(s))
	}
	if isConnectTemporal(s) {
		return nil, fmt.Errorf("cannot mask value of type %s with custom replacement", describe(s))
	}
	repl := t.replacement
	bad := func() (any, error) {
		return nil, fmt.Errorf("unable to convert %s to %s", repl, s.Type)
	}
	switch s.Type {
	case event.Int8, event.Int16, event.Int32, event.Int64, event.Float32, event.Float64:
		// Kafka Connect's Values.convertTo: a decimal number, narrowed as
		// Java narrows ((byte) 300 is 44), a float32 rounded from a double.
		num := strings.TrimSpace(repl)
		d, ok := parseJavaDecimal(num)
		if !ok {
			return bad()
		}
		switch s.Type {
		case event.Float32, event.Float64:
			f, _ := strconv.ParseFloat(num, 64)
			if s.Type == event.Float32 {
				return float32(f), nil
			}
			return f, nil
		}
		return intOf(s.Type, javaLong(d)), nil
	case event.String:
		return repl, nil
	}
	if d, ok := v.(event.Decimal); ok {
		r, err := event.ParseDecimal(strings.TrimSpace(repl))
		if err != nil || r.Scale > d.Scale && s.Name == event.DecimalName {
			return nil, fmt.Errorf("unable to convert %s to a decimal of scale %d", repl, d.Scale)
		}
		if s.Name == event.DecimalName { // the schema fixes the scale
			r.Unscaled.Mul(r.Unscaled, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale-r.Scale)), nil))
			r.Scale = d.Scale
		}
		return r, nil
	}
	return nil, fmt.Errorf("cannot mask value of type %s with custom replacement", describe(s))
}

// intOf converts n to the Go form of an integer type, wrapping as Java's
// narrowing conversions do.
func intOf(t event.Type, n int64) any {
	switch t {
	case event.Int8:
		return int8(n)
	case event.Int16:
		return int16(n)
	case event.Int32:
		return int32(n)
	}
	return n
}
