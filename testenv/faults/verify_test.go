package faults

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/sluice-cdc/sluice/schema/event"
)

// committed is a log of two transactions: key 1 inserted, updated and
// deleted; key 2 inserted and updated.
var committed = []Change{
	{Seq: 1, Key: 1, Op: event.OpCreate, V: "k1-s1", Tx: 1},
	{Seq: 2, Key: 2, Op: event.OpCreate, V: "k2-s2", Tx: 1},
	{Seq: 3, Key: 1, Op: event.OpUpdate, V: "k1-s3", Tx: 2},
	{Seq: 4, Key: 2, Op: event.OpUpdate, V: "k2-s4", Tx: 2},
	{Seq: 5, Key: 1, Op: event.OpDelete, Tx: 2},
}

func ev(op event.Op, key, seq int64, v string) Event {
	return Event{Key: key, Seq: seq, Op: op, V: v, At: "t/0@" + v}
}

var (
	c1 = ev(event.OpCreate, 1, 1, "k1-s1")
	c2 = ev(event.OpCreate, 2, 2, "k2-s2")
	u3 = ev(event.OpUpdate, 1, 3, "k1-s3")
	u4 = ev(event.OpUpdate, 2, 4, "k2-s4")
	d5 = Event{Key: 1, Op: event.OpDelete, At: "t/0@d1"}
)

