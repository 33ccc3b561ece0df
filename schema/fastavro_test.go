package schema

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/testenv"
)

// sinkTable has a column of every kind fastavro must read back.
func sinkTable() *event.Table {
	col := func(name string, s *event.Schema) event.Column { return event.Column{Name: name, Schema: s} }
	return &event.Table{
		ID: event.TableID{Database: "db", Schema: "public", Table: "kitchen_sink"},
		Columns: []event.Column{
			col("id", prim(event.Int64)),
			col("flag", prim(event.Boolean)),
			col("tiny", prim(event.Int8)),
			col("small", &event.Schema{Type: event.Int16, Default: int16(1)}),
			col("num", prim(event.Int32)),
			col("real", prim(event.Float32)),
			col("dbl", prim(event.Float64)),
			col("inf", prim(event.Float64)),
			col("text", prim(event.String)),
			col("blob", prim(event.Bytes)),
			col("big", decimalSchema(38, 0)),
			col("money", opt(decimalSchema(10, 2))),
			col("any_numeric", opt(variableDecimalSchema())),
			col("day", named(event.Int32, event.ConnectDateName)),
			col("clock", named(event.Int32, event.ConnectTimeName)),
			col("stamp", named(event.Int64, event.ConnectTimestampName)),
			col("micros", named(event.Int64, event.MicroTimestampName)),
			col("tags", arrayOf(opt(prim(event.String)))),
			col("matrix", arrayOf(arrayOf(prim(event.Int32)))),
			col("point", opt(record("t.Point", field("x", prim(event.Float64)), field("label", opt(prim(event.String)))))),
			col("missing", opt(prim(event.String))),
		},
		Key: []int{0},
	}
}

func sinkRow() event.Row {
	return event.Row{
		int64(math.MinInt64), true, int8(-128), int16(math.MaxInt16), int32(math.MinInt32),
		float32(math.NaN()), 0.1, math.Inf(-1), "héllo \"wörld\" ✓\n", []byte{0xc3, 0x28, 0x00, 0xff},
		bigDec("-99999999999999999999999999999999999999", 0), dec("-1234.56"), dec("3.000001"),
		int32(19723), int32(45296789), int64(1700000000123), int64(1700000000123456),
		[]any{"a", nil, ""}, []any{[]any{}, []any{int32(1), int32(-1)}},
		[]any{-2.5, nil}, nil,
	}
}

// TestFastavroReadsEnvelope writes an envelope with sluice's encoder, decodes
// it with Python's fastavro from the registered schema JSON, and compares
// every value. It runs the interpreter of the project's Python virtual
// environment, where schema/testdata/install_python_deps.sh (run by make deps)
// installs fastavro.
func TestFastavroReadsEnvelope(t *testing.T) {
	python := testenv.Python(t, "fastavro")
	ts, err := ForTable(sinkTable(), Options{Prefix: "sluice-test", Connector: "postgresql"})
	if err != nil {
		t.Fatal(err)
	}
	e := event.Event{
		Op: event.OpUpdate, Before: sinkRow(), After: sinkRow(), TsMs: 1700000000999,
		Source: event.Source{Version: "0.1.0", Connector: "postgresql", Name: "sluice-test", TsUs: 1700000000500_123,
			Snapshot: event.SnapshotFalse, DB: "db", Schema: "public", Table: "kitchen_sink", TxID: 901, LSN: 123456},
		Transaction: &event.Transaction{ID: "901:123456", TotalOrder: 2, DataCollectionOrder: 1},
	}
	e.Before[1], e.Before[11] = false, nil
	body, err := ts.Envelope.Append(nil, &e)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	schemaPath, bodyPath := filepath.Join(dir, "envelope.avsc"), filepath.Join(dir, "body.bin")
	if err := os.WriteFile(schemaPath, []byte(ts.Envelope.AvroJSON()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bodyPath, body, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, "testdata/decode_fastavro.py", schemaPath, bodyPath)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("fastavro: %v\n%s", err, stderr.String())
	}

	src := e.Source
	want := map[string]any{
		"before": pyRecord(ts.Value, e.Before),
		"after":  pyRecord(ts.Value, e.After),
		"source": map[string]any{
			"version": src.Version, "connector": src.Connector, "name": src.Name, "ts_ms": src.TsMillis(), "snapshot": "false",
			"db": src.DB, "sequence": nil, "ts_us": src.TsUs, "ts_ns": src.TsUs * 1000, "schema": src.Schema,
			"table": src.Table, "txId": src.TxID, "lsn": src.LSN, "xmin": nil, "origin": nil, "origin_lsn": nil,
		},
		"transaction": map[string]any{"id": "901:123456", "total_order": 2, "data_collection_order": 1},
		"op":          "u",
		"ts_ms":       e.TsMs, "ts_us": e.TsMs * 1000, "ts_ns": e.TsMs * 1000000,
	}
	got, wantJSON := normalizeJSON(t, out), normalizeJSON(t, mustJSON(t, want))
	if got != wantJSON {
		t.Errorf("fastavro read\n%s\nwant\n%s", got, wantJSON)
	}
}

// pyRecord is how decode_fastavro.py prints a row of schema s.
func pyRecord(s *event.Schema, row []any) any {
	if row == nil {
		return nil
	}
	out := map[string]any{}
	for i, f := range s.Fields {
		out[FieldName(f.Name)] = pyValue(f.Schema, row[i])
	}
	return out
}

func pyValue(s *event.Schema, v any) any {
	if v == nil {
		return nil
	}
	switch x := v.(type) {
	case float32:
		return map[string]any{"$float": strconv.FormatFloat(float64(x), 'g', -1, 64)}
	case float64:
		return map[string]any{"$float": strconv.FormatFloat(x, 'g', -1, 64)}
	case []byte:
		return map[string]any{"$bytes": hex.EncodeToString(x)}
	case event.Decimal:
		if s.Type == event.Struct {
			return map[string]any{"scale": x.Scale, "value": map[string]any{"$bytes": hex.EncodeToString(appendUnscaled(nil, x.Unscaled))}}
		}
		return map[string]any{"$decimal": x.String()}
	case int32:
		switch s.Name {
		case event.ConnectDateName:
			return map[string]any{"$iso": time.Unix(int64(x)*86400, 0).UTC().Format("2006-01-02")}
		case event.ConnectTimeName:
			return map[string]any{"$iso": time.UnixMilli(int64(x)).UTC().Format("15:04:05.000000")}
		}
	case int64:
		if s.Name == event.ConnectTimestampName {
			return map[string]any{"$iso": time.UnixMilli(x).UTC().Format("2006-01-02T15:04:05.000000+00:00")}
		}
	case []any:
		if s.Type == event.Struct {
			return pyRecord(s, x)
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = pyValue(s.Elem, e)
		}
		return out
	}
	return v
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// normalizeJSON re-renders JSON with sorted keys and floats in one notation.
func normalizeJSON(t *testing.T, b []byte) string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	var norm func(any) any
	norm = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			if s, ok := x["$float"].(string); ok && len(x) == 1 {
				f, err := strconv.ParseFloat(s, 64)
				if err != nil {
					t.Fatalf("float %q: %v", s, err)
				}
				return "float:" + strconv.FormatFloat(f, 'g', -1, 64)
			}
			for k, e := range x {
				x[k] = norm(e)
			}
		case []any:
			for i, e := range x {
				x[i] = norm(e)
			}
		}
		return v
	}
	return string(mustJSON(t, norm(v)))
}
