package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sluice-cdc/sluice/connectors"
)

// TestNeedsChange checks which server errors stop the source as FAILED
// rather than being retried: a missing privilege needs a person, a
// connection lost or a slot held may clear by itself.
func TestNeedsChange(t *testing.T) {
	cases := []struct {
		err       error
		permanent bool
	}{
		{fmt.Errorf("snapshot public.t: %w", &pgconn.PgError{Code: "42501", Message: "permission denied for table t"}), true},
		{&pgconn.PgError{Code: "55006", Message: `replication slot "s" is active`}, false},
		{&pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}, false},
		{context.Canceled, false},
		{nil, false},
	}
	for _, tc := range cases {
		got := needsChange(tc.err)
		if errors.Is(got, connectors.ErrPermanent) != tc.permanent || !errors.Is(got, tc.err) {
			t.Errorf("needsChange(%v) = %v, want permanent %v wrapping it", tc.err, got, tc.permanent)
		}
	}
}
