package faults

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sluice-cdc/sluice/schema/event"
)

// Event is a change as a consumer saw it.
type Event struct {
	Key int64
	Seq int64 // the row's seq column after the change; unused for a delete
	Op  event.Op
	V   string
	At  string // where it was read ("topic/partition@offset"), for reports
}

// Report is what a verification found. Each list names the changes or
// events concerned, one line each.
type Report struct {
	Required   int // committed changes that had to arrive
	Events     int // events checked
	Missing    []string
	Duplicates []string
	OutOfOrder []string // first deliveries of a key's changes in another order than committed
	Wrong      []string // events no committed change explains, or with other values
}

// Verify checks events, as read in order from one partition (or merged
// keeping each key's order), against log, the changes the writer
// committed, in commit order. Every change of seq from on is required;
// earlier ones (committed before what the scenario guarantees, such as
// before a connector first said RUNNING) may arrive or not, but when they
// do they are checked as the others.
//
// A snapshot's read (op r) is a row's state, not a change: it must hold
// values some committed change wrote, but it delivers no change and takes
// no place in its key's order. A snapshot resumed after a stop reads rows
// newer than the position streaming resumes from, so the stream may then
// bring older states of a row it read: VerifyState of the replayed
// events checks that they converge.
func Verify(log []Change, from int64, events []Event) Report {
	bySeq := make(map[int64]int, len(log))
	deleted := map[int64]int{}
	for i, c := range log {
		if c.Op == event.OpDelete {
			deleted[c.Key] = i
		} else {
			bySeq[c.Seq] = i
		}
	}
	r := Report{Events: len(events)}
	seen := make([]int, len(log))
	last := map[int64]int{} // per key, the latest change delivered
	for _, e := range events {
		var (
			i  int
			ok bool
		)
		if e.Op == event.OpDelete {
			if i, ok = deleted[e.Key]; !ok {
				r.Wrong = append(r.Wrong, fmt.Sprintf("%s: delete of key %d, which was never deleted", e.At, e.Key))
				continue
			}
		} else {
			if i, ok = bySeq[e.Seq]; !ok {
				r.Wrong = append(r.Wrong, fmt.Sprintf("%s: %c of key %d with seq %d, which no committed change wrote", e.At, e.Op, e.Key, e.Seq))
				continue
			}
			c := log[i]
			if e.Key != c.Key || e.V != c.V || (e.Op != c.Op && e.Op != event.OpRead) {
				r.Wrong = append(r.Wrong, fmt.Sprintf("%s: %c key %d v %q for change %d, which was %c key %d v %q", e.At, e.Op, e.Key, e.V, c.Seq, c.Op, c.Key, c.V))
				continue
			}
		}
		if e.Op == event.OpRead {
			continue
		}
		seen[i]++
		if seen[i] > 1 {
			r.Duplicates = append(r.Duplicates, fmt.Sprintf("%s: change %d (%c key %d) delivered %d times", e.At, log[i].Seq, log[i].Op, log[i].Key, seen[i]))
			continue
		}
		if prev, ok := last[e.Key]; ok && i < prev {
			r.OutOfOrder = append(r.OutOfOrder, fmt.Sprintf("%s: change %d of key %d after its later change %d", e.At, log[i].Seq, e.Key, log[prev].Seq))
			continue
		}
		last[e.Key] = i
	}
	for i, c := range log {
		if c.Seq < from {
			continue
		}
		r.Required++
		if seen[i] == 0 {
			r.Missing = append(r.Missing, fmt.Sprintf("change %d (%c key %d, transaction %d)", c.Seq, c.Op, c.Key, c.Tx))
		}
	}
	return r
}

// Doc is a document as a sink stored it: the row's seq and v columns.
type Doc struct {
	Seq int64
	V   string
}

// VerifyState checks docs, a sink's documents by key (an Elasticsearch
// index), against the table log leaves: every key present holds its last
// change, and no deleted key remains. A document behind its row counts as
// missing (the changes after it did not arrive).
func VerifyState(log []Change, docs map[int64]Doc) Report {
	final := map[int64]Change{}
	for _, c := range log {
		final[c.Key] = c
	}
	r := Report{Events: len(docs)}
	for k, c := range final {
		d, ok := docs[k]
		if c.Op == event.OpDelete {
			if ok {
				r.Wrong = append(r.Wrong, fmt.Sprintf("key %d: document with seq %d, but the row was deleted by change %d", k, d.Seq, c.Seq))
			}
			continue
		}
		r.Required++
		switch {
		case !ok:
			r.Missing = append(r.Missing, fmt.Sprintf("key %d: no document, want change %d", k, c.Seq))
		case d.Seq < c.Seq:
			r.Missing = append(r.Missing, fmt.Sprintf("key %d: document at change %d, want change %d", k, d.Seq, c.Seq))
		case d.Seq != c.Seq || d.V != c.V:
			r.Wrong = append(r.Wrong, fmt.Sprintf("key %d: document seq %d v %q, want seq %d v %q", k, d.Seq, d.V, c.Seq, c.V))
		}
	}
	for k, d := range docs {
		if _, ok := final[k]; !ok {
			r.Wrong = append(r.Wrong, fmt.Sprintf("key %d: document with seq %d for a row never written", k, d.Seq))
		}
	}
	return r
}

// Check applies the rule: nothing missing, nothing wrong, per-key order
// kept, and duplicates only when allowed (after an unclean kill). The
// error lists the first few of each defect.
func (r Report) Check(allowDuplicates bool) error {
	var errs []error
	add := func(what string, items []string) {
		if len(items) == 0 {
			return
		}
		more := ""
		if len(items) > 5 {
			items, more = items[:5], fmt.Sprintf("\n  … and %d more", len(items)-5)
		}
		errs = append(errs, fmt.Errorf("%s:\n  %s%s", what, strings.Join(items, "\n  "), more))
	}
	add(fmt.Sprintf("%d of %d required changes missing", len(r.Missing), r.Required), r.Missing)
	add(fmt.Sprintf("%d events wrong", len(r.Wrong)), r.Wrong)
	add(fmt.Sprintf("%d changes out of order for their key", len(r.OutOfOrder)), r.OutOfOrder)
	if !allowDuplicates {
		add(fmt.Sprintf("%d duplicates after clean stops only", len(r.Duplicates)), r.Duplicates)
	}
	return errors.Join(errs...)
}

// String summarises the report in one line.
func (r Report) String() string {
	return fmt.Sprintf("%d events checked, %d changes required: %d missing, %d duplicates, %d out of order, %d wrong",
		r.Events, r.Required, len(r.Missing), len(r.Duplicates), len(r.OutOfOrder), len(r.Wrong))
}

// Replay is what a consumer upserting events by key (and deleting on a
// delete) ends with: the documents VerifyState checks.
func Replay(events []Event) map[int64]Doc {
	docs := map[int64]Doc{}
	for _, e := range events {
		if e.Op == event.OpDelete {
			delete(docs, e.Key)
		} else {
			docs[e.Key] = Doc{Seq: e.Seq, V: e.V}
		}
	}
	return docs
}
