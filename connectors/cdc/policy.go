package cdc

import (
	"errors"
	"fmt"

	"github.com/sluice-cdc/sluice/connectors"
)

// The values of snapshot.mode (never is read as no_data).
const (
	SnapshotInitial     = "initial"
	SnapshotInitialOnly = "initial_only"
	SnapshotNoData      = "no_data"
	SnapshotWhenNeeded  = "when_needed"
	SnapshotAlways      = "always"
)

// ErrPositionLost is returned when the position a source streamed from is
// gone (a dropped slot, a purged binlog) and snapshot.mode does not allow a
// new snapshot; it is permanent.
var ErrPositionLost = errors.New("the streaming position is lost")

// Start is what a source does when it starts, decided from snapshot.mode,
// its stored state and what the database still has.
type Start struct {
	// Idle: snapshot.mode=initial_only and the snapshot is complete; the
	// source has nothing to do.
	Idle bool
	// Fresh: there is no usable streaming position; the source takes a new
	// one (creates its slot, reads the binlog's current position) and
	// discards its stored state.
	Fresh bool
	// Snapshot: read the tables before streaming; Resume, when set, is the
	// interrupted snapshot to continue.
	Snapshot bool
	Resume   bool
}

// Decide applies snapshot.mode. usable reports whether the database can
// still stream from where the source is (a slot exists, the stored binlog
// position is still on the server); lost describes, for messages, what
// happened when the source had a position and it is gone ("" otherwise).
func Decide[P any](mode string, usable bool, lost string, st *State[P]) (Start, error) {
	if lost != "" && mode != SnapshotWhenNeeded && mode != SnapshotAlways {
		return Start{}, connectors.Permanent(fmt.Errorf("%w: %s; changes since may be lost. "+
			"To take a new snapshot, reset the connector's offsets or set snapshot.mode=when_needed", ErrPositionLost, lost))
	}
	if st.SnapshotCompleted && mode == SnapshotInitialOnly && lost == "" {
		return Start{Idle: true}, nil
	}
	if !usable {
		return Start{Fresh: true, Snapshot: mode != SnapshotNoData}, nil
	}
	switch {
	case mode == SnapshotAlways:
		return Start{Snapshot: true}, nil
	case mode == SnapshotNoData:
		return Start{}, nil
	case st.Snapshot != nil:
		return Start{Snapshot: true, Resume: true}, nil
	case !st.SnapshotCompleted:
		return Start{Snapshot: true}, nil
	}
	return Start{}, nil
}
