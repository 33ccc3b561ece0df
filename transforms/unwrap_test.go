package transforms

import (
	"reflect"
	"testing"

	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

// What each delete handling mode makes of Debezium's records, as
// DefaultDeleteHandlingStrategy (and, for the deprecated keys,
// LegacyDeleteHandlingStrategy of Debezium 3.0 and 3.1) does.
func TestUnwrapDeleteHandlingModes(t *testing.T) {
	type outcome struct {
		dropped bool
		value   event.Row // nil: a null value
		schema  []string  // the value schema's fields; nil: no value schema
	}
	row := []string{"id", "first_name", "last_name", "email"}
	rewritten := append(append([]string(nil), row...), "__deleted")
	dropped := outcome{dropped: true}
	nullValue := outcome{schema: row} // Debezium's "tombstone": the after field's schema, a null value
	cases := []struct {
		name                             string
		keys                             []string
		create, update, del, tomb, trunc outcome
	}{
		{"default is tombstone", nil,
			outcome{value: anne, schema: row}, outcome{value: anneMarie, schema: row}, nullValue, dropped, dropped},
		{"drop", []string{"delete.tombstone.handling.mode", "drop"},
			outcome{value: anne, schema: row}, outcome{value: anneMarie, schema: row}, dropped, dropped, dropped},
		{"tombstone", []string{"delete.tombstone.handling.mode", "tombstone"},
			outcome{value: anne, schema: row}, outcome{value: anneMarie, schema: row}, nullValue, dropped, dropped},
		{"rewrite", []string{"delete.tombstone.handling.mode", "rewrite"},
			outcome{value: append(anne[:4:4], "false"), schema: rewritten},
			outcome{value: event.Row{int32(1004), "Anne Marie", "Kretchmar", "nobody@example.com", "false"}, schema: rewritten}, // the default replaces the null
			outcome{value: event.Row{int32(1004), "Anne Marie", "Kretchmar", "nobody@example.com", "true"}, schema: rewritten},
			dropped, dropped},
		{"rewrite keeping nulls", []string{"delete.tombstone.handling.mode", "rewrite", "replace.null.with.default", "false"},
			outcome{value: append(anne[:4:4], "false"), schema: rewritten},
			outcome{value: append(anneMarie[:4:4], "false"), schema: rewritten},
			outcome{value: append(anneMarie[:4:4], "true"), schema: rewritten},
			dropped, dropped},
		{"rewrite-with-tombstone", []string{"delete.tombstone.handling.mode", "REWRITE-WITH-TOMBSTONE"},
			outcome{value: append(anne[:4:4], "false"), schema: rewritten},
			outcome{value: event.Row{int32(1004), "Anne Marie", "Kretchmar", "nobody@example.com", "false"}, schema: rewritten},
			outcome{value: event.Row{int32(1004), "Anne Marie", "Kretchmar", "nobody@example.com", "true"}, schema: rewritten},
			outcome{}, dropped},
		{"delete-to-tombstone", []string{"delete.tombstone.handling.mode", "delete-to-tombstone"},
			outcome{value: anne, schema: row}, outcome{value: anneMarie, schema: row}, outcome{}, dropped, dropped},
		{"legacy defaults: deletes and tombstones dropped", []string{"drop.tombstones", "true"},
			outcome{value: anne, schema: row}, outcome{value: anneMarie, schema: row}, dropped, dropped, dropped},
		{"legacy none, tombstones kept", []string{"delete.handling.mode", "none", "drop.tombstones", "false"},
			outcome{value: anne, schema: row}, outcome{value: anneMarie, schema: row}, nullValue, outcome{}, dropped},
		{"legacy rewrite", []string{"delete.handling.mode", "rewrite"},
			outcome{value: append(anne[:4:4], "false"), schema: rewritten},
			outcome{value: event.Row{int32(1004), "Anne Marie", "Kretchmar", "nobody@example.com", "false"}, schema: rewritten},
			outcome{value: event.Row{int32(1004), "Anne Marie", "Kretchmar", "nobody@example.com", "true"}, schema: rewritten},
			dropped, dropped},
		{"the new key wins over the deprecated ones", []string{"delete.tombstone.handling.mode", "tombstone", "delete.handling.mode", "rewrite", "drop.tombstones", "false"},
			outcome{value: anne, schema: row}, outcome{value: anneMarie, schema: row}, nullValue, dropped, dropped},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			chain := build(t, "io.debezium.transforms.ExtractNewRecordState", tc.keys...)
			del := change(t, customersSchemas, event.OpDelete, anneMarie, nil)
			inputs := []struct {
				what string
				in   *record.Record
				want outcome
			}{
				{"create", change(t, customersSchemas, event.OpCreate, nil, anne), tc.create},
				{"update", change(t, customersSchemas, event.OpUpdate, anne, anneMarie), tc.update},
				{"delete", del, tc.del},
				{"tombstone", tombstone(del), tc.tomb},
				{"truncate", change(t, customersSchemas, event.OpTruncate, nil, nil), tc.trunc},
			}
			for _, in := range inputs {
				out, err := chain.Apply(in.in)
				if err != nil {
					t.Fatalf("%s: %v", in.what, err)
				}
				if in.want.dropped {
					if out != nil {
						t.Errorf("%s: kept %+v, want it dropped", in.what, out)
					}
					continue
				}
				if out == nil {
					t.Errorf("%s: dropped", in.what)
					continue
				}
				var value event.Row
				if out.Value != nil {
					value = out.Value.(event.Row)
				}
				if !reflect.DeepEqual(value, in.want.value) || !reflect.DeepEqual(fieldNames(out.ValueSchema), in.want.schema) {
					t.Errorf("%s: value %v with fields %v, want %v with %v", in.what, value, fieldNames(out.ValueSchema), in.want.value, in.want.schema)
				}
				if out.Topic != in.in.Topic || !reflect.DeepEqual(out.Key, in.in.Key) || out.KeySchema != in.in.KeySchema || out.Timestamp != in.in.Timestamp {
					t.Errorf("%s: topic %s, key %v, timestamp %d changed", in.what, out.Topic, out.Key, out.Timestamp)
				}
			}
		})
	}
}

