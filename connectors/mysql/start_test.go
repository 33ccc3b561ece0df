package mysql

import (
	"testing"

	"github.com/sluice-cdc/sluice/connectors/cdc"
)

// A snapshot that starts over after a run that said RUNNING streams from
// that run's position: the changes committed in between are not skipped
// (found by the fault suite: a connector paused right after RUNNING, while
// its snapshot had saved no progress, lost the changes committed before
// the new snapshot's position).
func TestSnapshotStart(t *testing.T) {
	stored := Position{File: "mysql-bin.000003", Pos: 400}
	interrupted := Position{File: "mysql-bin.000002", Pos: 900}
	opened := Position{File: "mysql-bin.000004", Pos: 120}
	for _, tc := range []struct {
		name      string
		mode      string
		state     cdc.State[Position]
		want      Position
		wantFresh bool
	}{
		{"first start", cdc.SnapshotInitial, cdc.State[Position]{}, opened, true},
		{"started, no snapshot progress saved", cdc.SnapshotInitial, cdc.State[Position]{Position: stored, Positioned: true}, stored, false},
		{"started, no snapshot progress saved, when_needed", cdc.SnapshotWhenNeeded, cdc.State[Position]{Position: stored, Positioned: true}, stored, false},
		{"interrupted snapshot resumed", cdc.SnapshotInitial,
			cdc.State[Position]{Position: stored, Positioned: true, Snapshot: &cdc.SnapshotProgress[Position]{Start: interrupted, Table: "db.t"}}, interrupted, false},
		{"snapshot.mode=always takes a new one", cdc.SnapshotAlways, cdc.State[Position]{Position: stored, Positioned: true, SnapshotCompleted: true}, opened, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, fresh := snapshotStart(tc.mode, &tc.state, opened)
			if got != tc.want || fresh != tc.wantFresh {
				t.Errorf("snapshotStart = %v, fresh %v; want %v, fresh %v", got, fresh, tc.want, tc.wantFresh)
			}
		})
	}
}
