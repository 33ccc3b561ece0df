package cdc

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/schema/event"
)

var table = &event.Table{ID: event.TableID{Schema: "s", Table: "a"}, Columns: []event.Column{{Name: "id"}, {Name: "v"}}, Key: []int{0}}

// fakeChunks serves rows 1..rows of s.a, with v = 0, and records the
// watermarks written (read them with watermarks: chunks are read in
// goroutines of their own).
type fakeChunks struct {
	rows  int
	bad   bool // conditions fail
	mu    sync.Mutex
	marks []string
}

func (f *fakeChunks) watermarks() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.marks)
}

func (f *fakeChunks) Check(_ context.Context, t string) error {
	if t != "s.a" {
		return errors.New("table " + t + " is not captured")
	}
	return nil
}

func (f *fakeChunks) ReadChunk(_ context.Context, q ChunkQuery) ([]*event.Event, []string, error) {
	if q.Condition != "" && f.bad {
		return nil, nil, ErrBadCondition
	}
	from := 1
	if q.After != nil {
		n, _ := strconv.Atoi(q.After[0])
		from = n + 1
	}
	var out []*event.Event
	var last []string
	for k := from; k <= f.rows && len(out) < q.Limit; k++ {
		out = append(out, &event.Event{Op: event.OpRead, Table: table, After: event.Row{int64(k), int64(0)}})
		last = []string{strconv.Itoa(k)}
	}
	return out, last, nil
}

func (f *fakeChunks) Watermark(_ context.Context, mark string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.marks = append(f.marks, mark)
	return nil
}

func newTestIncremental(r ChunkReader, size int, resume *IncrementalProgress) (*Incremental[lsn], chan Chunk[lsn], *connectors.Signals) {
	out := make(chan Chunk[lsn], 100)
	signals := &connectors.Signals{}
	return NewIncremental(IncrementalConfig[lsn]{Reader: r, ChunkSize: size, Out: out, Resume: resume, Signals: signals,
		Stream: &heldStream{at: event.Position{Commit: 500}}, Metrics: NewMetrics(nil, "test"), Logger: slog.New(slog.DiscardHandler)}), out, signals
}

// heldStream is a stream held at a position, which it writes as
// source.lsn; it counts keep-alives.
type heldStream struct {
	at    event.Position
	alive int
}

func (s *heldStream) Position() event.Position { return s.at }

func (s *heldStream) Locate(src *event.Source) { src.LSN = int64(s.at.Commit) }

func (s *heldStream) KeepAlive(context.Context) error {
	s.alive++
	return nil
}

func drain(out chan Chunk[lsn]) []Chunk[lsn] {
	var got []Chunk[lsn]
	for {
		select {
		case c := <-out:
			got = append(got, c)
		default:
			return got
		}
	}
}

// settle waits until the chunk read under way, if any, has been read and
// its high watermark written, so that the test may look at the reader.
func settle(in *Incremental[lsn]) {
	for in.reading != nil && !in.Ready() {
		time.Sleep(time.Millisecond)
	}
}

// closeWindow hands the last high watermark back, as the stream does when
// it reads it: a message at LSN 792 committed at 800.
func closeWindow(t *testing.T, in *Incremental[lsn], r *fakeChunks) Chunk[lsn] {
	t.Helper()
	settle(in)
	marks := r.watermarks()
	c, ok := in.Watermark(marks[len(marks)-1], event.Position{Commit: 800}, locateAt(792))
	if !ok {
		t.Fatalf("the last watermark %q closes no window", marks[len(marks)-1])
	}
	return c
}

// locateAt locates source blocks at source.lsn lsn.
func locateAt(lsn int64) func(*event.Source) {
	return func(src *event.Source) { src.LSN = lsn }
}