// The row schema comes out required, with the added fields appended as
// optional fields, and is derived once per envelope schema.
func TestUnwrapOutputSchema(t *testing.T) {
	chain := build(t, "ExtractNewRecordState", "delete.tombstone.handling.mode", "rewrite", "add.fields", "op,table,lsn,source.ts_ms")
	create, err := chain.Apply(change(t, customersSchemas, event.OpCreate, nil, anne))
	if err != nil {
		t.Fatal(err)
	}
	s := create.ValueSchema
	if s.Optional || s.Name != "dbserver1.public.customers.Value" {
		t.Errorf("value schema %s optional %v, want the required row schema dbserver1.public.customers.Value", s.Name, s.Optional)
	}
	want := []event.Field{
		{Name: "__deleted", Schema: &event.Schema{Type: event.String, Optional: true}},
		{Name: "__op", Schema: &event.Schema{Type: event.String, Optional: true}},
		{Name: "__table", Schema: &event.Schema{Type: event.String, Optional: true}},
		{Name: "__lsn", Schema: &event.Schema{Type: event.Int64, Optional: true}},
		{Name: "__source_ts_ms", Schema: &event.Schema{Type: event.Int64, Optional: true}},
	}
	if !reflect.DeepEqual(s.Fields[4:], want) || !reflect.DeepEqual(s.Fields[:4], customersSchemas.Value.Fields) {
		t.Errorf("fields %v, want the row's then %v", fieldNames(s), fieldNames(&event.Schema{Fields: want}))
	}
	update, _ := chain.Apply(change(t, customersSchemas, event.OpUpdate, anne, anneMarie))
	del, _ := chain.Apply(change(t, customersSchemas, event.OpDelete, anneMarie, nil))
	if update.ValueSchema != s || del.ValueSchema != s {
		t.Error("a second output schema was derived for the same envelope schema")
	}
	plain := build(t, "ExtractNewRecordState", "delete.tombstone.handling.mode", "rewrite")
	c, _ := plain.Apply(change(t, customersSchemas, event.OpCreate, nil, anne))
	d, _ := plain.Apply(change(t, customersSchemas, event.OpDelete, anne, nil))
	if c.ValueSchema != d.ValueSchema {
		t.Error("a rewritten delete and a create have different schemas")
	}
	if got := del.Value.(event.Row)[4:]; !reflect.DeepEqual(got, event.Row{"true", "d", "customers", int64(24023128), int64(1559033904000)}) {
		t.Errorf("delete's added fields %v", got)
	}
}

