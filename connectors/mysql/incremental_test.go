package mysql_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/schema/event"
)

// TestIncrementalSnapshotUnderWorkload snapshots a table through a row of
// the signal table while a workload inserts, updates and deletes its
// rows: afterwards the table rebuilt from Kafka (the latest event of each
// key) equals the source table, so no snapshot read overtook a newer
// streamed change. A bad signal changes nothing.
func TestIncrementalSnapshotUnderWorkload(t *testing.T) {
	const rows = 5000
	h := newHarness(t, nil)
	h.extra = map[string]string{"snapshot.mode": "no_data", "signal.data.collection": h.db + ".signal",
		"incremental.snapshot.chunk.size": "200", "table.include.list": h.db + `\.(t|marker)`}
	h.exec("CREATE TABLE "+h.db+".t (id INT PRIMARY KEY, v INT NOT NULL)",
		"CREATE TABLE "+h.db+".signal (id VARCHAR(64) PRIMARY KEY, type VARCHAR(32) NOT NULL, data TEXT)",
		"CREATE TABLE "+h.db+".marker (id INT PRIMARY KEY)")
	for from := 1; from <= rows; from += 1000 {
		q := "INSERT INTO " + h.db + ".t VALUES "
		for id := from; id < from+1000; id++ {
			if id > from {
				q += ","
			}
			q += "(" + strconv.Itoa(id) + ",0)"
		}
		h.exec(q)
	}
	h.start()
	h.waitRunning()

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		conn := h.connect()
		defer conn.Close()
		next := rows
		for ctx.Err() == nil {
			q := ""
			switch id := 1 + rand.IntN(next); rand.IntN(3) {
			case 0:
				next++
				q = "INSERT INTO " + h.db + ".t VALUES (" + strconv.Itoa(next) + ", 0)"
			case 1:
				q = "UPDATE " + h.db + ".t SET v = v + 1 WHERE id = " + strconv.Itoa(id)
			default:
				q = "DELETE FROM " + h.db + ".t WHERE id = " + strconv.Itoa(id)
			}
			if _, err := conn.Execute(q); err != nil {
				t.Errorf("workload: %v", err)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	signal := "INSERT INTO " + h.db + ".signal VALUES "
	h.exec(signal+`('bad', 'execute-snapshot', '{"data-collections": ["`+h.db+`.nope"]}')`,
		signal+`('go', 'execute-snapshot', '{"data-collections": ["`+h.db+`.t"]}')`)
	key := "server=" + h.db
	started := false
	deadline := time.Now().Add(2 * time.Minute)
	for {
		raw, _ := h.offsets.Load(context.Background(), key)
		var st struct {
			Incremental json.RawMessage `json:"incremental"`
		}
		_ = json.Unmarshal(raw, &st)
		running := len(st.Incremental) > 0
		started = started || running
		if started && !running {
			break
		}
		h.checkRunning()
		if time.Now().After(deadline) {
			t.Fatal("the incremental snapshot did not finish in time")
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	wg.Wait()
	h.exec("INSERT INTO " + h.db + ".marker VALUES (1)")
	h.read(h.topic("marker"), 1)

	rebuilt := map[int32]int32{}
	reads := 0
	for _, r := range h.readAll(h.topic("t")) {
		if r.value == nil {
			continue
		}
		id := r.key[0].(int32)
		switch r.value.Op {
		case event.OpDelete:
			delete(rebuilt, id)
		case event.OpRead:
			if r.value.Source.Snapshot != event.SnapshotIncremental {
				t.Fatalf("key %d: a read with source.snapshot=%q, want incremental", id, r.value.Source.Snapshot)
			}
			reads++
			rebuilt[id] = r.value.After[1].(int32)
		default:
			rebuilt[id] = r.value.After[1].(int32)
		}
	}
	res, err := h.conn.Execute("SELECT id, v FROM " + h.db + ".t")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	var wrong []string
	for i := range res.Values {
		id, _ := res.GetInt(i, 0)
		v, _ := res.GetInt(i, 1)
		if got, ok := rebuilt[int32(id)]; !ok || got != int32(v) {
			wrong = append(wrong, strconv.FormatInt(id, 10))
		}
		delete(rebuilt, int32(id))
	}
	for id := range rebuilt {
		wrong = append(wrong, strconv.Itoa(int(id))+" (deleted)")
	}
	if len(wrong) > 0 {
		t.Fatalf("%d keys differ between the table (%d rows) and Kafka, first %v", len(wrong), len(res.Values), wrong[:min(10, len(wrong))])
	}
	t.Logf("table of %d rows equals Kafka after %d snapshot reads", len(res.Values), reads)
	if reads < rows/2 {
		t.Fatalf("%d snapshot reads of a %d-row table", reads, rows)
	}
}
