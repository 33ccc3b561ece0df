package kafka

import (
	"runtime"
	"sync"
	"testing"
)

// Acknowledgements arrive from the producer's promises and from Emit and
// Flush at once: whichever goroutines release batches, their acks run one
// at a time and in the batches' order, so that a source's saved position
// never moves back.
func TestConcurrentReleasesAcknowledgeInOrder(t *testing.T) {
	const batches = 2000
	w := &Writer{broken: make(chan struct{})}
	var mu sync.Mutex
	var acked []int
	for i := range batches {
		w.pending = append(w.pending, &pendingBatch{sealed: true, ack: func() {
			runtime.Gosched()
			mu.Lock()
			acked = append(acked, i)
			mu.Unlock()
		}})
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range batches / 4 {
				w.release()
			}
		})
	}
	wg.Wait()
	if len(acked) != batches {
		t.Fatalf("%d acks of %d batches", len(acked), batches)
	}
	for i := 1; i < len(acked); i++ {
		if acked[i] < acked[i-1] {
			t.Fatalf("batch %d acknowledged after batch %d", acked[i], acked[i-1])
		}
	}
}
