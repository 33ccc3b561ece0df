package transforms

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

// Helpers shared by the tests of Kafka Connect's built-in transforms.

func sch(t event.Type) *event.Schema    { return &event.Schema{Type: t} }
func optSch(t event.Type) *event.Schema { return &event.Schema{Type: t, Optional: true} }
func fld(name string, s *event.Schema) event.Field {
	return event.Field{Name: name, Schema: s}
}
func structOf(name string, fields ...event.Field) *event.Schema {
	return &event.Schema{Type: event.Struct, Name: name, Fields: fields}
}

// buildOne builds a chain of the one transform "x" of type typ.
func buildOne(t *testing.T, typ string, keys map[string]string) *Chain {
	t.Helper()
	raw := map[string]string{"transforms": "x", "transforms.x.type": typ}
	for k, v := range keys {
		raw["transforms.x."+k] = v
	}
	c, ps := Build(raw)
	if len(ps) > 0 {
		t.Fatalf("Build %s: %v", typ, ps)
	}
	return c
}

// buildProblems returns the problems Build reports for transform "x".
func buildProblems(typ string, keys map[string]string) string {
	raw := map[string]string{"transforms": "x", "transforms.x.type": typ}
	for k, v := range keys {
		raw["transforms.x."+k] = v
	}
	_, ps := Build(raw)
	var msgs []string
	for _, p := range ps {
		msgs = append(msgs, p.Error())
	}
	sort.Strings(msgs)
	return strings.Join(msgs, "; ")
}

// smtCase is one record through a transform: the record expected out, or
// the error expected.
type smtCase struct {
	name string
	in   *record.Record
	want *record.Record
	err  string
}

func runCases(t *testing.T, c *Chain, cases []smtCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := *tc.in
			got, err := c.Apply(tc.in)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %s\nwant %s", show(got), show(tc.want))
			}
			if !reflect.DeepEqual(*tc.in, before) {
				t.Errorf("the input record was modified: %s", show(tc.in))
			}
		})
	}
}

func show(r *record.Record) string {
	if r == nil {
		return "<nil>"
	}
	var b strings.Builder
	b.WriteString("{topic " + r.Topic + " key ")
	b.WriteString(showValue(r.KeySchema, r.Key))
	b.WriteString(" value ")
	b.WriteString(showValue(r.ValueSchema, r.Value))
	for _, h := range r.Headers {
		b.WriteString(" header " + h.Key + "=" + showValue(h.Schema, h.Value))
	}
	b.WriteString("}")
	return b.String()
}

func showValue(s *event.Schema, v any) string {
	if s == nil {
		return reflectString(v)
	}
	if isStruct(s) {
		row, _ := asRow(v)
		var parts []string
		for i, f := range s.Fields {
			var fv any
			if row != nil && i < len(row) {
				fv = row[i]
			}
			opt := ""
			if f.Schema.Optional {
				opt = "?"
			}
			parts = append(parts, f.Name+":"+describe(f.Schema)+opt+"="+showValue(f.Schema, fv))
		}
		if v == nil {
			return s.Name + "<null>{" + strings.Join(parts, " ") + "}"
		}
		return s.Name + "{" + strings.Join(parts, " ") + "}"
	}
	return describe(s) + "(" + reflectString(v) + ")"
}

func reflectString(v any) string {
	if v == nil {
		return "null"
	}
	return fmt.Sprintf("%T(%v)", v, v)
}

// sameSchemaTwice applies c to two records with the same input schema and
// checks that the output schemas of the side are one object.
func sameSchemaTwice(t *testing.T, c *Chain, s side, a, b *record.Record) {
	t.Helper()
	ra, err := c.Apply(a)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := c.Apply(b)
	if err != nil {
		t.Fatal(err)
	}
	sa, _ := s.get(ra)
	sb, _ := s.get(rb)
	if sa == nil || sa != sb {
		t.Fatalf("output %s schemas %p and %p: want one object, derived once", s, sa, sb)
	}
}
