package sse

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/sluice-cdc/sluice/schema/event"
)

// Filter selects the events a subscriber receives. The zero Filter (or nil)
// selects every event. A Filter is immutable once built and is read by the
// hub's goroutine only.
type Filter struct {
	Tables []string // schema.table (database.table for MySQL); empty: all
	Topics []string // empty: all
	Ops    opSet    // empty: all
	Where  []Cond   // all must hold
}

// Cond is a field equality: the field of the row (after, or before for
// deletes) rendered as text must equal Value. Text is the JSON rendering
// without the quotes of strings and decimals; SQL NULL is "null".
type Cond struct {
	Field, Value string
}

// opSet is a set of operations, one bit each.
type opSet uint8

var opBits = map[event.Op]opSet{event.OpCreate: 1, event.OpUpdate: 2, event.OpDelete: 4, event.OpRead: 8, event.OpTruncate: 16}

func (s opSet) has(op event.Op) bool { return s == 0 || s&opBits[op] != 0 }

// FilterError is an invalid filter parameter; the HTTP answer is 400 with
// its message.
type FilterError struct {
	Param, Msg string
}

func (e *FilterError) Error() string { return "invalid parameter " + e.Param + ": " + e.Msg }

// filterParams are the query parameters ParseFilter reads.
var filterParams = []string{"table", "topic", "op", "where"}

// ParseFilter parses the filter parameters of a query: table and topic
// (comma-separated lists, repeatable), op (comma-separated c,u,d,r,t) and
// where (field:value, repeatable, all must hold). Other parameters are
// ignored here. Errors are *FilterError.
func ParseFilter(q url.Values) (*Filter, error) {
	f := &Filter{}
	for _, v := range q["table"] {
		for _, t := range strings.Split(v, ",") {
			if schemaPart, table, ok := strings.Cut(t, "."); !ok || schemaPart == "" || table == "" {
				return nil, &FilterError{"table", fmt.Sprintf("%q is not schema.table", t)}
			}
			f.Tables = append(f.Tables, t)
		}
	}
	for _, v := range q["topic"] {
		for _, t := range strings.Split(v, ",") {
			if t == "" {
				return nil, &FilterError{"topic", "empty topic name"}
			}
			f.Topics = append(f.Topics, t)
		}
	}
	for _, v := range q["op"] {
		for _, o := range strings.Split(v, ",") {
			op, err := event.ParseOp(o)
			if err != nil {
				return nil, &FilterError{"op", err.Error()}
			}
			f.Ops |= opBits[op]
		}
	}
	for _, v := range q["where"] {
		field, value, ok := strings.Cut(v, ":")
		if !ok || field == "" {
			return nil, &FilterError{"where", fmt.Sprintf("%q is not field:value", v)}
		}
		f.Where = append(f.Where, Cond{field, value})
	}
	return f, nil
}

// narrow combines the fixed filter of a token with the one a request asks
// for. The request may only narrow the token's filter: a table, topic or
// operation outside it, or a condition contradicting it, is an error.
func narrow(fixed, asked *Filter) (*Filter, error) {
	if fixed == nil {
		return asked, nil
	}
	out := &Filter{Tables: fixed.Tables, Topics: fixed.Topics, Ops: fixed.Ops, Where: slices.Clone(fixed.Where)}
	if len(asked.Tables) > 0 {
		for _, t := range asked.Tables {
			if len(fixed.Tables) > 0 && !slices.Contains(fixed.Tables, t) {
				return nil, forbidden("table %q is not allowed for this token", t)
			}
		}
		out.Tables = asked.Tables
	}
	if len(asked.Topics) > 0 {
		for _, t := range asked.Topics {
			if len(fixed.Topics) > 0 && !slices.Contains(fixed.Topics, t) {
				return nil, forbidden("topic %q is not allowed for this token", t)
			}
		}
		out.Topics = asked.Topics
	}
	if asked.Ops != 0 {
		if fixed.Ops != 0 && asked.Ops&^fixed.Ops != 0 {
			return nil, forbidden("operations outside %s are not allowed for this token", fixed.Ops)
		}
		out.Ops = asked.Ops
	}
	for _, c := range asked.Where {
		for _, fc := range fixed.Where {
			if fc.Field == c.Field && fc.Value != c.Value {
				return nil, forbidden("where %s:%s contradicts this token's filter", c.Field, c.Value)
			}
		}
		out.Where = append(out.Where, c)
	}
	return out, nil
}

// String lists the set's operations, comma-separated.
func (s opSet) String() string {
	var ops []string
	for _, op := range []event.Op{event.OpCreate, event.OpUpdate, event.OpDelete, event.OpRead, event.OpTruncate} {
		if s&opBits[op] != 0 {
			ops = append(ops, op.String())
		}
	}
	return strings.Join(ops, ",")
}

// match reports whether the filter selects m.
func (f *Filter) match(m *message) bool {
	if f == nil {
		return true
	}
	if len(f.Tables) > 0 && !slices.Contains(f.Tables, m.table) {
		return false
	}
	if len(f.Topics) > 0 && !slices.Contains(f.Topics, m.topic) {
		return false
	}
	if !f.Ops.has(m.op) {
		return false
	}
	for _, c := range f.Where {
		if v, ok := m.fieldText(c.Field); !ok || v != c.Value {
			return false
		}
	}
	return true
}
