package elasticsearch

import (
	"context"
	"hash/fnv"
	"time"
)

// lanes write actions to Elasticsearch continuously: max.in.flight.requests
// lanes, each sending bulk requests one after the other, so that that many
// are in flight while the consumer reads and converts the next records.
// Actions on one document always take the same lane, in order, which keeps
// each document's writes in source order and lets a lane merge a document
// with the stored one (unchanged TOASTed fields) knowing that every earlier
// write of it is done.
type lanes struct {
	w    *writer
	b    *batcher
	in   []chan *pendingAction
	done chan struct{} // closed when every lane has ended
}

// pendingAction is an action dispatched to a lane, with its tracking entry.
type pendingAction struct {
	a *action
	t *tracked
}

// startLanes starts the lanes; they run until ctx ends or one fails (which
// fails the tracker).
func startLanes(ctx context.Context, b *batcher) *lanes {
	cfg := b.s.cfg
	l := &lanes{w: b.w, b: b, in: make([]chan *pendingAction, cfg.InFlight), done: make(chan struct{})}
	ended := make(chan struct{}, cfg.InFlight)
	for i := range l.in {
		l.in[i] = make(chan *pendingAction, cfg.MaxBuffered)
		go func() {
			defer func() { ended <- struct{}{} }()
			if err := l.run(ctx, l.in[i]); err != nil {
				b.track.fail(cause(ctx, err))
			}
		}()
	}
	go func() {
		for range l.in {
			<-ended
		}
		close(l.done)
	}()
	return l
}

// dispatch hands an index or delete action to its document's lane. The
// lanes' queues hold max.buffered.records, as many as the tracker lets in
// flight, so dispatch never blocks.
func (l *lanes) dispatch(p *pendingAction) {
	h := fnv.New32a()
	h.Write([]byte(p.a.index))
	h.Write([]byte{0})
	h.Write([]byte(p.a.id))
	l.in[h.Sum32()%uint32(len(l.in))] <- p
}

// run is one lane: it gathers up to batch.size queued actions (waiting up
// to linger.ms for more when the queue runs dry), writes them with retries
// in bulk requests of at most bulk.size.bytes, and marks their
// records done once Elasticsearch has them or they were dealt with as
// rejected.
func (l *lanes) run(ctx context.Context, in chan *pendingAction) error {
	cfg := l.b.s.cfg
	var batch []*pendingAction
	var linger *time.Timer
	for {
		batch = batch[:0]
		select {
		case <-ctx.Done():
			return ctx.Err()
		case p := <-in:
			batch = append(batch, p)
		}
	gather:
		for len(batch) < cfg.BatchSize {
			select {
			case p := <-in:
				batch = append(batch, p)
				continue
			default:
			}
			if cfg.Linger <= 0 {
				break
			}
			if linger == nil {
				linger = time.NewTimer(cfg.Linger)
			} else {
				linger.Reset(cfg.Linger)
			}
			select {
			case p := <-in:
				batch = append(batch, p)
				linger.Stop()
			case <-linger.C:
				break gather
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if err := l.write(ctx, batch); err != nil {
			return err
		}
	}
}

// write writes one lane batch and finishes its records.
func (l *lanes) write(ctx context.Context, batch []*pendingAction) error {
	acts := make([]*action, len(batch))
	for i, p := range batch {
		acts[i] = p.a
	}
	if err := l.w.mergeStored(ctx, acts); err != nil {
		return err
	}
	rejected, err := l.w.writeAll(ctx, acts)
	if err != nil {
		return err
	}
	if err := l.b.reject(ctx, rejected); err != nil {
		return err
	}
	ts := make([]*tracked, len(batch))
	for i, p := range batch {
		ts[i] = p.t
	}
	l.b.track.done(ts...)
	return nil
}