func TestIncrementalDropsRowsTheStreamChanged(t *testing.T) {
	r := &fakeChunks{rows: 5}
	in, out, _ := newTestIncremental(r, 3, nil)
	in.Signal(connectors.Signal{ID: "x", Type: SignalExecuteSnapshot, Data: []byte(`{"data-collections": ["s.a"]}`)})
	if err := in.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The stream changes key 2 after the chunk was read: its change stands.
	settle(in)
	in.Streamed([]*event.Event{{Op: event.OpUpdate, Table: table, After: event.Row{int64(2), int64(1)}}})
	if len(r.watermarks()) != 1 {
		t.Fatalf("watermarks %v, want the chunk's high watermark only", r.watermarks())
	}
	if _, ok := in.Watermark(strings.TrimSuffix(r.watermarks()[0], "-close")+"-open", event.Position{}, locateAt(0)); ok {
		t.Fatal("a low watermark, as an older version wrote them, closed the window")
	}
	c := closeWindow(t, in, r)
	var keys []int64
	for _, e := range c.Events {
		keys = append(keys, e.After[0].(int64))
		if e.Source.Snapshot != event.SnapshotIncremental || e.Position.Commit != 800 || e.Source.LSN != 792 {
			t.Fatalf("row %d: snapshot %q at %v, source.lsn %d; want incremental at the high watermark, 800 and 792", keys[len(keys)-1], e.Source.Snapshot, e.Position, e.Source.LSN)
		}
	}
	if !slices.Equal(keys, []int64{1, 3}) || !slices.Equal(c.Incremental.LastKey, []string{"3"}) {
		t.Fatalf("chunk rows %v with last key %v, want [1 3] and 3", keys, c.Incremental.LastKey)
	}
	// The second chunk is short: the table, and the snapshot, are done.
	if err := in.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	in.Streamed([]*event.Event{{Op: event.OpTruncate, Table: table}})
	if c := closeWindow(t, in, r); len(c.Events) != 0 || len(c.Incremental.Tables) != 0 {
		t.Fatalf("after a truncate the chunk holds %d rows, tables left %v", len(c.Events), c.Incremental.Tables)
	}
	if err := in.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	chunks := drain(out)
	if last := chunks[len(chunks)-1].Incremental; last == nil || len(last.Tables) != 0 || last.ID != "x" {
		t.Fatalf("the last progress is %+v, want the end of snapshot x", last)
	}
	if st := in.signals.Snapshots(); len(st) != 1 || st[0].State != "COMPLETED" || st[0].Rows != 2 || st[0].Chunks != 2 {
		t.Fatalf("snapshots %+v, want x COMPLETED with 2 rows in 2 chunks", st)
	}
}

func TestIncrementalResumesAfterTheLastDurableKey(t *testing.T) {
	r := &fakeChunks{rows: 10}
	in, _, _ := newTestIncremental(r, 4, &IncrementalProgress{ID: "x", Requested: []string{"s.a"}, Tables: []string{"s.a"}, LastKey: []string{"7"}})
	if err := in.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := closeWindow(t, in, r)
	if len(c.Events) != 3 || c.Events[0].After[0] != int64(8) || len(c.Incremental.Tables) != 0 {
		t.Fatalf("resumed chunk %d rows from %v, tables left %v; want 8..10 and done", len(c.Events), c.Events[0].After[0], c.Incremental.Tables)
	}
}

func TestIncrementalSignals(t *testing.T) {
	r := &fakeChunks{rows: 10, bad: true}
	in, out, signals := newTestIncremental(r, 4, nil)
	for _, sig := range []connectors.Signal{
		{ID: "1", Type: SignalExecuteSnapshot, Data: []byte(`{"data-collections": [`)},
		{ID: "2", Type: SignalExecuteSnapshot, Data: []byte(`{"data-collections": ["s.nope"]}`)},
		{ID: "3", Type: SignalExecuteSnapshot, Data: []byte(`{"data-collections": ["s.a"], "type": "sideways"}`)},
		{ID: "4", Type: "explode"},
		{ID: "5", Type: SignalLog, Data: []byte(`{"message": "hello"}`)},
		{ID: "6", Type: SignalPauseSnapshot},
	} {
		signals.Post(sig)
	}
	if err := in.Step(context.Background()); err != nil || in.progress != nil || len(drain(out)) != 0 {
		t.Fatalf("bad signals: error %v, progress %+v", err, in.progress)
	}
	// A condition that does not run skips its table, at the high watermark
	// of its chunk.
	signals.Post(connectors.Signal{ID: "7", Type: SignalExecuteSnapshot, Data: []byte(`{"data-collections": ["s.a"], "additional-conditions": [{"data-collection": "s.a", "filter": "v >"}]}`)})
	if err := in.Step(context.Background()); err != nil {
		t.Fatalf("bad condition: %v", err)
	}
	if c := closeWindow(t, in, r); len(c.Events) != 0 || len(c.Incremental.Tables) != 0 {
		t.Fatalf("bad condition: chunk of %d rows, tables left %v", len(c.Events), c.Incremental.Tables)
	}
	if err := in.Step(context.Background()); err != nil || in.progress != nil {
		t.Fatalf("bad condition: error %v, progress %+v", err, in.progress)
	}
	// Pause, resume and stop.
	r.bad = false
	signals.Post(connectors.Signal{ID: "8", Type: SignalExecuteSnapshot, Data: []byte(`{"data-collections": ["s.a"]}`)})
	signals.Post(connectors.Signal{ID: "9", Type: SignalPauseSnapshot})
	if err := in.Step(context.Background()); err != nil || len(in.windows) != 0 || !in.progress.Paused {
		t.Fatalf("paused snapshot: error %v, windows %v", err, in.windows)
	}
	signals.Post(connectors.Signal{ID: "10", Type: SignalResumeSnapshot})
	if err := in.Step(context.Background()); err != nil || len(in.windows) != 1 {
		t.Fatalf("resumed snapshot read no chunk: %v", err)
	}
	signals.Post(connectors.Signal{ID: "11", Type: SignalStopSnapshot})
	if err := in.Step(context.Background()); err != nil || in.progress != nil || len(in.windows) != 0 {
		t.Fatalf("stopped snapshot still runs: %v", err)
	}
	if marks := r.watermarks(); len(marks) == 0 {
		t.Fatal("no watermark written")
	} else if _, ok := in.Watermark(marks[len(marks)-1], event.Position{}, locateAt(0)); ok {
		t.Fatal("the window of a stopped snapshot was handed on")
	}
	var states []string
	for _, st := range signals.Snapshots() {
		states = append(states, st.ID+" "+st.State)
	}
	if !reflect.DeepEqual(states, []string{"7 COMPLETED", "8 STOPPED"}) {
		t.Fatalf("snapshots %v", states)
	}
}

