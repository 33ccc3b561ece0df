package pgtest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// streamingWait bounds how long WaitStreaming waits.
const streamingWait = 30 * time.Second

// querier is the one method of a connection WaitStreaming polls with.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// WaitStreaming waits until the replication slot named slot is active (a
// walsender holds it) and has reached its consistent point, when its
// confirmed_flush_lsn is set: a source holding it streams the changes
// committed from then on. Changes committed while a new slot still waits for
// the transactions running at its creation to end come before that point.
//
// It polls pg_replication_slots through q every 20 ms, calling check, when
// not nil, before each poll: check fails the test when what should take the
// slot stopped. It fails the test when the slot is not streaming within
// 30 s. q must not be used by another goroutine meanwhile.
func WaitStreaming(t testing.TB, q querier, slot string, check func()) {
	t.Helper()
	var lastErr error
	for deadline := time.Now().Add(streamingWait); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if check != nil {
			check()
		}
		var streaming bool
		err := q.QueryRow(context.Background(), "SELECT active AND confirmed_flush_lsn IS NOT NULL FROM pg_replication_slots WHERE slot_name = $1", slot).Scan(&streaming)
		if streaming {
			return
		}
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			lastErr = err
		}
	}
	if lastErr != nil {
		t.Fatalf("slot %s did not start streaming within %s (last query: %v)", slot, streamingWait, lastErr)
	}
	t.Fatalf("slot %s did not start streaming within %s", slot, streamingWait)
}

// DropSlot drops the replication slot named slot once no walsender holds
// it: a walsender notices that its client left only after a moment, and an
// active slot cannot be dropped. It fails the test when the slot is still
// active after 10 s, or cannot be dropped.
func DropSlot(t testing.TB, q querier, slot string) {
	t.Helper()
	var lastErr error
	for deadline := time.Now().Add(slotReleaseWait); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var dropped bool
		lastErr = q.QueryRow(context.Background(),
			"SELECT pg_drop_replication_slot(slot_name) IS NOT NULL FROM pg_replication_slots WHERE slot_name = $1 AND NOT active", slot).Scan(&dropped)
		if lastErr == nil {
			return
		}
	}
	t.Fatalf("pgtest: drop replication slot %s: %v", slot, lastErr)
}
