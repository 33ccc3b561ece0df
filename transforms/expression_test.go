package transforms

import (
	"math/big"
	"reflect"
	"testing"

	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

var orders = &event.Table{
	ID: event.TableID{Database: "shop", Schema: "public", Table: "orders"},
	Columns: []event.Column{
		{Name: "id", Schema: &event.Schema{Type: event.Int32}},
		{Name: "status", Schema: &event.Schema{Type: event.String, Optional: true}},
		{Name: "total", Schema: &event.Schema{Type: event.Bytes, Name: event.DecimalName, Params: map[string]string{event.DecimalScaleParam: "2"}, Optional: true}},
	},
	Key: []int{0},
}

var ordersSchemas = mustSchemas(orders)

func order(id int32, status any, total string) event.Row {
	d, _ := event.ParseDecimal(total)
	return event.Row{id, status, d}
}

func TestExpressionFilterKeepsAndDrops(t *testing.T) {
	paid, pending, unpaid := order(1, "paid", "120.50"), order(2, "pending", "9.99"), order(3, nil, "0.00")
	del := change(t, ordersSchemas, event.OpDelete, paid, nil)
	records := []struct {
		name string
		r    *record.Record
	}{
		{"create paid", change(t, ordersSchemas, event.OpCreate, nil, paid)},
		{"create pending", change(t, ordersSchemas, event.OpCreate, nil, pending)},
		{"update to paid", change(t, ordersSchemas, event.OpUpdate, pending, paid)},
		{"update status null", change(t, ordersSchemas, event.OpUpdate, pending, unpaid)},
		{"delete paid", del},
		{"tombstone", tombstone(del)},
		{"snapshot paid", change(t, ordersSchemas, event.OpRead, nil, paid)},
	}
	cases := []struct {
		name string
		keys []string
		kept []string
	}{
		{"paid creates and updates", []string{"condition", `op in ["c","u"] && after.status == "paid"`},
			[]string{"create paid", "update to paid", "tombstone"}},
		{"drop them instead", []string{"condition", `op in ["c","u"] && after.status == "paid"`, "action", "drop"},
			[]string{"create pending", "update status null", "delete paid", "tombstone", "snapshot paid"}},
		{"null before on a create", []string{"condition", `before == nil`, "null.handling.mode", "drop"},
			[]string{"create paid", "create pending", "snapshot paid"}},
		{"fields of a null row are null", []string{"condition", `before.status == nil && after.status != nil`},
			[]string{"create paid", "create pending", "tombstone", "snapshot paid"}},
		{"a null field", []string{"condition", `op == "u" && after.status == nil`}, []string{"update status null", "tombstone"}},
		{"decimals compare as numbers", []string{"condition", `(after ?? before).total > 100`}, []string{"create paid", "update to paid", "delete paid", "tombstone", "snapshot paid"}},
		{"key, source and topic", []string{"condition", `key.id == 2 || source.snapshot == "true" && topic endsWith ".orders"`}, []string{"create pending", "tombstone", "snapshot paid"}},
		{"tombstones evaluated", []string{"condition", `value == nil || op == "d"`, "null.handling.mode", "evaluate"}, []string{"delete paid", "tombstone"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			chain := build(t, "io.sluice.transforms.Filter", tc.keys...)
			var kept []string
			for _, in := range records {
				out, err := chain.Apply(in.r)
				if err != nil {
					t.Fatalf("%s: %v", in.name, err)
				}
				if out != nil {
					if out != in.r {
						t.Errorf("%s: the record was changed", in.name)
					}
					kept = append(kept, in.name)
				}
			}
			if !reflect.DeepEqual(kept, tc.kept) {
				t.Errorf("kept %q, want %q", kept, tc.kept)
			}
		})
	}
}

// After ExtractNewRecordState the record is the row: value holds it.
func TestExpressionFilterAfterUnwrap(t *testing.T) {
	c, ps := Build(map[string]string{"transforms": "unwrap,big",
		"transforms.unwrap.type": "ExtractNewRecordState", "transforms.unwrap.add.headers": "op",
		"transforms.big.type": "ExpressionFilter", "transforms.big.condition": `value.total >= 100 && headers.__op == "c"`})
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	for status, want := range map[string]bool{"120.00": true, "99.99": false} {
		out, err := c.Apply(change(t, ordersSchemas, event.OpCreate, nil, order(1, "paid", status)))
		if err != nil || (out != nil) != want {
			t.Errorf("total %s: kept %v (%v), want %v", status, out != nil, err, want)
		}
	}
}

func TestExpressionFilterProblems(t *testing.T) {
	_, ps := Build(map[string]string{"transforms": "paid,bad,groovy",
		"transforms.paid.type": "ExpressionFilter", "transforms.paid.condition": `after.status ==`,
		"transforms.bad.type": "ExpressionFilter", "transforms.bad.condition": `op + "!"`, "transforms.bad.action": "maybe",
		"transforms.groovy.type": "io.debezium.transforms.Filter", "transforms.groovy.language": "jsr223.groovy",
		"transforms.groovy.condition": "value.op == 'u' && value.before.id == 2",
	})
	want := conf.Problems{
		{Key: "transforms.bad.action", Message: `invalid value "maybe": must be one of keep, drop`},
		{Key: "transforms.bad.condition", Message: "invalid condition: expected bool, but got string"},
		{Key: "transforms.groovy.language", Message: `Debezium's Filter runs jsr223.groovy scripts, which sluice does not support: ` +
			`use type io.sluice.transforms.Filter (ExpressionFilter) with a condition in expr syntax, for example op in ["c","u"] && after.status == "paid" ` +
			`(Groovy's value.op is op there, value.after.status is after.status)`},
		{Key: "transforms.paid.condition", Message: "invalid condition: unexpected token EOF (1:15)"},
	}
	if !reflect.DeepEqual(ps, want) {
		t.Errorf("problems\n%v\nwant\n%v", ps, want)
	}
	_, ps = Build(map[string]string{"transforms": "f", "transforms.f.type": "ExpressionFilter", "transforms.f.condition": `colour == "red"`})
	if want := (conf.Problems{{Key: "transforms.f.condition", Message: "invalid condition: unknown name colour (1:1)"}}); !reflect.DeepEqual(ps, want) {
		t.Errorf("problems %v, want %v", ps, want)
	}
}

// A condition that cannot be evaluated fails the record, naming the
// condition and the topic.
func TestExpressionFilterRuntimeError(t *testing.T) {
	for cond, want := range map[string]string{
		`after.total > 1 && after.status.x == 1`: `invalid operation: int(string) (1:33)`,
		`after.status`:                           `invalid operation: bool(string) (1:1)`,
	} {
		chain := build(t, "ExpressionFilter", "condition", cond)
		_, err := chain.Apply(change(t, ordersSchemas, event.OpCreate, nil, order(1, "paid", "5.00")))
		want = `transform t: evaluate condition "` + cond + `" on a record of dbserver1.public.orders: ` + want
		if err == nil || err.Error() != want {
			t.Errorf("error %v\nwant %s", err, want)
		}
	}
}

func TestExprValue(t *testing.T) {
	s := &event.Schema{Type: event.Struct, Fields: []event.Field{
		{Name: "n", Schema: &event.Schema{Type: event.Int64}},
		{Name: "d", Schema: &event.Schema{Type: event.Bytes, Name: event.DecimalName}},
		{Name: "tags", Schema: &event.Schema{Type: event.Array, Elem: &event.Schema{Type: event.String}}},
		{Name: "inner", Schema: &event.Schema{Type: event.Struct, Optional: true, Fields: []event.Field{{Name: "x", Schema: &event.Schema{Type: event.Boolean}}}}},
	}}
	got := exprValue(s, event.Row{int64(7), event.Decimal{Unscaled: big.NewInt(-1234), Scale: 2}, []any{"a"}, event.Row{true}})
	want := map[string]any{"n": int64(7), "d": -12.34, "tags": []any{"a"}, "inner": map[string]any{"x": true}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