// While a chunk waits for its high watermark the next one is read, in a
// window of its own: each drops the rows of the keys the stream changes
// while it is open, whether its chunk is in yet or not, and the chunks are
// handed on in the order of their high watermarks.
func TestIncrementalReadsTheNextChunkWhileOneWaits(t *testing.T) {
	r := &fakeChunks{rows: 6}
	in, _, _ := newTestIncremental(r, 3, nil)
	in.Signal(connectors.Signal{ID: "x", Type: SignalExecuteSnapshot, Data: []byte(`{"data-collections": ["s.a"]}`)})
	if err := in.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	settle(in)
	if !in.Ready() {
		t.Fatal("the first chunk was not read")
	}
	// The next step takes the first chunk and reads the second; key 5
	// changes while it is read, key 2 while the first chunk waits.
	if err := in.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	in.Streamed([]*event.Event{{Op: event.OpDelete, Table: table, Before: event.Row{int64(5), int64(0)}}})
	settle(in)
	in.Streamed([]*event.Event{{Op: event.OpUpdate, Table: table, After: event.Row{int64(2), int64(1)}}})
	if len(r.watermarks()) != 2 || len(in.windows) != 2 {
		t.Fatalf("watermarks %v, %d windows; want two of each", r.watermarks(), len(in.windows))
	}
	if _, ok := in.Watermark(r.watermarks()[1], event.Position{Commit: 800}, locateAt(792)); ok {
		t.Fatal("the second chunk's high watermark was handed on before the first's")
	}
	var got [][]int64
	for i, mark := range r.watermarks() {
		c, ok := in.Watermark(mark, event.Position{Commit: uint64(800 + i)}, locateAt(792))
		if !ok {
			t.Fatalf("watermark %q closes no window", mark)
		}
		var keys []int64
		for _, e := range c.Events {
			keys = append(keys, e.After[0].(int64))
		}
		got = append(got, keys)
	}
	if !reflect.DeepEqual(got, [][]int64{{1, 3}, {4, 6}}) {
		t.Fatalf("chunks %v, want [[1 3] [4 6]]", got)
	}
}

// A blocking snapshot reads its tables within one step, without
// watermarks, handing each chunk on at once at the stream's position, and
// refuses an incremental snapshot asked for meanwhile.
func TestBlockingSnapshotReadsWithinOneStep(t *testing.T) {
	r := &fakeChunks{rows: 10}
	in, out, signals := newTestIncremental(r, 4, nil)
	signals.Post(connectors.Signal{ID: "b", Type: SignalExecuteSnapshot, Data: []byte(`{"data-collections": ["s.a"], "type": "blocking"}`)})
	if err := in.Step(context.Background()); err != nil || in.progress != nil || len(r.watermarks()) != 0 {
		t.Fatalf("blocking snapshot: error %v, progress %+v, watermarks %v", err, in.progress, r.watermarks())
	}
	var keys []int64
	for _, c := range drain(out) {
		for _, e := range c.Events {
			if e.Source.Snapshot != event.SnapshotTrue || e.Position.Commit != 500 || e.Source.LSN != 500 {
				t.Fatalf("row %v: snapshot %q at %v, source.lsn %d; want true at 500", e.After, e.Source.Snapshot, e.Position, e.Source.LSN)
			}
			keys = append(keys, e.After[0].(int64))
		}
	}
	if !slices.Equal(keys, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}) || in.stream.(*heldStream).alive != 3 {
		t.Fatalf("rows %v, %d keep-alives; want 1..10 and 3", keys, in.stream.(*heldStream).alive)
	}
	list := signals.Snapshots()
	if len(list) != 1 || list[0].Type != "blocking" || list[0].State != "COMPLETED" || list[0].Rows != 10 || list[0].Chunks != 3 {
		t.Fatalf("snapshots %+v", list)
	}
}

