package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/internal/procstat"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/testenv/sourcetest"
)

// startChild runs the source in a child process sharing the harness's
// database, registry and state directory.
func (h *harness) startChild(state string, opts ...sourcetest.ChildOption) *sourcetest.Child {
	h.t.Helper()
	return h.target().StartChild(h.t, h.config(), state, opts...)
}

// TestKillNineLosesNothing kills the source with SIGKILL at random moments
// of a write workload, again and again; after the last restart every
// committed change is in Kafka.
func TestKillNineLosesNothing(t *testing.T) {
	h := newHarness(t, nil)
	h.exec(`CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL)`, `CREATE TABLE marker (id int PRIMARY KEY)`)
	state := t.TempDir()
	c := h.startChild(state)
	h.waitStreaming()

	writer := h.pg.Connect(t)
	ctx, stopWriter := context.WithCancel(context.Background())
	var committed atomic.Int64 // ids 1..committed are committed
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for id := int64(1); ctx.Err() == nil; id += 3 {
			// Transactions of one and of several changes.
			_, err := writer.Exec(context.Background(), `INSERT INTO t VALUES ($1, 0)`, id)
			if err == nil {
				err = pgx.BeginFunc(context.Background(), writer, func(tx pgx.Tx) error {
					if _, err := tx.Exec(context.Background(), `INSERT INTO t VALUES ($1, 0), ($2, 0)`, id+1, id+2); err != nil {
						return err
					}
					_, err := tx.Exec(context.Background(), `UPDATE t SET v = v + 1 WHERE id = $1`, id)
					return err
				})
			}
			if err != nil {
				t.Errorf("writer: %v", err)
				return
			}
			committed.Store(id + 2)
		}
	}()
	for kill := range 5 {
		time.Sleep(time.Duration(300+rand.IntN(1200)) * time.Millisecond)
		c.Kill()
		t.Logf("kill %d after id %d", kill+1, committed.Load())
		c = h.startChild(state)
	}
	time.Sleep(500 * time.Millisecond)
	stopWriter()
	wg.Wait()
	h.exec(`INSERT INTO marker VALUES (1)`)
	h.read(h.topic("marker"), 1)

	seen := map[int32]bool{}
	updated := map[int32]bool{}
	records := h.readAll(h.topic("t"))
	for _, r := range records {
		if r.value != nil && r.value.After != nil {
			seen[r.value.After[0].(int32)] = true
			if r.value.Op == event.OpUpdate {
				updated[r.value.After[0].(int32)] = true
			}
		}
	}
	last := int32(committed.Load())
	var missing []int32
	for id := int32(1); id <= last; id++ {
		if !seen[id] || (id%3 == 1 && !updated[id]) {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("%d of %d committed changes missing from Kafka, first %v", len(missing), last, missing[:min(10, len(missing))])
	}
	t.Logf("%d committed rows, %d records (%d duplicates from replays)", last, len(records), len(records)-int(last)-int(last)/3)
	if out := c.Output(); out != "" {
		t.Logf("child stderr: %s", out)
	}
}

// TestLargeTransactionMemoryIsBounded commits one transaction of a million
// rows; Postgres streams it before commit, sluice spills it to disk, and
// the process's peak memory stays under 256 MB.
func TestLargeTransactionMemoryIsBounded(t *testing.T) {
	const rows = 1_000_000
	h := newHarness(t, nil)
	h.exec(`CREATE TABLE t (id int PRIMARY KEY, pad text)`)
	// The memory measured is the source's as the daemon runs it, without
	// the race detector's.
	c := h.startChild(t.TempDir(), sourcetest.WithoutRace())
	h.waitStreaming()
	h.exec(fmt.Sprintf(`INSERT INTO t SELECT g, repeat('x', 100) FROM generate_series(1, %d) g`, rows))

	cl, err := kgo.NewClient(kgo.SeedBrokers(h.brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	deadline := time.Now().Add(3 * time.Minute)
	for {
		ends, err := adm.ListEndOffsets(context.Background(), h.topic("t"))
		if err == nil {
			if o, ok := ends.Lookup(h.topic("t"), 0); ok && o.Offset >= rows {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not all %d rows reached Kafka in time; child: %s", rows, c.Output())
		}
		time.Sleep(200 * time.Millisecond)
	}
	_, peak, err := procstat.Memory(c.Pid())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("peak RSS %.1f MB for a %d-row transaction", float64(peak)/(1<<20), rows)
	if peak > 256<<20 {
		t.Errorf("peak RSS %d MB, want under 256 MB", peak>>20)
	}
	first := h.read(h.topic("t"), 1)[0]
	if first.value.Op != event.OpCreate || first.key[0] != int32(1) {
		t.Errorf("first record: %s key %v", first.value.Op, first.key)
	}
}
