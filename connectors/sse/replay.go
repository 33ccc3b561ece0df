package sse

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// errReplayStalled ends a replay that waited replay.idle.timeout.ms for
// records it knows exist; the client resumes from its last id.
var errReplayStalled = errors.New("replay stalled: Kafka returned no record within replay.idle.timeout.ms")

// resetReason says why a resume from `from` up to the hub's position `to`
// is impossible, or returns "" when it is possible.
func (st *stream) resetReason(ctx context.Context, from, to position) (string, error) {
	var behind int64
	for t := range from {
		for p := range from[t] {
			if from[t][p] > to[t][p] {
				return fmt.Sprintf("the id points past the stream's position in %s/%d", st.lay.topics[t], p), nil
			}
			behind += to[t][p] - from[t][p]
		}
	}
	if behind == 0 {
		return "", nil
	}
	if st.cfg.ReplayMax > 0 && behind > st.cfg.ReplayMax {
		return fmt.Sprintf("the id is %d records behind, more than replay.max.records (%d)", behind, st.cfg.ReplayMax), nil
	}
	starts, err := st.admin.ListStartOffsets(ctx, st.lay.topics...)
	if err != nil {
		return "", fmt.Errorf("list start offsets of %v: %w", st.lay.topics, err)
	}
	for t := range from {
		for p := range from[t] {
			o, ok := starts.Lookup(st.lay.topics[t], int32(p))
			if !ok || o.Err != nil {
				return "", fmt.Errorf("list start offset of %s/%d: %v", st.lay.topics[t], p, o.Err)
			}
			if from[t][p] < to[t][p] && from[t][p] < o.Offset {
				return fmt.Sprintf("retention deleted records after the id in %s/%d", st.lay.topics[t], p), nil
			}
		}
	}
	return "", nil
}

// startAt returns the position a new subscriber asking for from=earliest or
// from=<time> starts at, never past to (the hub's position).
func (st *stream) startAt(ctx context.Context, earliest bool, at time.Time, to position) (position, error) {
	var listed kadm.ListedOffsets
	var err error
	if earliest {
		listed, err = st.admin.ListStartOffsets(ctx, st.lay.topics...)
	} else {
		listed, err = st.admin.ListOffsetsAfterMilli(ctx, at.UnixMilli(), st.lay.topics...)
	}
	if err != nil {
		return nil, fmt.Errorf("list offsets of %v: %w", st.lay.topics, err)
	}
	from := to.clone()
	for t := range from {
		for p := range from[t] {
			o, ok := listed.Lookup(st.lay.topics[t], int32(p))
			if !ok || o.Err != nil {
				return nil, fmt.Errorf("list offset of %s/%d: %v", st.lay.topics[t], p, o.Err)
			}
			if o.Offset >= 0 && o.Offset < from[t][p] {
				from[t][p] = o.Offset
			}
		}
	}
	return from, nil
}

// replay writes to out the frames of the records from `from` up to `to`
// that f selects, in order per partition, each with the id of the position
// after it, reading them with a client of its own. It returns once every
// partition reached `to`.
func (st *stream) replay(ctx context.Context, from, to position, f *Filter, out frameSink) error {
	parts := map[string]map[int32]kgo.Offset{}
	remaining := 0
	for t := range from {
		for p := range from[t] {
			if from[t][p] < to[t][p] {
				if parts[st.lay.topics[t]] == nil {
					parts[st.lay.topics[t]] = map[int32]kgo.Offset{}
				}
				parts[st.lay.topics[t]][int32(p)] = kgo.NewOffset().At(from[t][p])
				remaining++
			}
		}
	}
	if remaining == 0 {
		return nil
	}
	// A replay reads for one subscriber: its fetches are kept small
	// (franz-go buffers up to 50 MB by default), so that many subscribers
	// resuming at once hold little each.
	opts := append(append([]kgo.Opt{}, st.kafkaOpts...), kgo.ConsumePartitions(parts), kgo.ConsumeResetOffset(kgo.NoResetOffset()),
		kgo.FetchMaxBytes(replayFetchBytes), kgo.FetchMaxPartitionBytes(replayFetchBytes))
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("create replay reader: %w", err)
	}
	defer cl.Close()
	cur := from.clone()
	for remaining > 0 {
		pctx, cancel := context.WithTimeout(ctx, st.cfg.ReplayIdle)
		fetches := cl.PollFetches(pctx)
		idle := pctx.Err() != nil
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := fetchError(fetches); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		if fetches.NumRecords() == 0 && idle {
			return errReplayStalled
		}
		var failed error
		fetches.EachRecord(func(r *kgo.Record) {
			t, ok := st.lay.index[r.Topic]
			if failed != nil || !ok || int(r.Partition) >= len(cur[t]) {
				return
			}
			p := r.Partition
			if cur[t][p] >= to[t][p] || r.Offset >= to[t][p] || r.Offset < cur[t][p] {
				return
			}
			cur[t][p] = r.Offset + 1
			st.met.replayReads.Add(1)
			if cur[t][p] >= to[t][p] {
				remaining--
			}
			m, err := st.dec.decode(ctx, r)
			switch {
			case skipped(err):
				st.met.badRecords.Add(1)
				return
			case err != nil:
				failed = err
				return
			case m == nil || !f.match(m):
				return
			}
			if err := out.send(appendFrame(nil, st.lay.encode(cur), st.hub.name(m), m.data)); err != nil {
				failed = err
				return
			}
			st.met.sent.Add(1)
		})
		if failed != nil {
			return failed
		}
		if err := out.flush(); err != nil {
			return err
		}
	}
	return nil
}

// replayFetchBytes bounds one replay fetch; a larger record still comes
// whole.
const replayFetchBytes = 1 << 20
