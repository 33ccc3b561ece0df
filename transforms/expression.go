package transforms

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

func init() {
	Register(Type{
		Name:    "ExpressionFilter",
		Aliases: []string{"io.sluice.transforms.Filter"},
		Doc: "Keeps (or, with action=drop, drops) the records for which a condition holds, written in expr " +
			"(https://expr-lang.org), e.g. op in [\"c\",\"u\"] && after.status == \"paid\". The condition sees op, before, after " +
			"and source of Debezium's envelope (maps by field name; null ones are nil and their fields nil), topic, key, value, " +
			"headers (by key, the last of each) and timestamp. It is compiled once, when the configuration is checked.",
		Spec: &conf.Spec{Keys: []conf.Key{
			{Name: "condition", Type: conf.String, Required: true, Check: checkCondition, Doc: "A boolean expr expression over op, before, after, source, topic, key, value, headers and timestamp."},
			{Name: "action", Type: conf.String, Default: "keep", Allowed: []string{"keep", "drop"}, Doc: "keep: only records for which the condition holds pass; drop: those records are removed."},
			{Name: "null.handling.mode", Type: conf.String, Default: "keep", Allowed: []string{"keep", "drop", "evaluate"},
				Doc: "What happens to tombstones (null values), as in Debezium's Filter: keep or drop them without evaluating the condition, or evaluate it (value, after, op … are then null)."},
		}},
		New: newExpressionFilter,
	})
	// Debezium's scripting Filter needs a JSR 223 engine sluice does not
	// embed; it is known, so that its configurations get directions.
	Register(Type{
		Name: "io.debezium.transforms.Filter",
		Doc:  "Debezium's scripting Filter (Groovy, JavaScript): not supported; use ExpressionFilter.",
		Spec: &conf.Spec{Keys: []conf.Key{
			{Name: "language", Type: conf.String}, {Name: "condition", Type: conf.String},
			{Name: "topic.regex", Type: conf.String}, {Name: "null.handling.mode", Type: conf.String},
		}},
		New: func(c *conf.Config) (Transform, error) {
			return nil, conf.Problems{{Key: "language", Message: fmt.Sprintf("Debezium's Filter runs %s scripts, which sluice does not support: "+
				"use type io.sluice.transforms.Filter (ExpressionFilter) with a condition in expr syntax, "+
				`for example op in ["c","u"] && after.status == "paid" (Groovy's value.op is op there, value.after.status is after.status)`,
				orDefault(c.String("language"), "JSR 223"))}}
		},
	})
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// exprEnv is what a condition sees of a record.
type exprEnv struct {
	Op        string         `expr:"op"`
	Before    map[string]any `expr:"before"`
	After     map[string]any `expr:"after"`
	Source    map[string]any `expr:"source"`
	Topic     string         `expr:"topic"`
	Key       any            `expr:"key"`
	Value     any            `expr:"value"`
	Headers   map[string]any `expr:"headers"`
	Timestamp int64          `expr:"timestamp"`
}

func compileCondition(src string) (*vm.Program, error) {
	p, err := expr.Compile(src, expr.Env(exprEnv{}), expr.AsBool())
	if err != nil {
		// expr's message, then its position; the snippet lines after it
		// are left out of a one-line configuration problem.
		msg, _, _ := strings.Cut(err.Error(), "\n")
		return nil, fmt.Errorf("invalid condition: %s", msg)
	}
	return p, nil
}

func checkCondition(v string) error {
	_, err := compileCondition(v)
	return err
}

// expressionFilter keeps or drops the records its compiled condition
// matches. It is called from one goroutine at a time, as a chain is.
type expressionFilter struct {
	program    *vm.Program
	source     string
	keep       bool   // action=keep: matching records pass
	tombstones string // null.handling.mode
}

func newExpressionFilter(c *conf.Config) (Transform, error) {
	p, err := compileCondition(c.String("condition"))
	if err != nil {
		return nil, conf.Problems{{Key: "condition", Message: err.Error()}}
	}
	return &expressionFilter{program: p, source: c.String("condition"), keep: c.Enum("action") == "keep", tombstones: c.Enum("null.handling.mode")}, nil
}

func (f *expressionFilter) Apply(r *record.Record) (*record.Record, error) {
	if r.Value == nil {
		switch f.tombstones {
		case "keep":
			return r, nil
		case "drop":
			return nil, nil
		}
	}
	out, err := expr.Run(f.program, conditionEnv(r))
	if err != nil {
		msg, _, _ := strings.Cut(err.Error(), "\n")
		return nil, fmt.Errorf("evaluate condition %q on a record of %s: %s", f.source, r.Topic, msg)
	}
	matched, ok := out.(bool)
	if !ok {
		return nil, fmt.Errorf("evaluate condition %q on a record of %s: the condition gave %T %#v, not a boolean", f.source, r.Topic, out, out)
	}
	if matched != f.keep {
		return nil, nil
	}
	return r, nil
}

// conditionEnv is the record as a condition sees it.
func conditionEnv(r *record.Record) exprEnv {
	env := exprEnv{Topic: r.Topic, Key: exprValue(r.KeySchema, r.Key), Value: exprValue(r.ValueSchema, r.Value), Timestamp: r.Timestamp}
	if len(r.Headers) > 0 {
		env.Headers = make(map[string]any, len(r.Headers))
		for _, h := range r.Headers {
			env.Headers[h.Key] = exprValue(h.Schema, h.Value)
		}
	}
	if m, ok := env.Value.(map[string]any); ok && isEnvelope(r.ValueSchema) {
		env.Op, _ = m["op"].(string)
		env.Before, _ = m["before"].(map[string]any)
		env.After, _ = m["after"].(map[string]any)
		env.Source, _ = m["source"].(map[string]any)
	}
	return env
}

// exprValue turns a value into what expr compares: structs become maps by
// field name, arrays slices, decimals float64; the rest is as it is.
func exprValue(s *event.Schema, v any) any {
	if v == nil || s == nil {
		return v
	}
	if d, ok := v.(event.Decimal); ok {
		f, _ := strconv.ParseFloat(d.String(), 64)
		return f
	}
	switch s.Type {
	case event.Struct:
		row, ok := v.(event.Row)
		if !ok {
			if items, isSlice := v.([]any); isSlice {
				row = event.Row(items)
			} else {
				return v
			}
		}
		m := make(map[string]any, len(s.Fields))
		for i, f := range s.Fields {
			if i < len(row) {
				m[f.Name] = exprValue(f.Schema, row[i])
			}
		}
		return m
	case event.Array:
		items, ok := v.([]any)
		if !ok {
			return v
		}
		out := make([]any, len(items))
		for i, item := range items {
			out[i] = exprValue(s.Elem, item)
		}
		return out
	}
	return v
}
