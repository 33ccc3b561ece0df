package mysql

import "github.com/sluice-cdc/sluice/connectors/cdc"

// snapshotStart says where a snapshot about to run starts, and streaming
// after it, given the stored state and snapPos, the position of the
// snapshot just opened:
//   - an interrupted snapshot is resumed: its own start; the rows not yet
//     read come from a newer snapshot, and streaming from the original
//     start brings every row to its latest state;
//   - an earlier run fixed the start position (and said RUNNING) but
//     stopped before its snapshot saved any progress: that position, so
//     that no change committed since is skipped, while the snapshot
//     starts over;
//   - otherwise (no stored position, or snapshot.mode=always): snapPos,
//     and fresh, because the schema history starts there.
func snapshotStart(mode string, state *cdc.State[Position], snapPos Position) (start Position, fresh bool) {
	switch {
	case state.Snapshot != nil && mode != cdc.SnapshotAlways:
		return state.Snapshot.Start, false
	case state.Positioned && !state.SnapshotCompleted && mode != cdc.SnapshotAlways:
		return state.Position, false
	}
	return snapPos, true
}
