package postgres

import (
	"math/big"

	"github.com/sluice-cdc/sluice/schema/event"
)

// unavailable is the value written for an unchanged TOASTed column, which
// the WAL does not carry: the configured placeholder for text, bytes and
// arrays of them. Other types cannot hold a placeholder and are null (or
// their zero value when NOT NULL); in practice only wide values are TOASTed,
// and those are text, bytes, JSON or arrays.
func (s *Source) unavailable(sch *event.Schema) any {
	switch sch.Type {
	case event.String:
		return s.cfg.Placeholder
	case event.Bytes:
		if sch.Name == "" {
			return []byte(s.cfg.Placeholder)
		}
	case event.Array:
		if v := s.unavailable(sch.Elem); v != nil {
			return []any{v}
		}
	}
	if sch.Optional {
		return nil
	}
	return zeroValue(sch)
}

// zeroValue is the value Debezium writes for a NOT NULL column whose value
// an event does not carry (a key-only old image).
func zeroValue(sch *event.Schema) any {
	switch sch.Type {
	case event.Boolean:
		return false
	case event.Int8:
		return int8(0)
	case event.Int16:
		return int16(0)
	case event.Int32:
		return int32(0)
	case event.Int64:
		return int64(0)
	case event.Float32:
		return float32(0)
	case event.Float64:
		return float64(0)
	case event.String:
		return ""
	case event.Bytes:
		if sch.Name == event.DecimalName {
			return event.Decimal{Unscaled: new(big.Int)}
		}
		return []byte{}
	case event.Array:
		return []any{}
	case event.Struct:
		if sch.Name == event.VariableDecimalName {
			return event.Decimal{Unscaled: new(big.Int)}
		}
		row := make([]any, len(sch.Fields))
		for i, f := range sch.Fields {
			if !f.Schema.Optional {
				row[i] = zeroValue(f.Schema)
			}
		}
		return row
	}
	return nil
}