// Debezium's documented add.fields and add.headers examples.
func TestUnwrapAddFieldsAndHeaders(t *testing.T) {
	cases := []struct {
		name        string
		keys        []string
		op          event.Op
		wantFields  map[string]any
		wantHeaders map[string]any
	}{
		{"op,table,lsn,source.ts_ms", []string{"add.fields", "op,table,lsn,source.ts_ms"}, event.OpUpdate,
			map[string]any{"__op": "u", "__table": "customers", "__lsn": int64(24023128), "__source_ts_ms": int64(1559033904000)}, map[string]any{}},
		{"envelope and transaction fields", []string{"add.fields", "ts_ms, id, transaction.total_order, name, db"}, event.OpCreate,
			map[string]any{"__ts_ms": int64(1559033904863), "__id": "556:24023128", "__transaction_total_order": int64(1), "__name": "dbserver1", "__db": "inventory"}, map[string]any{}},
		{"renamed, with a prefix", []string{"add.fields", "op:OP, source.lsn:source_lsn, transaction.id:TXN", "add.fields.prefix", ""}, event.OpUpdate,
			map[string]any{"OP": "u", "source_lsn": int64(24023128), "TXN": "556:24023128"}, map[string]any{}},
		{"a missing field is not added", []string{"add.fields", "op,notExisting,source.nope"}, event.OpCreate,
			map[string]any{"__op": "c"}, map[string]any{}},
		{"transaction null in a snapshot", []string{"add.fields", "op,transaction.id"}, event.OpRead,
			map[string]any{"__op": "r", "__transaction_id": nil}, map[string]any{}},
		{"headers", []string{"add.headers", "op,table,lsn,source.ts_ms", "add.headers.prefix", "dbz."}, event.OpCreate,
			map[string]any{}, map[string]any{"dbz.op": "c", "dbz.table": "customers", "dbz.lsn": int64(24023128), "dbz.source_ts_ms": int64(1559033904000)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			chain := build(t, "ExtractNewRecordState", tc.keys...)
			var before, after event.Row = nil, anne
			if tc.op == event.OpUpdate {
				before, after = anne, anneMarie
			}
			out, err := chain.Apply(change(t, customersSchemas, tc.op, before, after))
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]any{}
			row := out.Value.(event.Row)
			for i, f := range out.ValueSchema.Fields[4:] {
				got[f.Name] = row[4+i]
				if !f.Schema.Optional {
					t.Errorf("added field %s is required", f.Name)
				}
			}
			if !reflect.DeepEqual(got, tc.wantFields) {
				t.Errorf("added fields %v, want %v", got, tc.wantFields)
			}
			if h := headerMap(out); !reflect.DeepEqual(h, tc.wantHeaders) {
				t.Errorf("headers %v, want %v", h, tc.wantHeaders)
			}
		})
	}
}

// A kept tombstone gets only the op header, as "d"; headers the record had
// travel on.
func TestUnwrapHeadersOfTombstonesAndDeletes(t *testing.T) {
	chain := build(t, "ExtractNewRecordState", "delete.tombstone.handling.mode", "rewrite-with-tombstone", "add.headers", "op,source.lsn")
	del := change(t, customersSchemas, event.OpDelete, anne, nil)
	del.Headers = []record.Header{{Key: "application/test", Value: "kept"}}
	out, err := chain.Apply(del)
	if err != nil {
		t.Fatal(err)
	}
	if h := headerMap(out); !reflect.DeepEqual(h, map[string]any{"application/test": "kept", "__op": "d", "__source_lsn": int64(24023128)}) {
		t.Errorf("delete headers %v", h)
	}
	if len(del.Headers) != 1 {
		t.Errorf("the input record's headers were changed: %v", del.Headers)
	}
	tomb, _ := chain.Apply(tombstone(del))
	if tomb == nil || tomb.Value != nil || !reflect.DeepEqual(headerMap(tomb), map[string]any{"__op": "d"}) {
		t.Errorf("tombstone %+v, want a tombstone with header __op=d", tomb)
	}
}

// Records that are not Debezium envelopes pass unchanged, headers and all.
func TestUnwrapPassesOtherRecords(t *testing.T) {
	chain := build(t, "ExtractNewRecordState", "add.headers", "op", "add.fields", "op")
	heartbeat := &record.Record{Topic: "__debezium-heartbeat.dbserver1",
		ValueSchema: &event.Schema{Type: event.Struct, Name: "io.debezium.connector.common.Heartbeat", Fields: []event.Field{{Name: "ts_ms", Schema: &event.Schema{Type: event.Int64}}}},
		Value:       event.Row{int64(1)}}
	if out, err := chain.Apply(heartbeat); err != nil || out != heartbeat {
		t.Errorf("heartbeat became %+v (%v)", out, err)
	}
	plain := &record.Record{Topic: "t", ValueSchema: &event.Schema{Type: event.String}, Value: "x"}
	if out, err := chain.Apply(plain); err != nil || out != plain {
		t.Errorf("a string record became %+v (%v)", out, err)
	}
}

