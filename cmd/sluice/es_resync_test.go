package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestElasticsearchIndexRebuiltByIncrementalSnapshot runs the daemon with
// a Postgres source and an Elasticsearch sink while a workload changes the
// table, deletes the index, and rebuilds it with an incremental snapshot
// started through POST /connectors/source/snapshots while the changes go
// on: afterwards the index equals the table, document by document. The
// table's replica identity is FULL, so that a streamed update that leaves a
// TOASTed value unchanged still carries it: with the index gone, the sink
// has no stored document to take it from.
func TestElasticsearchIndexRebuiltByIncrementalSnapshot(t *testing.T) {
	rig := newESRig(t)
	db, index := rig.db, rig.index
	ctx := t.Context()
	wl, _ := rig.items(ctx, 3000, `ALTER TABLE items REPLICA IDENTITY FULL`)
	rig.configure(map[string]string{"incremental.snapshot.chunk.size": "100"}, rig.esURL, nil)
	d := rig.start()

	werr, stop := make(chan error, 1), make(chan struct{})
	go func() { werr <- wl.run(ctx, db.conn, stop, 150) }()
	time.Sleep(3 * time.Second)
	if err := index.remove(ctx); err != nil {
		t.Fatal(err)
	}
	code, body := d.call("POST", "/connectors/source/snapshots", `{"data-collections": ["public.items"]}`)
	var started struct{ ID string }
	if err := json.Unmarshal([]byte(body), &started); code != 202 || err != nil {
		t.Fatalf("POST /connectors/source/snapshots: %d %s", code, body)
	}
	d.waitFor("the incremental snapshot to complete", func() bool {
		_, body := d.call("GET", "/connectors/source/snapshots", "")
		return strings.Contains(body, `"id":"`+started.ID+`","state":"COMPLETED"`)
	})
	time.Sleep(2 * time.Second) // changes after the snapshot
	close(stop)
	if err := <-werr; err != nil {
		t.Fatalf("workload: %v", err)
	}
	t.Logf("workload: %v", wl.counts)
	_, got := rig.waitEqual(ctx, d, 40*time.Second)
	t.Logf("the index equals the table: %d documents", len(got))
}
