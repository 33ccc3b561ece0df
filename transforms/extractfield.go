package transforms

import (
	"fmt"
	"strings"

	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

func init() {
	registerKeyValue("ExtractField", "Replaces a struct with one of its fields, as Kafka Connect's ExtractField; with field.syntax.version V2 the field may be a nested path.",
		&conf.Spec{Keys: []conf.Key{
			{Name: "field", Type: conf.String, Required: true, Doc: "Field name to extract; with V2, a dotted path to a nested field, with `backticks` around names holding dots."},
			{Name: "field.syntax.version", Type: conf.String, Default: "V1", Allowed: []string{"V1", "V2"}, Doc: "V1: field names a field at the root; V2: field is a dotted path to a nested field."},
			replaceNullKey,
		}},
		func(c *conf.Config, s side) (Transform, error) {
			path := []string{c.String("field")}
			if c.Enum("field.syntax.version") == "v2" {
				var err error
				if path, err = parseFieldPath(c.String("field")); err != nil {
					return nil, problem("field", "%v", err)
				}
			}
			return &extractField{side: s, original: c.String("field"), path: path, withDefault: c.Bool("replace.null.with.default"), cache: schemaCache[[]int]{}}, nil
		})
}

// parseFieldPath reads Kafka Connect's V2 field path: names separated by
// dots, a name holding dots wrapped in backticks (a backtick inside one
// escaped with a backslash when a dot follows it); a trailing dot ends in
// an empty name.
func parseFieldPath(path string) ([]string, error) {
	var steps []string
	for i := 0; i < len(path); {
		if path[i] != '`' {
			end := strings.IndexByte(path[i:], '.')
			if end < 0 {
				steps = append(steps, path[i:])
				break
			}
			steps = append(steps, path[i:i+end])
			i += end + 1
			continue
		}
		open := i
		i++
		start := i
		var name strings.Builder
		for {
			end := strings.IndexByte(path[i:], '`')
			if end < 0 {
				return nil, fmt.Errorf("incomplete backtick pair in path: [%s], consider adding a backslash before backtick at position %d to escape it", path, open)
			}
			i += end
			escaped := path[i-1] == '\\'
			if i >= len(path)-1 {
				if escaped {
					return nil, fmt.Errorf("incomplete backtick pair in path: [%s], consider adding a backslash before backtick at position %d to escape it", path, open)
				}
				name.WriteString(path[start:i])
				steps = append(steps, name.String())
				i++
				break
			}
			if path[i+1] != '.' {
				i++
				continue
			}
			if escaped {
				name.WriteString(path[start : i-1])
				name.WriteByte('`')
				i++
				start = i
				continue
			}
			name.WriteString(path[start:i])
			steps = append(steps, name.String())
			i += 2
			break
		}
	}
	if strings.HasSuffix(path, ".") {
		steps = append(steps, "")
	}
	return steps, nil
}

// extractField is Kafka Connect's ExtractField$Key and $Value. A null
// struct, or a null struct on the path, gives a null of the field's schema;
// a tombstone passes through.
type extractField struct {
	side        side
	original    string
	path        []string
	withDefault bool
	cache       schemaCache[[]int] // the field indexes along the path
}

func (t *extractField) Apply(r *record.Record) (*record.Record, error) {
	schema, v := t.side.get(r)
	if schema == nil {
		if v == nil {
			return r, nil
		}
		return nil, fmt.Errorf("field extraction needs a %s with a schema; this record's %s has none", t.side, t.side)
	}
	idx, err := t.cache.get(schema, t.resolve)
	if err != nil {
		return nil, err
	}
	s := schema
	for _, i := range idx {
		if v != nil {
			row, err := requireStruct(s, v, t.side, "field extraction")
			if err != nil {
				return nil, err
			}
			v = row[i]
			if v == nil && t.withDefault {
				v = s.Fields[i].Schema.Default
			}
		}
		s = s.Fields[i].Schema
	}
	return t.side.with(r, s, v), nil
}

func (t *extractField) resolve(s *event.Schema) ([]int, error) {
	idx := make([]int, len(t.path))
	for n, name := range t.path {
		if !isStruct(s) {
			where := "the record's " + t.side.String()
			if n > 0 {
				where = "field " + strings.Join(t.path[:n], ".")
			}
			return nil, fmt.Errorf("field extraction of %s: %s is %s, not a struct", t.original, where, describe(s))
		}
		i := s.FieldIndex(name)
		if i < 0 {
			return nil, fmt.Errorf("unknown field: %s", t.original)
		}
		idx[n], s = i, s.Fields[i].Schema
	}
	return idx, nil
}
