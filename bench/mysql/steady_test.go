package main

import (
	"testing"

	"github.com/sluice-cdc/sluice/bench/internal/sourcebench"
	"github.com/sluice-cdc/sluice/schema/event"
)

func TestCommitTimeMatchesEachChangeByWhatIdentifiesIt(t *testing.T) {
	w := &writer{inserted: map[int64]int64{7: 1000}, updated: map[int64]int64{3: 2000}, deleted: map[int64]int64{7: 3000}}
	commit := w.commitTime
	tests := []struct {
		change sourcebench.Change
		want   int64
	}{
		{sourcebench.Change{Op: event.OpCreate, ID: 7, TsMillis: 999_000}, 1000}, // the client's time, not ts_ms
		{sourcebench.Change{Op: event.OpUpdate, ID: 7, B: 3}, 2000},              // an update by its b
		{sourcebench.Change{Op: event.OpDelete, ID: 7}, 3000},
	}
	for _, tt := range tests {
		if got, err := commit(&tt.change); err != nil || got != tt.want {
			t.Errorf("commit(%+v) = %d, %v; want %d", tt.change, got, err, tt.want)
		}
	}
	for _, c := range []sourcebench.Change{{Op: event.OpCreate, ID: 8}, {Op: event.OpUpdate, ID: 3, B: 7}, {Op: event.OpRead, ID: 7}} {
		if got, err := commit(&c); err == nil {
			t.Errorf("commit(%+v) = %d, want an error: not a change the writer made", c, got)
		}
	}
}
