package pgtest

import (
	"context"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-cdc/sluice/testenv"
)

// Role is a login role of one test's own, with only the rights the test
// grants it, for tests of what a source does without them.
type Role struct {
	// Name is the role's name, unique to the test and lower case.
	Name string
	// Password is the role's password.
	Password string
	// URL is the database's URL as this role.
	URL url.URL
}

// NewRole creates a role named testenv.Name(t, "role") with LOGIN, a
// password and the given attributes (such as "REPLICATION"), and drops it
// when the test ends, with whatever it owns in db and every right granted to
// it; a role of that name left by an earlier run is dropped first. Grant it rights with Exec on a connection of db's owner.
func (db *Database) NewRole(t testing.TB, attributes ...string) *Role {
	t.Helper()
	r := &Role{Name: testenv.Name(t, "role"), Password: "pw", URL: db.URL}
	r.URL.User = url.UserPassword(r.Name, r.Password)
	admin := db.Connect(t)
	ident := pgx.Identifier{r.Name}.Sanitize()
	create := "CREATE ROLE " + ident + " LOGIN PASSWORD '" + r.Password + "'"
	for _, a := range attributes {
		create += " " + a
	}
	Exec(t, admin, "DROP ROLE IF EXISTS "+ident, create) // a role left by an earlier run goes first
	t.Cleanup(func() {
		ctx := context.Background()
		for _, sql := range []string{"DROP OWNED BY " + ident, "DROP ROLE " + ident} {
			if _, err := admin.Exec(ctx, sql); err != nil {
				t.Logf("pgtest: %s: %v", sql, err)
			}
		}
	})
	return r
}
