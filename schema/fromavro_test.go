package schema

import (
	"os"
	"testing"

	"github.com/sluice-cdc/sluice/schema/event"
)

// TestSchemaRoundTrip checks that FromAvro(AvroJSON(s)) gives back s exactly.
func TestSchemaRoundTrip(t *testing.T) {
	ts, err := ForTable(ordersTable(), Options{Prefix: "dbserver1", Connector: "postgresql"})
	if err != nil {
		t.Fatal(err)
	}
	schemas := map[string]*event.Schema{
		"postgres envelope": ts.Envelope.Schema(),
		"postgres key":      ts.Key.Schema(),
		"defaults": record("t.Defaults",
			field("i8", &event.Schema{Type: event.Int8, Default: int8(-8)}),
			field("i16", &event.Schema{Type: event.Int16, Optional: true, Default: int16(-300)}),
			field("i32", &event.Schema{Type: event.Int32, Default: int32(1 << 30)}),
			field("i64", &event.Schema{Type: event.Int64, Default: int64(-1 << 62)}),
			field("f32", &event.Schema{Type: event.Float32, Default: float32(1.1)}),
			field("f64", &event.Schema{Type: event.Float64, Default: 0.1}),
			field("b", &event.Schema{Type: event.Boolean, Optional: true, Default: true}),
			field("s", &event.Schema{Type: event.String, Default: "quote \" backslash \\ newline \n é"}),
			field("bytes", &event.Schema{Type: event.Bytes, Default: []byte{0, 0x7f, 0x80, 0xff}}),
			field("dec", &event.Schema{Type: event.Bytes, Name: event.DecimalName, Version: 1,
				Params: map[string]string{event.DecimalScaleParam: "2"}, Default: dec("-123.45")}),
			field("vdec", &event.Schema{Type: event.Struct, Name: event.VariableDecimalName, Version: 1, Doc: "Variable scaled decimal",
				Fields: variableDecimalSchema().Fields, Default: dec("9.999")}),
			field("list", &event.Schema{Type: event.Array, Elem: opt(prim(event.Int32)), Default: []any{int32(1), nil}}),
			field("point", &event.Schema{Type: event.Struct, Name: "t.Point", Default: []any{int32(1), "x"},
				Fields: []event.Field{field("x", prim(event.Int32)), field("label", prim(event.String))}}),
		),
		"unnamed structs": record("t.Outer",
			field("a", &event.Schema{Type: event.Struct, Fields: []event.Field{field("x", prim(event.Int32))}}),
			field("b", opt(&event.Schema{Type: event.Struct, Fields: []event.Field{field("y", prim(event.String))}})),
		),
		"docs and params": record("t.Docs",
			field("d", &event.Schema{Type: event.String, Doc: "a column", Params: map[string]string{
				"__debezium.source.column.type": "VARCHAR", "__debezium.source.column.length": "20"}}),
			field("n", &event.Schema{Type: event.Int64, Name: "custom.Name", Version: 3}),
		),
		"decimals Avro cannot describe": record("t.Decimals",
			field("negative_scale", decimalSchema(2, -3)), field("scale_past_precision", decimalSchema(3, 5))),
		"named array": &event.Schema{Type: event.Array, Name: "io.debezium.data.DoubleVector", Version: 1, Elem: prim(event.Float64)},
		"reused record": record("t.Reuse",
			field("one", variableDecimalSchema()),
			field("two", opt(variableDecimalSchema())),
			field("three", arrayOf(variableDecimalSchema())),
		),
	}
	for _, tc := range valueCases() {
		schemas["value case "+tc.name] = record("t.Wrap", field("v", tc.schema))
	}
	for name, s := range schemas {
		t.Run(name, func(t *testing.T) {
			js, err := AvroJSON(s)
			if err != nil {
				t.Fatal(err)
			}
			back, err := FromAvro(js)
			if err != nil {
				t.Fatalf("%v\n%s", err, js)
			}
			if err := sameSchema(s, back); err != nil {
				t.Errorf("%v\n%s", err, js)
			}
			again, err := AvroJSON(back)
			if err != nil {
				t.Fatal(err)
			}
			if again != js {
				t.Errorf("second rendering differs:\n%s\n%s", js, again)
			}
		})
	}
}