func TestVerifyFindsEachDefect(t *testing.T) {
	for _, tc := range []struct {
		name   string
		from   int64
		events []Event
		want   Report // Events and Required are filled in from the case
		// allowed says whether Check passes with duplicates allowed.
		allowed bool
	}{
		{name: "all delivered in order", events: []Event{c1, c2, u3, u4, d5}, allowed: true},
		{name: "keys interleave differently", events: []Event{c2, u4, c1, u3, d5}, allowed: true},
		{name: "snapshot reads before the required changes", from: 3,
			events:  []Event{ev(event.OpRead, 1, 1, "k1-s1"), ev(event.OpRead, 2, 2, "k2-s2"), u3, u4, d5},
			allowed: true},
		{name: "a snapshot read of a newer row than the stream's", from: 3,
			events:  []Event{ev(event.OpRead, 1, 3, "k1-s3"), ev(event.OpRead, 2, 4, "k2-s4"), u3, u4, d5},
			allowed: true},
		{name: "a snapshot read delivers no change", from: 3,
			events: []Event{ev(event.OpRead, 1, 3, "k1-s3"), ev(event.OpRead, 2, 2, "k2-s2"), u4, d5},
			want:   Report{Missing: []string{"change 3 (u key 1, transaction 2)"}}},
		{name: "a snapshot read with a wrong value", events: []Event{ev(event.OpRead, 1, 1, "k1-s0"), c1, c2, u3, u4, d5},
			want: Report{Wrong: []string{`t/0@k1-s0: r key 1 v "k1-s0" for change 1, which was c key 1 v "k1-s1"`}}},
		{name: "changes before from are optional", from: 4, events: []Event{u4, d5}, allowed: true},
		{name: "missing", events: []Event{c1, c2, u4, d5},
			want: Report{Missing: []string{"change 3 (u key 1, transaction 2)"}}},
		{name: "missing delete", events: []Event{c1, c2, u3, u4},
			want: Report{Missing: []string{"change 5 (d key 1, transaction 2)"}}},
		{name: "replayed after a kill", events: []Event{c1, c2, u3, c2, u3, u4, d5},
			want:    Report{Duplicates: []string{"t/0@k2-s2: change 2 (c key 2) delivered 2 times", "t/0@k1-s3: change 3 (u key 1) delivered 2 times"}},
			allowed: true},
		{name: "reordered within a key", events: []Event{c2, u3, c1, u4, d5},
			want: Report{OutOfOrder: []string{"t/0@k1-s1: change 1 of key 1 after its later change 3"}}},
		{name: "delete before the update", events: []Event{c1, c2, d5, u3, u4},
			want: Report{OutOfOrder: []string{"t/0@k1-s3: change 3 of key 1 after its later change 5"}}},
		{name: "wrong value", events: []Event{c1, c2, ev(event.OpUpdate, 1, 3, "k1-s9"), u4, d5},
			want: Report{
				Missing: []string{"change 3 (u key 1, transaction 2)"},
				Wrong:   []string{`t/0@k1-s9: u key 1 v "k1-s9" for change 3, which was u key 1 v "k1-s3"`}}},
		{name: "wrong key", events: []Event{c1, c2, u3, ev(event.OpUpdate, 1, 4, "k2-s4"), d5},
			want: Report{
				Missing: []string{"change 4 (u key 2, transaction 2)"},
				Wrong:   []string{`t/0@k2-s4: u key 1 v "k2-s4" for change 4, which was u key 2 v "k2-s4"`}}},
		{name: "wrong op", events: []Event{c1, c2, ev(event.OpCreate, 1, 3, "k1-s3"), u4, d5},
			want: Report{
				Missing: []string{"change 3 (u key 1, transaction 2)"},
				Wrong:   []string{`t/0@k1-s3: c key 1 v "k1-s3" for change 3, which was u key 1 v "k1-s3"`}}},
		{name: "a change never committed", events: []Event{c1, c2, u3, u4, d5, ev(event.OpUpdate, 2, 6, "k2-s6")},
			want: Report{Wrong: []string{"t/0@k2-s6: u of key 2 with seq 6, which no committed change wrote"}}},
		{name: "a delete never committed", events: []Event{c1, c2, u3, u4, d5, {Key: 2, Op: event.OpDelete, At: "t/0@d2"}},
			want: Report{Wrong: []string{"t/0@d2: delete of key 2, which was never deleted"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Verify(committed, tc.from, tc.events)
			want := tc.want
			want.Events = len(tc.events)
			want.Required = 0
			for _, c := range committed {
				if c.Seq >= tc.from {
					want.Required++
				}
			}
			if !equalReports(got, want) {
				t.Fatalf("Verify:\n got %#v\nwant %#v", got, want)
			}
			clean := len(want.Missing)+len(want.Wrong)+len(want.OutOfOrder) == 0
			if err := got.Check(true); (err == nil) != tc.allowed {
				t.Errorf("Check(duplicates allowed) = %v, want passing: %v", err, tc.allowed)
			}
			if err := got.Check(false); (err == nil) != (clean && len(want.Duplicates) == 0) {
				t.Errorf("Check(no duplicates) = %v", err)
			}
		})
	}
}

func equalReports(a, b Report) bool {
	return a.Events == b.Events && a.Required == b.Required && slices.Equal(a.Missing, b.Missing) &&
		slices.Equal(a.Duplicates, b.Duplicates) && slices.Equal(a.OutOfOrder, b.OutOfOrder) && slices.Equal(a.Wrong, b.Wrong)
}

func TestVerifyStateFindsEachDefect(t *testing.T) {
	for _, tc := range []struct {
		name string
		docs map[int64]Doc
		want Report
	}{
		{name: "equal", docs: map[int64]Doc{2: {4, "k2-s4"}}},
		{name: "document missing", docs: map[int64]Doc{},
			want: Report{Missing: []string{"key 2: no document, want change 4"}}},
		{name: "document behind", docs: map[int64]Doc{2: {2, "k2-s2"}},
			want: Report{Missing: []string{"key 2: document at change 2, want change 4"}}},
		{name: "deleted row left", docs: map[int64]Doc{1: {3, "k1-s3"}, 2: {4, "k2-s4"}},
			want: Report{Wrong: []string{"key 1: document with seq 3, but the row was deleted by change 5"}}},
		{name: "wrong value", docs: map[int64]Doc{2: {4, "k2-s2"}},
			want: Report{Wrong: []string{`key 2: document seq 4 v "k2-s2", want seq 4 v "k2-s4"`}}},
		{name: "a row never written", docs: map[int64]Doc{2: {4, "k2-s4"}, 7: {9, "k7-s9"}},
			want: Report{Wrong: []string{"key 7: document with seq 9 for a row never written"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := VerifyState(committed, tc.docs)
			want := tc.want
			want.Events, want.Required = len(tc.docs), 1
			if !equalReports(got, want) {
				t.Fatalf("VerifyState:\n got %#v\nwant %#v", got, want)
			}
			if err := got.Check(false); (err == nil) != (len(want.Missing)+len(want.Wrong) == 0) {
				t.Errorf("Check = %v", err)
			}
		})
	}
}

func TestReplayUpsertsByKey(t *testing.T) {
	got := Replay([]Event{ev(event.OpRead, 1, 1, "k1-s1"), c2, u3, u4, c2, d5})
	if want := map[int64]Doc{2: {2, "k2-s2"}}; !maps.Equal(got, want) {
		t.Fatalf("Replay = %v, want %v", got, want)
	}
}

func TestCheckNamesTheDefects(t *testing.T) {
	r := Verify(committed, 0, []Event{c1, c2, c2, u4, u3})
	err := r.Check(false)
	want := "1 of 5 required changes missing:\n  change 5 (d key 1, transaction 2)\n" +
		"1 duplicates after clean stops only:\n  t/0@k2-s2: change 2 (c key 2) delivered 2 times"
	if err == nil || err.Error() != want {
		t.Fatalf("Check = %v, want %q", err, want)
	}
	if got := r.String(); !strings.HasPrefix(got, "5 events checked, 5 changes required: 1 missing, 1 duplicates, 0 out of order, 0 wrong") {
		t.Errorf("String = %q", got)
	}
}
