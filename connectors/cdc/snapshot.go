package cdc

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/sluice-cdc/sluice/schema/event"
)

// TableReader reads tables for a snapshot, inside a read of the database
// consistent with the snapshot's start position. A database supplies it.
type TableReader interface {
	// ReadTable reads table in key order (in any order when it has no key),
	// starting after the row whose key has the text form after (from the
	// start when after is nil). It hands emit its rows as op=r events, in
	// chunks, with the text form of the key of each chunk's last row (nil
	// for a keyless table), and returns emit's error. A chunk's events are
	// the reader's to build and the driver's once handed over.
	ReadTable(ctx context.Context, table string, after []string, emit func(events []*event.Event, lastKey []string) error) error
}

// maxSnapshotChunk bounds the rows of a snapshot chunk: the chunks a
// source queues (eight) and the one held back then hold about 10,000 rows
// at most. Handed on whole, reads of snapshot.fetch.size rows (10,240 by
// default) filled the queue with some 90,000 rows whenever the snapshot
// read faster than Kafka took them, and the peak memory of a snapshot grew
// with the table.
const maxSnapshotChunk = 1024

// SnapshotPlan is a snapshot to take before streaming.
type SnapshotPlan[P any] struct {
	// Start is the streaming position the snapshot is consistent with:
	// streaming starts there once the snapshot is read.
	Start P
	// Tables are the captured tables in the order they are read.
	Tables []string
	// Resume is the progress of an interrupted snapshot to continue.
	Resume *SnapshotProgress[P]
	// Schema are events handed on before the first table's rows (a MySQL
	// source's schema-change records), in a chunk of their own carrying
	// the snapshot's first progress: once any progress is durable, so are
	// they, and a snapshot resumed from it has none to hand on.
	Schema []*event.Event
}

// Snapshot hands on plan's schema events, then reads every table of plan
// not yet done through r and hands the rows on to out, each chunk carrying
// the progress to save once it is durable, then a chunk marked
// SnapshotDone.
//
// It marks rows as Debezium 3 does (the reader marks them all true): the
// first row of the plan's first table "first", the first row of any other
// table "first_in_data_collection", the last row of a table
// "last_in_data_collection" (but a row already marked first stays so) and
// the last row of the whole snapshot "last". A table resumed after a key
// has no first row. To know a table's last row, the last chunk with rows is
// held back until the next one is read, so memory holds two chunks of the
// reader at most.
func Snapshot[P any](ctx context.Context, plan SnapshotPlan[P], r TableReader, out chan<- Chunk[P], logger *slog.Logger) error {
	progress := &SnapshotProgress[P]{Start: plan.Start}
	if plan.Resume != nil {
		// A copy: the caller's, often its stored state's, must go on saying
		// what is durable until an acknowledgement replaces it, while this
		// one runs ahead with the rows read.
		progress = plan.Resume.clone()
	}
	todo := slices.DeleteFunc(slices.Clone(plan.Tables), func(t string) bool { return slices.Contains(progress.Done, t) })
	logger.Info("snapshot started", "tables", len(plan.Tables), "to_read", len(todo), "resumed", plan.Resume != nil)
	started := time.Now()
	if len(plan.Schema) > 0 {
		if err := Send(ctx, out, Chunk[P]{Events: plan.Schema, Snapshot: progress.clone()}); err != nil {
			return err
		}
	}
	// held is the last chunk with events, not yet sent; progress that
	// follows it travels with it.
	var held *Chunk[P]
	pass := func(c Chunk[P]) error {
		switch {
		case len(c.Events) == 0 && held != nil:
			held.Snapshot = c.Snapshot
			return nil
		case len(c.Events) == 0:
			return Send(ctx, out, c)
		case held != nil:
			if err := Send(ctx, out, *held); err != nil {
				return err
			}
		}
		held = &c
		return nil
	}
	for _, t := range todo {
		var after []string
		if progress.Table == t {
			after = progress.LastKey
		}
		progress.Table = t
		read := false
		err := r.ReadTable(ctx, t, after, func(events []*event.Event, lastKey []string) error {
			if len(events) == 0 {
				return nil
			}
			if !read && after == nil {
				events[0].Source.Snapshot = event.SnapshotFirstInDataCollection
				if t == plan.Tables[0] {
					events[0].Source.Snapshot = event.SnapshotFirst
				}
			}
			read = true
			if lastKey != nil {
				progress.LastKey = lastKey
			}
			// A read of snapshot.fetch.size rows goes on in chunks of at most
			// maxSnapshotChunk, so that the chunks queued towards Kafka hold a
			// bounded number of rows whatever the fetch size; the read's
			// progress travels with its last one.
			for len(events) > maxSnapshotChunk {
				if err := pass(Chunk[P]{Events: slices.Clone(events[:maxSnapshotChunk])}); err != nil {
					return err
				}
				events = events[maxSnapshotChunk:]
			}
			return pass(Chunk[P]{Events: slices.Clone(events), Snapshot: progress.clone()})
		})
		if err != nil {
			return err
		}
		if read {
			if last := held.Events[len(held.Events)-1]; last.Source.Snapshot != event.SnapshotFirst {
				last.Source.Snapshot = event.SnapshotLastInDataCollection
			}
		}
		progress.Done = append(progress.Done, t)
		progress.Table, progress.LastKey = "", nil
		logger.Info("snapshot of table complete", "table", t)
		if err := pass(Chunk[P]{Snapshot: progress.clone()}); err != nil {
			return err
		}
	}
	if held != nil {
		held.Events[len(held.Events)-1].Source.Snapshot = event.SnapshotLast
		if err := Send(ctx, out, *held); err != nil {
			return err
		}
	}
	logger.Info("snapshot read every table", "tables", len(plan.Tables), "seconds", time.Since(started).Seconds())
	return Send(ctx, out, Chunk[P]{SnapshotDone: true})
}
