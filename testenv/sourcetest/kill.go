package sourcetest

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// testKill runs the source in a child process and kills it with SIGKILL at
// random moments (three times with -short, five otherwise) while a writer
// commits transactions of two to four changes; after a last restart every
// committed row is in Kafka with its last value, and no deleted row is
// left. Replays after a kill are allowed: a consumer upserting by key
// ends with the table.
func testKill(t *testing.T, s *Suite) {
	db, cfg := s.database(t)
	mustExec(t, db, fmt.Sprintf(createTable, "t"))
	w := newWorkload(db, "t", func(r *rand.Rand) int { return 2 + r.IntN(3) })
	w.preload(t, 20)
	state := t.TempDir()
	c := s.StartChild(t, cfg, state)
	topicT := topic(cfg, db, "t")
	s.ReadUntil(t, topicT, func() { c.Alive(t) }, func(rs []Record) bool { return len(rs) > 0 })

	stop := w.Run(t, 0)
	kills := 5
	if testing.Short() {
		kills = 3
	}
	for i := range kills {
		time.Sleep(time.Duration(300+rand.IntN(1200)) * time.Millisecond)
		c.Kill()
		t.Logf("kill %d after %d transactions", i+1, w.Steps())
		c = s.StartChild(t, cfg, state)
	}
	time.Sleep(500 * time.Millisecond)
	if err := stop(); err != nil {
		t.Fatalf("writer: %v", err)
	}
	mustExec(t, db, fmt.Sprintf("INSERT INTO t (id, v, n) VALUES (%d, 'marker', 0)", markerID))
	want := w.Model()
	want[markerID] = row{V: "marker"}

	rs := s.ReadUntil(t, topicT, func() { c.Alive(t) }, func(rs []Record) bool {
		return len(rs) > 0 && isMarker(rs[len(rs)-1])
	})
	got, err := rebuild(rs)
	if err != nil {
		t.Fatal(err)
	}
	if d := want.diff(got); d != "" {
		t.Errorf("table rebuilt from %d records differs from what was committed: %s", len(rs), d)
	}
	_, replays, _ := replay(rs)
	t.Logf("%d transactions, %d records, %d of them out of step (replays after a kill)", w.Steps(), len(rs), len(replays))
	if testing.Verbose() {
		t.Logf("child output: %s", c.Output())
	}
}