// The Acker saves an incremental snapshot's progress once its chunk is
// acknowledged, and forgets it when a progress with no tables left is.
func TestAckerSavesIncrementalProgress(t *testing.T) {
	m := memOffsets{}
	store := NewStore[lsn](m, OffsetKey("shop"))
	a := NewAcker(store, &State[lsn]{Position: lsn{9}, Positioned: true, SnapshotCompleted: true}, nil, NewMetrics(nil, "test"), slog.New(slog.DiscardHandler))
	started := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a.ack(context.Background(), batchTimes{}, Chunk[lsn]{Incremental: &IncrementalProgress{ID: "x", Requested: []string{"s.a"}, Tables: []string{"s.a"}, LastKey: []string{"7"}, Started: started}})
	want := `{"lsn":9,"snapshot_completed":true,"incremental":{"id":"x","requested":["s.a"],"tables":["s.a"],"last_key":["7"],"started":"2026-01-02T03:04:05Z"}}`
	if got := string(m["server=shop"]); got != want {
		t.Fatalf("stored\n%s\nwant\n%s", got, want)
	}
	st, err := store.Load(context.Background())
	if err != nil || st.Incremental == nil || !slices.Equal(st.Incremental.LastKey, []string{"7"}) {
		t.Fatalf("loaded %+v, %v", st, err)
	}
	a.ack(context.Background(), batchTimes{}, Chunk[lsn]{Incremental: &IncrementalProgress{ID: "x"}})
	if got := string(m["server=shop"]); got != `{"lsn":9,"snapshot_completed":true}` {
		t.Fatalf("stored %s after the snapshot ended", got)
	}
}

// With snapshot.new.tables, the tables captured now and not when the
// source last started get an incremental snapshot, and the tables
// captured now are handed on to be saved; without a stored list nothing
// is snapshotted.
func TestNewTablesGetAnIncrementalSnapshot(t *testing.T) {
	for _, tc := range []struct {
		name      string
		known     []string
		newTables bool
		want      []string
	}{
		{"new table", []string{"s.b"}, true, []string{"s.a"}},
		{"nothing new", []string{"s.a", "s.b"}, true, nil},
		{"no stored list", nil, true, nil},
		{"off", []string{"s.b"}, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := make(chan Chunk[lsn], 100)
			in := NewIncremental(IncrementalConfig[lsn]{Reader: &fakeChunks{rows: 10}, ChunkSize: 4, Out: out, Captured: []string{"s.a", "s.b"}, Known: tc.known,
				NewTables: tc.newTables, Metrics: NewMetrics(nil, "test"), Logger: slog.New(slog.DiscardHandler)})
			if err := in.Step(context.Background()); err != nil {
				t.Fatal(err)
			}
			var tables []string
			if in.progress != nil {
				tables = in.progress.Tables
			}
			if !slices.Equal(tables, tc.want) {
				t.Fatalf("snapshot of %v, want %v", tables, tc.want)
			}
			var saved []string
			for _, c := range drain(out) {
				if c.Captured != nil {
					saved = c.Captured
				}
			}
			if !slices.Equal(saved, []string{"s.a", "s.b"}) {
				t.Fatalf("captured tables handed on: %v", saved)
			}
		})
	}
}

// TestKeyStringsAreDistinct checks that keys whose values print alike
// side by side get distinct map keys, and that integers of any width match.
func TestKeyStringsAreDistinct(t *testing.T) {
	distinct := []event.Row{{"a b"}, {"a", "b"}, {"a", " b"}, {"1:a"}, {"1", "a"}, {int64(12)}, {int64(1), int64(2)}, {nil}, {""}, {[]byte("ab")}, {[]byte("a"), []byte("b")}}
	seen := map[string]event.Row{}
	for _, k := range distinct {
		s := keyString(k)
		if other, ok := seen[s]; ok {
			t.Errorf("keys %#v and %#v share %q", other, k, s)
		}
		seen[s] = k
	}
	if keyString(event.Row{int32(7), "x"}) != keyString(event.Row{int64(7), "x"}) {
		t.Error("an int32 and an int64 key of the same value differ")
	}
}
