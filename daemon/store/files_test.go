package store

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestFilesKeepsRecordsAcrossReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	f, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	a := Record{Name: "orders/pg ü", Config: map[string]string{"connector.class": "postgres", "database.password": "${env:PW}"}, Target: Running}
	b := Record{Name: "b", Config: map[string]string{"k": "v"}, Target: Paused, File: "/etc/sluice/b.json"}
	for _, r := range []Record{a, b} {
		if err := f.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Offsets(a.Name).Save(ctx, "server=cdc", []byte(`{"lsn":42}`)); err != nil {
		t.Fatal(err)
	}
	if err := f.SetTarget(ctx, a.Name, Stopped); err != nil {
		t.Fatal(err)
	}
	if err := f.SetTopics(ctx, a.Name, []string{"cdc.public.a", "cdc.public.b"}); err != nil {
		t.Fatal(err)
	}
	// Put replaces the config but keeps the offsets and topics.
	a.Config["k"] = "2"
	a.Target = Stopped
	if err := f.Put(ctx, a); err != nil {
		t.Fatal(err)
	}

	re, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := re.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []Record{
		b,
		{Name: a.Name, Config: map[string]string{"connector.class": "postgres", "database.password": "${env:PW}", "k": "2"}, Target: Stopped,
			Offsets: map[string]json.RawMessage{"server=cdc": json.RawMessage(`{"lsn":42}`)}, Topics: []string{"cdc.public.a", "cdc.public.b"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("after reopen:\n got %+v\nwant %+v", got, want)
	}
	v, err := re.Offsets(a.Name).Load(ctx, "server=cdc")
	if err != nil || string(v) != `{"lsn":42}` {
		t.Fatalf("Load = %s, %v", v, err)
	}
	if v, err := re.Offsets(a.Name).Load(ctx, "other"); err != nil || v != nil {
		t.Fatalf("Load of a missing key = %q, %v; want nil, nil", v, err)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*"))
	wantFiles := []string{filepath.Join(dir, "b.json"), filepath.Join(dir, "orders%2Fpg%20%C3%BC.json")}
	if !reflect.DeepEqual(names, wantFiles) {
		t.Fatalf("files = %v, want %v", names, wantFiles)
	}
	info, _ := os.Stat(wantFiles[0])
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("file mode = %v, want 0600", info.Mode().Perm())
	}
}

func TestFilesOffsetsAndDelete(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	f, _ := Open(dir)
	if err := f.Put(ctx, Record{Name: "a", Config: map[string]string{}, Target: Running}); err != nil {
		t.Fatal(err)
	}
	if err := f.Offsets("a").Save(ctx, "k", []byte("not json")); err == nil || err.Error() != `save offset "k" of connector "a": value is not a JSON document` {
		t.Fatalf("Save of invalid JSON: %v", err)
	}
	if err := f.SetOffsets(ctx, "a", map[string]json.RawMessage{"x=1": json.RawMessage(`{"n":1}`)}); err != nil {
		t.Fatal(err)
	}
	rec, _ := f.Get(ctx, "a")
	if string(rec.Offsets["x=1"]) != `{"n":1}` || len(rec.Offsets) != 1 {
		t.Fatalf("offsets = %v", rec.Offsets)
	}
	if err := f.SetOffsets(ctx, "a", nil); err != nil {
		t.Fatal(err)
	}
	if rec, _ := f.Get(ctx, "a"); rec.Offsets != nil {
		t.Fatalf("offsets after reset = %v", rec.Offsets)
	}
	if err := f.SetTopics(ctx, "a", []string{"t"}); err != nil {
		t.Fatal(err)
	}
	if rec, _ := f.Get(ctx, "a"); !reflect.DeepEqual(rec.Topics, []string{"t"}) {
		t.Fatalf("topics = %v", rec.Topics)
	}
	if err := f.SetTopics(ctx, "a", []string{}); err != nil {
		t.Fatal(err)
	}
	if rec, _ := f.Get(ctx, "a"); rec.Topics != nil {
		t.Fatalf("topics after reset = %v", rec.Topics)
	}
	if err := f.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"Get":       func() error { _, err := f.Get(ctx, "a"); return err }(),
		"Delete":    f.Delete(ctx, "a"),
		"SetTarget": f.SetTarget(ctx, "a", Paused),
		"SetTopics": f.SetTopics(ctx, "a", []string{"t"}),
		"Save":      f.Offsets("a").Save(ctx, "k", []byte("{}")),
		"Load":      func() error { _, err := f.Offsets("a").Load(ctx, "k"); return err }(),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s after delete: %v, want ErrNotFound", name, err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("files left after delete: %v", entries)
	}
}

func TestOpenCleansInterruptedWritesAndRefusesCorruptFiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ".tmp-a.json-123"), []byte(`{"name":`), 0o600)
	f, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if recs, _ := f.List(context.Background()); len(recs) != 0 {
		t.Fatalf("records = %v", recs)
	}
	if _, err := os.Stat(filepath.Join(dir, ".tmp-a.json-123")); !os.IsNotExist(err) {
		t.Fatalf("interrupted write left in place: %v", err)
	}

	os.WriteFile(filepath.Join(dir, "a.json"), []byte(`{"name":`), 0o600)
	if _, err := Open(dir); err == nil || err.Error() != "open store: decode "+filepath.Join(dir, "a.json")+": unexpected end of JSON input" {
		t.Fatalf("Open of a corrupt file: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "a.json"), []byte(`{"name":"b"}`), 0o600)
	if _, err := Open(dir); err == nil || err.Error() != `open store: `+filepath.Join(dir, "a.json")+` holds connector "b", whose file would be b.json` {
		t.Fatalf("Open of a misnamed file: %v", err)
	}
}

func TestParseTarget(t *testing.T) {
	for in, want := range map[string]Target{"running": Running, " PAUSED": Paused, "Stopped": Stopped, "failed": ""} {
		if got, _ := ParseTarget(in); got != want {
			t.Errorf("ParseTarget(%q) = %q, want %q", in, got, want)
		}
	}
}
