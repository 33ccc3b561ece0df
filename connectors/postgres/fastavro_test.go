package postgres_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/testenv"
)

// TestFastavroReadsWhatTheRegistryDescribes reads a change from Kafka as a
// consumer in another language would: it fetches the writer schema from
// the registry by the id in the frame and decodes the body with Python's
// fastavro. The values must be the row's.
func TestFastavroReadsWhatTheRegistryDescribes(t *testing.T) {
	python := testenv.Python(t, "fastavro")
	h := newHarness(t, nil)
	h.exec(`CREATE TABLE t (id int PRIMARY KEY, name text NOT NULL, amount numeric(10,2), at timestamptz, day date, raw bytea, ok bool, ratio float8, tags text[])`,
		`INSERT INTO t VALUES (7, 'zoë', 12.50, '2024-02-29 23:59:59.999999+00', '2024-02-29', '\xdeadbeef', true, 0.25, '{a,"b c",NULL}')`)
	h.start()
	rec := h.readRaw(h.topic("t"), 1)[0]
	id, body, err := schema.SplitFrame(rec.Value)
	if err != nil {
		t.Fatal(err)
	}
	writer, err := h.reg.Schema(context.Background(), int(id))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	schemaFile, bodyFile := filepath.Join(dir, "writer.avsc"), filepath.Join(dir, "body.bin")
	if err := os.WriteFile(schemaFile, []byte(writer.Text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bodyFile, body, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(python, "../../schema/testdata/decode_fastavro.py", schemaFile, bodyFile).Output()
	if err != nil {
		t.Fatalf("fastavro: %v", err)
	}
	var envelope struct {
		Op    string         `json:"op"`
		After map[string]any `json:"after"`
	}
	if err := json.Unmarshal(out, &envelope); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := map[string]any{
		"id": 7.0, "name": "zoë", "amount": map[string]any{"$decimal": "12.50"},
		"at": "2024-02-29T23:59:59.999999Z", "day": 19782.0, // io.debezium.time.Date: days since the epoch, no Avro logical type
		"raw": map[string]any{"$bytes": "deadbeef"}, "ok": true, "ratio": map[string]any{"$float": "0.25"},
		"tags": []any{"a", "b c", nil},
	}
	if envelope.Op != "r" || !reflect.DeepEqual(envelope.After, want) {
		t.Errorf("fastavro read op %q after\n%v\nwant\n%v", envelope.Op, envelope.After, want)
	}
}
