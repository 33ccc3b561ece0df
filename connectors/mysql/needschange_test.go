package mysql

import (
	"context"
	"errors"
	"fmt"
	"testing"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/sluice-cdc/sluice/connectors"
)

// TestNeedsChange checks which server errors stop the source as FAILED
// rather than being retried: a missing privilege needs a person, a lost
// connection may clear by itself.
func TestNeedsChange(t *testing.T) {
	cases := []struct {
		err       error
		permanent bool
	}{
		{fmt.Errorf("snapshot: %w", &gomysql.MyError{Code: gomysql.ER_SPECIFIC_ACCESS_DENIED_ERROR, Message: "Access denied; you need (at least one of) the RELOAD privilege(s) for this operation"}), true},
		{&gomysql.MyError{Code: gomysql.ER_TABLEACCESS_DENIED_ERROR, Message: "SELECT command denied to user 'u'@'%' for table 'orders'"}, true},
		{&gomysql.MyError{Code: gomysql.ER_ACCESS_DENIED_ERROR, Message: "Access denied for user 'u'@'%'"}, true},
		{&gomysql.MyError{Code: gomysql.ER_LOCK_WAIT_TIMEOUT, Message: "Lock wait timeout exceeded"}, false},
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
