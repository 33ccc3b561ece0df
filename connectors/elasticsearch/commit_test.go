package elasticsearch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors/metrics"
)

func TestTrackerCommitsOnlyAcknowledgedPrefixesAndHoldsBackVersionedDeletes(t *testing.T) {
	type rec struct {
		topic    string
		part     int32
		off      int64
		holdBack bool // a versioned delete
	}
	tests := []struct {
		name string
		recs []rec
		done []int // indexes into recs, in the order their writes end
		want []string
	}{
		{"all done", []rec{{"a", 0, 5, false}, {"a", 0, 6, false}, {"b", 1, 3, false}}, []int{0, 1, 2}, []string{"a/0@6", "b/1@3"}},
		{"done out of order stops at the first gap", []rec{{"a", 0, 5, false}, {"a", 0, 6, false}, {"a", 0, 7, false}}, []int{0, 2}, []string{"a/0@5"}},
		{"nothing before the gap", []rec{{"a", 0, 5, false}, {"a", 0, 6, false}}, []int{1}, nil},
		{"gap filled", []rec{{"a", 0, 5, false}, {"a", 0, 6, false}, {"a", 0, 7, false}}, []int{2, 1, 0}, []string{"a/0@7"}},
		{"delete last", []rec{{"a", 0, 5, false}, {"a", 0, 6, true}, {"b", 1, 3, false}}, []int{0, 1, 2}, []string{"a/0@5", "b/1@3"}},
		{"delete alone", []rec{{"a", 0, 6, true}, {"b", 1, 3, false}}, []int{0, 1}, []string{"b/1@3"}},
		{"delete before its tombstone", []rec{{"a", 0, 5, true}, {"a", 0, 6, false}}, []int{0, 1}, []string{"a/0@6"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := testTracker(100)
			ts := make([]*tracked, len(tt.recs))
			for i, r := range tt.recs {
				ts[i] = tr.add(&kgo.Record{Topic: r.topic, Partition: r.part, Offset: r.off}, r.holdBack)
			}
			for _, i := range tt.done {
				tr.done(ts[i])
			}
			pts := tr.commitPoints()
			var got []string
			for _, r := range pts {
				got = append(got, fmt.Sprintf("%s/%d@%d", r.Topic, r.Partition, r.Offset))
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("commit points = %q, want %q", got, tt.want)
			}
			tr.markCommitted(pts)
			if again := tr.commitPoints(); len(again) != 0 {
				t.Errorf("commit points after committing them = %v, want none", again)
			}
		})
	}
}

func TestTrackerBoundsRecordsInFlight(t *testing.T) {
	tr := testTracker(2)
	defer func() {
		if g := tr.gauge.Value(); g != 1 {
			t.Errorf("records in flight gauge = %v, want 1", g)
		}
	}()
	a := tr.add(&kgo.Record{Topic: "t", Offset: 0}, false)
	if n, err := tr.waitRoom(context.Background(), time.Second, nil); n != 1 || err != nil {
		t.Fatalf("waitRoom with 1 of 2 in flight = %d, %v; want 1, nil", n, err)
	}
	tr.add(&kgo.Record{Topic: "t", Offset: 1}, false)
	full := errors.New("no room")
	if n, err := tr.waitRoom(context.Background(), 50*time.Millisecond, full); n != 0 || err != full {
		t.Fatalf("waitRoom with 2 of 2 in flight = %d, %v; want 0, %v", n, err, full)
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		tr.done(a)
	}()
	if n, err := tr.waitRoom(context.Background(), 10*time.Second, full); n != 1 || err != nil {
		t.Fatalf("waitRoom after a record was done = %d, %v; want 1, nil", n, err)
	}
	if err := tr.waitIdle(context.Background(), 50*time.Millisecond, full); err != full {
		t.Fatalf("waitIdle with a record in flight = %v, want %v", err, full)
	}
	broken := errors.New("lane failed")
	tr.fail(broken)
	if err := tr.waitIdle(context.Background(), 10*time.Second, full); err != broken {
		t.Fatalf("waitIdle after a failure = %v, want %v", err, broken)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := testTracker(1).waitRoom(ctx, 10*time.Second, full); err != nil {
		t.Fatalf("waitRoom with room and ctx ended = %v, want nil (room wins)", err)
	}
	tr2 := testTracker(1)
	tr2.add(&kgo.Record{Topic: "t"}, false)
	if _, err := tr2.waitRoom(ctx, 10*time.Second, full); !errors.Is(err, context.Canceled) {
		t.Fatalf("waitRoom without room and ctx ended = %v, want context.Canceled", err)
	}
}

func testTracker(max int) *tracker {
	return newTracker(max, metrics.NewRegistry().Gauge("sluice_test_in_flight", "Records in flight.", nil))
}
