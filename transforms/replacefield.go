package transforms

import (
	"fmt"
	"strings"

	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

func init() {
	registerKeyValue("ReplaceField", "Keeps, drops and renames fields, as Kafka Connect's ReplaceField.",
		&conf.Spec{Keys: []conf.Key{
			{Name: "exclude", Type: conf.List, Doc: "Fields to exclude. This takes precedence over the fields to include."},
			{Name: "include", Type: conf.List, Doc: "Fields to include. If specified, only these fields are kept."},
			{Name: "renames", Type: conf.List, Check: checkRenames, Doc: "Field rename mappings: a list of colon-delimited pairs, e.g. foo:bar,abc:xyz."},
			{Name: "blacklist", Type: conf.List, Deprecated: "blacklist is deprecated: use exclude", Doc: "Deprecated name of exclude."},
			{Name: "whitelist", Type: conf.List, Deprecated: "whitelist is deprecated: use include", Doc: "Deprecated name of include."},
			replaceNullKey,
		}},
		newReplaceField)
}

func checkRenames(v string) error {
	_, err := parseRenames(conf.SplitList(v))
	return err
}

// parseRenames reads "old:new" pairs as Kafka Connect does: exactly one
// colon, and neither side empty.
func parseRenames(pairs []string) (map[string]string, error) {
	m := map[string]string{}
	for _, p := range pairs {
		parts := strings.Split(p, ":")
		if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
			return nil, fmt.Errorf("invalid rename mapping: %s", p)
		}
		m[parts[0]] = parts[1]
	}
	return m, nil
}

func newReplaceField(c *conf.Config, s side) (Transform, error) {
	var ps conf.Problems
	list := func(key, deprecated string) []string {
		if c.Given(key) && c.Given(deprecated) {
			ps = append(ps, conf.Problem{Key: deprecated, Message: fmt.Sprintf("%s is the deprecated name of %s: set only %s", deprecated, key, key)})
		}
		return append(c.List(key), c.List(deprecated)...)
	}
	t := &replaceField{side: s, exclude: set(list("exclude", "blacklist")), include: set(list("include", "whitelist")),
		withDefault: c.Bool("replace.null.with.default"), cache: schemaCache[replacePlan]{}}
	if len(ps) > 0 {
		return nil, ps
	}
	t.renames, _ = parseRenames(c.List("renames"))
	return t, nil
}

func set(items []string) map[string]bool {
	m := make(map[string]bool, len(items))
	for _, s := range items {
		m[s] = true
	}
	return m
}

// replaceField is Kafka Connect's ReplaceField$Key and ReplaceField$Value.
// Null keys and values pass through unchanged.
type replaceField struct {
	side             side
	exclude, include map[string]bool
	renames          map[string]string
	withDefault      bool
	cache            schemaCache[replacePlan]
}

// replacePlan is the output schema and, for each of its fields, the index
// of the input field it comes from.
type replacePlan struct {
	schema *event.Schema
	from   []int
	// same is set when the output values are the input's, in order (only
	// names change, and no null becomes a default): the row is reused.
	same bool
}

func (t *replaceField) Apply(r *record.Record) (*record.Record, error) {
	schema, v := t.side.get(r)
	if v == nil {
		return r, nil
	}
	row, err := requireStruct(schema, v, t.side, "field replacement")
	if err != nil {
		return nil, err
	}
	plan, err := t.cache.get(schema, t.plan)
	if err != nil {
		return nil, err
	}
	if plan.same && len(row) == len(plan.from) {
		return t.side.with(r, plan.schema, v), nil
	}
	nv := make(event.Row, len(plan.from))
	for i, j := range plan.from {
		nv[i] = fieldValue(schema.Fields[j], row[j], t.withDefault)
	}
	return t.side.with(r, plan.schema, nv), nil
}

func (t *replaceField) plan(s *event.Schema) (replacePlan, error) {
	var p replacePlan
	var fields []event.Field
	for i, f := range s.Fields {
		if t.exclude[f.Name] || (len(t.include) > 0 && !t.include[f.Name]) {
			continue
		}
		if n, ok := t.renames[f.Name]; ok {
			f.Name = n
		}
		fields = append(fields, f)
		p.from = append(p.from, i)
	}
	if err := checkUnique(fields); err != nil {
		return p, fmt.Errorf("field replacement in the %s schema %s: %w", t.side, s.Name, err)
	}
	p.schema = structLike(s, fields)
	p.same = len(p.from) == len(s.Fields)
	for _, f := range s.Fields {
		if t.withDefault && f.Schema != nil && f.Schema.Default != nil {
			p.same = false
		}
	}
	return p, nil
}
