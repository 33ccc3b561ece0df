package cdc

import (
	"errors"
	"testing"

	"github.com/sluice-cdc/sluice/connectors"
)

func TestDecide(t *testing.T) {
	completed := &State[lsn]{SnapshotCompleted: true}
	underWay := &State[lsn]{Snapshot: &SnapshotProgress[lsn]{Table: "public.t"}}
	never := &State[lsn]{}
	cases := []struct {
		name   string
		mode   string
		usable bool
		lost   string
		st     *State[lsn]
		want   Start
	}{
		{"first start", SnapshotInitial, false, "", never, Start{Fresh: true, Snapshot: true}},
		{"first start without data", SnapshotNoData, false, "", never, Start{Fresh: true}},
		{"restart after the snapshot", SnapshotInitial, true, "", completed, Start{}},
		{"restart mid-snapshot", SnapshotInitial, true, "", underWay, Start{Snapshot: true, Resume: true}},
		{"restart before any snapshot progress", SnapshotInitial, true, "", never, Start{Snapshot: true}},
		{"always", SnapshotAlways, true, "", completed, Start{Snapshot: true}},
		{"no_data with a position", SnapshotNoData, true, "", never, Start{}},
		{"initial_only complete", SnapshotInitialOnly, true, "", completed, Start{Idle: true}},
		{"lost, when_needed", SnapshotWhenNeeded, false, "slot gone", completed, Start{Fresh: true, Snapshot: true}},
		{"lost, always", SnapshotAlways, false, "slot gone", completed, Start{Fresh: true, Snapshot: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decide(tc.mode, tc.usable, tc.lost, tc.st)
			if err != nil || got != tc.want {
				t.Fatalf("Decide = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
	for _, mode := range []string{SnapshotInitial, SnapshotInitialOnly, SnapshotNoData} {
		_, err := Decide(mode, false, `slot "s" no longer exists`, completed)
		if !errors.Is(err, ErrPositionLost) || !errors.Is(err, connectors.ErrPermanent) {
			t.Fatalf("%s: err = %v, want a permanent ErrPositionLost", mode, err)
		}
		want := `the streaming position is lost: slot "s" no longer exists; changes since may be lost. To take a new snapshot, reset the connector's offsets or set snapshot.mode=when_needed`
		if err.Error() != want {
			t.Fatalf("%s: err = %q\nwant %q", mode, err, want)
		}
	}
}