// TestFromAvroDebezium1 reads an envelope as Debezium 1.x registered it
// (no ts_us/ts_ns, transaction last as an unnamed ConnectDefault record).
func TestFromAvroDebezium1(t *testing.T) {
	js, err := os.ReadFile("testdata/debezium1_sales_envelope.avsc")
	if err != nil {
		t.Fatal(err)
	}
	s, err := FromAvro(string(js))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "postgres.public.sales.Envelope" || s.Version != 0 {
		t.Errorf("envelope %s version %d", s.Name, s.Version)
	}
	after := s.Fields[s.FieldIndex("after")].Schema
	if after.Name != "postgres.public.sales.Value" || !after.Optional || len(after.Fields) != 4 {
		t.Fatalf("after %+v", after)
	}
	price := after.Fields[2].Schema
	if price.Name != event.VariableDecimalName || price.Version != 1 || !price.Optional || price.Doc != "Variable scaled decimal" {
		t.Errorf("price %+v", price)
	}
	orderdate := after.Fields[3].Schema
	if orderdate.Type != event.Int64 || orderdate.Name != event.MicroTimestampName || !orderdate.Optional {
		t.Errorf("orderdate %+v", orderdate)
	}
	snapshot := s.Fields[s.FieldIndex("source")].Schema.Fields[4].Schema
	if snapshot.Default != "false" || snapshot.Params[event.AllowedParam] != "true,last,false" || snapshot.Name != event.EnumName {
		t.Errorf("snapshot %+v", snapshot)
	}
	tx := s.Fields[s.FieldIndex("transaction")].Schema
	if tx.Name != "" || !tx.Optional || len(tx.Fields) != 3 {
		t.Errorf("transaction %+v", tx)
	}
}

func TestFromAvroPlainLogicalTypes(t *testing.T) {
	s, err := FromAvro(`{"type":"record","name":"R","namespace":"n","fields":[
		{"name":"d","type":{"type":"bytes","logicalType":"decimal","precision":9,"scale":3}},
		{"name":"day","type":{"type":"int","logicalType":"date"}},
		{"name":"t","type":{"type":"int","logicalType":"time-millis"}},
		{"name":"ts","type":["null",{"type":"long","logicalType":"timestamp-millis"}],"default":null},
		{"name":"micros","type":{"type":"long","logicalType":"timestamp-micros"}},
		{"name":"count","type":"long","default":42},
		{"name":"u","type":{"type":"string","logicalType":"uuid"}}]}`)
	if err != nil {
		t.Fatal(err)
	}
	want := record("n.R",
		field("d", decimalSchema(9, 3)),
		field("day", named(event.Int32, event.ConnectDateName)),
		field("t", named(event.Int32, event.ConnectTimeName)),
		field("ts", opt(named(event.Int64, event.ConnectTimestampName))),
		field("micros", prim(event.Int64)),
		field("count", &event.Schema{Type: event.Int64, Default: int64(42)}),
		field("u", prim(event.String)),
	)
	if err := sameSchema(want, s); err != nil {
		t.Error(err)
	}
}

func TestFromAvroErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"type":"map","values":"long"}`, "parse Avro schema: top level: Avro map has no Kafka Connect counterpart in sluice"},
		{`{"type":"record","name":"R","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["A"]}}]}`,
			`parse Avro schema: field "e": Avro enum has no Kafka Connect counterpart in sluice`},
		{`{"type":"record","name":"R","fields":[{"name":"u","type":["int","string"]}]}`,
			`parse Avro schema: field "u": only unions of null and one type have a Kafka Connect counterpart`},
		{`{"type":"record","name":"R","fields":[{"name":"x","type":"Missing"}]}`, `parse Avro schema: field "x": unknown type "Missing"`},
		{`"null"`, "parse Avro schema: top level: a bare null type has no Kafka Connect counterpart"},
		{`{"type":"int","connect.version":"one"}`, "parse Avro schema: top level: connect.version must be an integer, not one"},
		{`{"type":"record","name":"R","fields":[{"name":"x","type":"int","default":"zero"}]}`, `parse Avro schema: field "x": default: zero is not a int32 value`},
		{`{"type":`, "parse Avro schema: unexpected EOF"},
	}
	for _, tc := range tests {
		_, err := FromAvro(tc.in)
		if err == nil || err.Error() != tc.want {
			t.Errorf("FromAvro(%s)\nerror = %v\n want %s", tc.in, err, tc.want)
		}
	}
}
