package cdc

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/schema/event"
)

// heldEmitter keeps batches until the test acknowledges them.
type heldEmitter struct{ batches chan connectors.Batch }

func (h heldEmitter) Emit(ctx context.Context, b connectors.Batch) error {
	h.batches <- b
	return nil
}
func (h heldEmitter) Flush(context.Context) error { return nil }

// A position is confirmed and stored only once its batch is acknowledged,
// and Drain stores the last acknowledged position even within the save
// interval, so a clean stop replays nothing.
func TestPositionsAreConfirmedOnlyWhenAcknowledged(t *testing.T) {
	m := memOffsets{}
	store := NewStore[lsn](m, "server=p")
	var confirmed []uint64
	a := NewAcker(store, &State[lsn]{}, func(p lsn) { confirmed = append(confirmed, p.LSN) }, NewMetrics(nil, "t"), slog.New(slog.DiscardHandler))
	in := make(chan Chunk[lsn])
	out := heldEmitter{make(chan connectors.Batch, 10)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go Batch(ctx, in, out, a)

	in <- Chunk[lsn]{Events: []*event.Event{{Op: event.OpCreate}}, End: &lsn{100}}
	first := <-out.batches
	in <- Chunk[lsn]{Events: []*event.Event{{Op: event.OpCreate}}, End: &lsn{200}}
	second := <-out.batches
	if len(confirmed) != 0 || m["server=p"] != nil {
		t.Fatalf("before any ack: confirmed %v, stored %s", confirmed, m["server=p"])
	}
	first.Ack()
	if len(confirmed) != 1 || confirmed[0] != 100 || string(m["server=p"]) != `{"lsn":100,"snapshot_completed":false}` {
		t.Fatalf("after the first ack: confirmed %v, stored %s", confirmed, m["server=p"])
	}
	second.Ack() // within the save interval: confirmed, not yet stored
	if len(confirmed) != 2 || confirmed[1] != 200 || string(m["server=p"]) != `{"lsn":100,"snapshot_completed":false}` {
		t.Fatalf("after the second ack: confirmed %v, stored %s", confirmed, m["server=p"])
	}
	Drain(out, a, slog.New(slog.DiscardHandler), nil)
	if got := string(m["server=p"]); got != `{"lsn":200,"snapshot_completed":false}` {
		t.Fatalf("after Drain: stored %s", got)
	}
}

// savedOffsets hands every saved value to the test.
type savedOffsets chan string

func (s savedOffsets) Load(context.Context, string) ([]byte, error) { return nil, nil }
func (s savedOffsets) Save(_ context.Context, _ string, v []byte) error {
	s <- string(v)
	return nil
}

// A position acknowledged within the save interval is stored once the
// interval is over even when no acknowledgement follows (a source fallen
// idle), and not at all once Drain stored the last one.
func TestAMovedPositionIsStoredWithoutALaterAcknowledgement(t *testing.T) {
	saved := make(savedOffsets, 10)
	a := NewAcker(NewStore[lsn](saved, "server=p"), &State[lsn]{}, nil, NewMetrics(nil, "t"), slog.New(slog.DiscardHandler))
	ctx := context.Background()
	a.ack(ctx, batchTimes{}, Chunk[lsn]{End: &lsn{100}})
	if got := <-saved; got != `{"lsn":100,"snapshot_completed":false}` {
		t.Fatalf("first acknowledgement stored %s", got)
	}
	acked := time.Now()
	a.ack(ctx, batchTimes{}, Chunk[lsn]{End: &lsn{200}})
	select {
	case got := <-saved:
		if took := time.Since(acked); got != `{"lsn":200,"snapshot_completed":false}` || took < offsetSaveInterval/2 || took > 3*offsetSaveInterval {
			t.Fatalf("stored %s %v after the acknowledgement, want lsn 200 about %v after it", got, took, offsetSaveInterval)
		}
	case <-time.After(5 * offsetSaveInterval):
		t.Fatal("the moved position was not stored without a later acknowledgement")
	}

	a.ack(ctx, batchTimes{}, Chunk[lsn]{End: &lsn{300}})
	if err := a.Save(ctx); err != nil {
		t.Fatal(err)
	}
	if got := <-saved; got != `{"lsn":300,"snapshot_completed":false}` {
		t.Fatalf("Save stored %s", got)
	}
	select {
	case got := <-saved:
		t.Fatalf("stored %s after the stop's save", got)
	case <-time.After(2 * offsetSaveInterval):
	}
}

// brokenEmitter has failed for good, as a Kafka writer whose record was
// refused: it says so through Failed.
type brokenEmitter struct{ failed chan struct{} }

func (b brokenEmitter) Emit(context.Context, connectors.Batch) error { return errBroken }
func (b brokenEmitter) Flush(context.Context) error                  { return errBroken }
func (b brokenEmitter) Failed() <-chan struct{}                      { return b.failed }

var errBroken = errors.New("a record was refused")

// A source waiting for changes learns at once that its emitter failed:
// Batch returns the failure without another chunk to emit.
func TestBatchReturnsWhenTheEmitterFails(t *testing.T) {
	out := brokenEmitter{failed: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		done <- Batch(context.Background(), make(chan Chunk[lsn]), out, NewAcker(nil, &State[lsn]{}, nil, NewMetrics(nil, "c"), slog.New(slog.DiscardHandler)))
	}()
	select {
	case err := <-done:
		t.Fatalf("Batch returned %v before the emitter failed", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(out.failed)
	select {
	case err := <-done:
		if !errors.Is(err, errBroken) {
			t.Fatalf("Batch returned %v, want the emitter's failure", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Batch still waits for a chunk 5 s after its emitter failed")
	}
}
