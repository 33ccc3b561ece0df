package mysql_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/schema/event"
)

// tableState selects a table of (id int, v int, s varchar) as id → "v/s".
func (h *harness) tableState(table string) map[int32]string {
	h.t.Helper()
	res, err := h.conn.Execute("SELECT id, v, s FROM " + table)
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[int32]string{}
	for i := range res.Values {
		id, _ := res.GetInt(i, 0)
		v, _ := res.GetInt(i, 1)
		s, _ := res.GetString(i, 2)
		out[int32(id)] = fmt.Sprintf("%d/%s", v, s)
	}
	return out
}

// rebuild applies a topic's events in order, key by key.
func rebuild(es []*event.Event) map[int32]string {
	out := map[int32]string{}
	for _, e := range es {
		switch e.Op {
		case event.OpDelete:
			delete(out, field(e, e.Before, "id").(int32))
		default:
			out[field(e, e.After, "id").(int32)] = fmt.Sprintf("%d/%s", field(e, e.After, "v"), field(e, e.After, "s"))
		}
	}
	return out
}

// TestSnapshotThenStreamUnderWrites snapshots a table in small chunks
// while another connection inserts, updates and deletes rows, then keeps
// writing while the source streams: the table rebuilt from Kafka equals
// the table.
func TestSnapshotThenStreamUnderWrites(t *testing.T) {
	h := newHarness(t, map[string]string{"snapshot.fetch.size": "50"})
	h.exec("CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL, s varchar(20))")
	for i := 0; i < 20; i++ {
		sql := "INSERT INTO t VALUES "
		for j := 0; j < 100; j++ {
			if j > 0 {
				sql += ","
			}
			id := i*100 + j
			sql += fmt.Sprintf("(%d, %d, 's%d')", id, id, id)
		}
		h.exec(sql)
	}
	writer := h.connect()
	defer writer.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _ = writer.Execute("USE " + h.db)
		next := 5000
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			var sql string
			switch n % 4 {
			case 0:
				sql = fmt.Sprintf("INSERT INTO t VALUES (%d, 0, 'new')", next)
				next++
			case 1:
				sql = fmt.Sprintf("UPDATE t SET v = v + 1, s = 'u%d' WHERE id = %d", n, rand.IntN(2000))
			case 2:
				sql = fmt.Sprintf("DELETE FROM t WHERE id = %d", rand.IntN(2000))
			case 3:
				// A key change: a delete and a create.
				sql = fmt.Sprintf("UPDATE t SET id = %d WHERE id = %d", next, rand.IntN(2000))
				next++
			}
			if _, err := writer.Execute(sql); err != nil {
				t.Errorf("%s: %v", sql, err)
				return
			}
		}
	}()
	h.start()
	h.waitRunning()
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()
	want := h.tableState("t")
	recs := h.settle(h.topic("t"), len(want))
	got := rebuild(values(recs))
	if !reflect.DeepEqual(got, want) {
		missing, extra, differ := 0, 0, 0
		for k, v := range want {
			if g, ok := got[k]; !ok {
				missing++
			} else if g != v {
				differ++
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				extra++
			}
		}
		t.Fatalf("rebuilt table differs: %d rows missing, %d extra, %d differ (of %d)", missing, extra, differ, len(want))
	}
	es := values(recs)
	reads := 0
	for _, e := range es {
		if e.Op == event.OpRead {
			reads++
		}
	}
	if reads == 0 || reads == len(es) {
		t.Errorf("want snapshot reads then streamed changes, got %d reads of %d events", reads, len(es))
	}
	t.Logf("%d events, %d snapshot reads, %d rows", len(es), reads, len(want))
	_ = strconv.Itoa
}