func TestUnwrapRouteByField(t *testing.T) {
	chain := build(t, "ExtractNewRecordState", "route.by.field", "last_name")
	for _, in := range []*record.Record{
		change(t, customersSchemas, event.OpCreate, nil, anne),
		change(t, customersSchemas, event.OpDelete, anne, nil), // routed by the row before
	} {
		out, err := chain.Apply(in)
		if err != nil || out.Topic != "Kretchmar" {
			t.Errorf("routed to %v (%v), want Kretchmar", out, err)
		}
	}
	nullEmail := build(t, "ExtractNewRecordState", "route.by.field", "email")
	if out, _ := nullEmail.Apply(change(t, customersSchemas, event.OpCreate, nil, anneMarie)); out.Topic != "dbserver1.public.customers" {
		t.Errorf("a null routing value moved the record to %q", out.Topic)
	}
	for field, want := range map[string]string{
		"nope": `route.by.field: "nope" is not a field of dbserver1.public.customers.Value`,
		"id":   `route.by.field: field "id" of dbserver1.public.customers.Value is a int32, not a string`,
	} {
		_, err := build(t, "ExtractNewRecordState", "route.by.field", field).Apply(change(t, customersSchemas, event.OpCreate, nil, anne))
		if err == nil || err.Error() != "transform t: "+want {
			t.Errorf("route.by.field=%s: %v, want %s", field, err, want)
		}
	}
}

func TestUnwrapDropFieldsHeader(t *testing.T) {
	header := record.Header{Key: "drop-fields", Schema: &event.Schema{Type: event.Array, Elem: &event.Schema{Type: event.String}}, Value: []any{"id", "email"}}
	withHeader := func(r *record.Record) *record.Record { r.Headers = append(r.Headers, header); return r }
	cases := []struct {
		name              string
		keys              []string
		valueFields       []string
		value             event.Row
		keyFields         []string
		deleteValueFields []string
	}{
		{"schema compatible: only optional fields", []string{"drop.fields.header.name", "drop-fields"},
			[]string{"id", "first_name", "last_name"}, event.Row{int32(1004), "Anne", "Kretchmar"}, []string{"id"}, nil},
		{"every listed field, key too", []string{"drop.fields.header.name", "drop-fields", "drop.fields.keep.schema.compatible", "false", "drop.fields.from.key", "true"},
			[]string{"first_name", "last_name"}, event.Row{"Anne", "Kretchmar"}, nil, nil},
		{"rewrite: dropped before the added fields", []string{"drop.fields.header.name", "drop-fields", "delete.tombstone.handling.mode", "rewrite", "add.fields", "op"},
			[]string{"id", "first_name", "last_name", "__deleted", "__op"}, event.Row{int32(1004), "Anne", "Kretchmar", "false", "c"}, []string{"id"},
			[]string{"id", "first_name", "last_name", "__deleted", "__op"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			chain := build(t, "ExtractNewRecordState", tc.keys...)
			var first *event.Schema
			for i := 0; i < 2; i++ {
				out, err := chain.Apply(withHeader(change(t, customersSchemas, event.OpCreate, nil, anne)))
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(fieldNames(out.ValueSchema), tc.valueFields) || !reflect.DeepEqual(out.Value, tc.value) || !reflect.DeepEqual(fieldNames(out.KeySchema), tc.keyFields) {
					t.Errorf("value %v %v key %v, want %v %v key %v", fieldNames(out.ValueSchema), out.Value, fieldNames(out.KeySchema), tc.valueFields, tc.value, tc.keyFields)
				}
				if first == nil {
					first = out.ValueSchema
				} else if out.ValueSchema != first {
					t.Error("the schema without the dropped fields was derived twice")
				}
			}
			if tc.deleteValueFields != nil {
				out, err := chain.Apply(withHeader(change(t, customersSchemas, event.OpDelete, anne, nil)))
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(fieldNames(out.ValueSchema), tc.deleteValueFields) || !reflect.DeepEqual(out.Value, event.Row{int32(1004), "Anne", "Kretchmar", "true", "d"}) {
					t.Errorf("delete: %v %v", fieldNames(out.ValueSchema), out.Value)
				}
			}
		})
	}
}

func TestUnwrapConfigurationProblems(t *testing.T) {
	_, ps := Build(map[string]string{"transforms": "u", "transforms.u.type": "ExtractNewRecordState",
		"transforms.u.delete.tombstone.handling.mode": "jbsdfkjsd", "transforms.u.add.fields": "op:a:b", "transforms.u.add.headers": "source.",
		"transforms.u.drop.tombstones": "perhaps"})
	want := conf.Problems{
		{Key: "transforms.u.add.fields", Message: `invalid field "op:a:b": use field, block.field, or either followed by :name`},
		{Key: "transforms.u.add.headers", Message: `invalid field "source.": use field, block.field, or either followed by :name`},
		{Key: "transforms.u.delete.tombstone.handling.mode", Message: `invalid value "jbsdfkjsd": must be one of drop, tombstone, rewrite, rewrite-with-tombstone, delete-to-tombstone`},
		{Key: "transforms.u.drop.tombstones", Message: `invalid value "perhaps": not a boolean (true or false)`},
	}
	if !reflect.DeepEqual(ps, want) {
		t.Errorf("problems\n%v\nwant\n%v", ps, want)
	}
}
