package postgres_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/testenv/pgtest"
)

// startFails starts the source and returns the error it stops with.
func (h *harness) startFails() error {
	h.t.Helper()
	h.start()
	return h.wait(30 * time.Second)
}

func TestPreflightRefusesWhatCannotWork(t *testing.T) {
	cases := []struct {
		name  string
		setup []string
		extra map[string]string
		want  string
	}{
		{
			name:  "role without replication",
			setup: []string{`CREATE ROLE ROLE_NAME LOGIN PASSWORD 'pw'`, `GRANT SELECT ON ALL TABLES IN SCHEMA public TO ROLE_NAME`},
			extra: map[string]string{"database.user": "ROLE_NAME", "database.password": "pw"},
			want:  `role "ROLE_NAME" needs LOGIN and REPLICATION: ALTER ROLE "ROLE_NAME" WITH LOGIN REPLICATION (on Amazon RDS: GRANT rds_replication TO "ROLE_NAME")`,
		},
		{
			name:  "missing select",
			setup: []string{`CREATE ROLE ROLE_NAME LOGIN REPLICATION PASSWORD 'pw'`},
			extra: map[string]string{"database.user": "ROLE_NAME", "database.password": "pw"},
			want:  `role "ROLE_NAME" lacks SELECT on public.t (GRANT SELECT ON "public"."t" TO "ROLE_NAME")`,
		},
		{
			name:  "publication missing",
			extra: map[string]string{"publication.autocreate.mode": "disabled", "publication.name": "nopub"},
			want:  `publication "nopub" does not exist and publication.autocreate.mode is disabled`,
		},
		{
			name:  "no primary key",
			setup: []string{`CREATE TABLE nokey (v int)`},
			want:  `table public.nokey has no primary key and REPLICA IDENTITY DEFAULT: its updates and deletes fail on the primary once it is published`,
		},
		{
			name:  "wrong password",
			extra: map[string]string{"database.password": "wrong"},
			want:  `password authentication failed`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			role := ""
			h := newHarness(t, nil)
			role = strings.ReplaceAll(h.pg.Name, "pgsrc", "role")
			h.exec(`CREATE TABLE t (id int PRIMARY KEY)`)
			for _, s := range tc.setup {
				h.exec(strings.ReplaceAll(s, "ROLE_NAME", role))
			}
			if role != "" && len(tc.setup) > 0 && strings.Contains(tc.setup[0], "ROLE") {
				t.Cleanup(func() { h.exec(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ` + role); h.exec(`DROP ROLE ` + role) })
			}
			h.extra = map[string]string{}
			for k, v := range tc.extra {
				h.extra[k] = strings.ReplaceAll(v, "ROLE_NAME", role)
			}
			err := h.startFails()
			if !errors.Is(err, connectors.ErrPermanent) {
				t.Errorf("err = %v, want a permanent error", err)
			}
			if want := strings.ReplaceAll(tc.want, "ROLE_NAME", role); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v\nwant it to contain %q", err, want)
			}
			if err != nil && strings.Contains(err.Error(), "wrong") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

func TestSlotInUseIsReported(t *testing.T) {
	h := newHarness(t, nil)
	h.exec(`CREATE TABLE t (id int PRIMARY KEY)`)
	h.start()
	h.waitStreaming()
	h.exec(`INSERT INTO t VALUES (1)`)
	h.read(h.topic("t"), 1) // streamed: the first source holds the slot now
	first := h.run
	h.run = nil
	defer func() { h.run = first }()
	err := h.startFails()
	if err == nil || !strings.Contains(err.Error(), `replication slot "`+h.slot+`" is in use by server process`) {
		t.Errorf("second source: %v", err)
	}
	if errors.Is(err, connectors.ErrPermanent) {
		t.Errorf("a busy slot may free up (a previous run still closing): want a transient error, got permanent")
	}
}

// TestPreflightNamesWhatARoleWithoutRightsNeeds runs the source as a role
// with LOGIN, REPLICATION and SELECT but no other rights, over two tables
// the administrator owns, and expects each publication mode to fail before
// anything is created, naming the statements to run.
func TestPreflightNamesWhatARoleWithoutRightsNeeds(t *testing.T) {
	cases := []struct {
		name  string
		setup []string // run by the administrator, ROLE_NAME and DB_NAME replaced
		mode  string
		want  string
	}{
		{
			name: "all tables needs a superuser",
			mode: "all_tables",
			want: `publication "DB_NAME" does not exist and publication.autocreate.mode=all_tables would create it FOR ALL TABLES, which only a superuser may do, and role "ROLE_NAME" is not one: set publication.autocreate.mode=filtered, or have an owner of the tables or a superuser run CREATE PUBLICATION "DB_NAME" FOR TABLE "public"."order_items", "public"."orders" WITH (publish_via_partition_root = true) (an existing publication that publishes the captured tables is used as it is)`,
		},
		{
			name: "filtered needs CREATE and ownership",
			mode: "filtered",
			want: `publication "DB_NAME" does not exist and role "ROLE_NAME" may not create it for publication.autocreate.mode=filtered: it lacks CREATE on database "DB_NAME" (GRANT CREATE ON DATABASE "DB_NAME" TO "ROLE_NAME"); it does not own public.order_items, public.orders (only a table's owner may add it to a publication). Have an owner of the tables or a superuser run CREATE PUBLICATION "DB_NAME" FOR TABLE "public"."order_items", "public"."orders" WITH (publish_via_partition_root = true) (an existing publication that publishes the captured tables is used as it is)`,
		},
		{
			name:  "filtered needs ownership",
			setup: []string{`GRANT CREATE ON DATABASE DB_NAME TO ROLE_NAME`},
			mode:  "filtered",
			want:  `publication "DB_NAME" does not exist and role "ROLE_NAME" may not create it for publication.autocreate.mode=filtered: it does not own public.order_items, public.orders (only a table's owner may add it to a publication). Have an owner of the tables or a superuser run CREATE PUBLICATION "DB_NAME" FOR TABLE "public"."order_items", "public"."orders" WITH (publish_via_partition_root = true) (an existing publication that publishes the captured tables is used as it is)`,
		},
		{
			name: "disabled needs the publication",
			mode: "disabled",
			want: `publication "DB_NAME" does not exist and publication.autocreate.mode is disabled: have an owner of the tables or a superuser run CREATE PUBLICATION "DB_NAME" FOR TABLE "public"."order_items", "public"."orders" WITH (publish_via_partition_root = true), or set publication.autocreate.mode`,
		},
		{
			name:  "an existing publication lacks a table",
			setup: []string{`CREATE PUBLICATION DB_NAME FOR TABLE orders`},
			mode:  "filtered",
			want:  `publication "DB_NAME" does not publish public.order_items, which the filters capture, and sluice may not add it: role "ROLE_NAME" does not own the publication; role "ROLE_NAME" does not own public.order_items, public.orders (only a table's owner may add it to a publication). Have the publication's owner run: ALTER PUBLICATION "DB_NAME" ADD TABLE "public"."order_items"`,
		},
		{
			name:  "an existing publication is not changed in all_tables mode",
			setup: []string{`CREATE PUBLICATION DB_NAME FOR TABLE orders`},
			mode:  "all_tables",
			want:  `publication "DB_NAME" does not publish public.order_items, which the filters capture, and sluice may not add it: publication.autocreate.mode=all_tables does not change an existing publication. Have the publication's owner run: ALTER PUBLICATION "DB_NAME" ADD TABLE "public"."order_items"`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, role := newRestrictedHarness(t, tc.mode)
			names := strings.NewReplacer("ROLE_NAME", role.Name, "DB_NAME", h.pg.Name)
			for _, s := range tc.setup {
				h.exec(names.Replace(s))
			}
			err := h.startFails()
			if !errors.Is(err, connectors.ErrPermanent) {
				t.Errorf("err = %v, want a permanent error", err)
			}
			if want := names.Replace(tc.want); err == nil || err.Error() != want {
				t.Errorf("err = %v\nwant %s", err, want)
			}
			var pubs int
			if err := h.db.QueryRow(context.Background(), "SELECT count(*) FROM pg_publication").Scan(&pubs); err != nil {
				t.Fatal(err)
			}
			if want := len(tc.setup) - strings.Count(strings.Join(tc.setup, ";"), "GRANT"); pubs != want {
				t.Errorf("%d publications after the failed start, want %d: the preflight changes nothing", pubs, want)
			}
		})
	}
}

// TestPublicationOfTheAdministratorIsUsedAsItIs proves that a role that owns
// neither the tables nor the publication captures them through a
// publication the administrator created, in every mode, without changing it.
func TestPublicationOfTheAdministratorIsUsedAsItIs(t *testing.T) {
	for _, mode := range []string{"all_tables", "filtered", "disabled"} {
		t.Run(mode, func(t *testing.T) {
			h, _ := newRestrictedHarness(t, mode)
			h.exec(`CREATE PUBLICATION ` + h.pg.Name + ` FOR TABLE orders, order_items, other`)
			h.exec(`INSERT INTO orders VALUES (1)`)
			h.start()
			h.waitStreaming()
			h.exec(`INSERT INTO orders VALUES (2)`, `INSERT INTO order_items VALUES (3)`)
			if got := ids(h.read(h.topic("orders"), 2)); !slices.Equal(got, []string{"r 1", "c 2"}) {
				t.Errorf("orders: %v, want [r 1 c 2]", got)
			}
			if got := ids(h.read(h.topic("order_items"), 1)); !slices.Equal(got, []string{"c 3"}) {
				t.Errorf("order_items: %v, want [c 3]", got)
			}
			h.checkRunning()
			var tables string
			if err := h.db.QueryRow(context.Background(), "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_publication_tables WHERE pubname = $1", h.pg.Name).Scan(&tables); err != nil {
				t.Fatal(err)
			}
			if tables != "order_items,orders,other" {
				t.Errorf("the publication has tables %s, want it unchanged: order_items,orders,other", tables)
			}
		})
	}
}

// newRestrictedHarness is a harness over tables orders and order_items
// (and other, which the filters leave out), owned by the administrator,
// whose source runs as a role with LOGIN, REPLICATION and SELECT on them
// only, in the given publication.autocreate.mode.
func newRestrictedHarness(t *testing.T, mode string) (*harness, *pgtest.Role) {
	h := newHarness(t, nil)
	h.exec(`CREATE TABLE orders (id int PRIMARY KEY)`, `CREATE TABLE order_items (id int PRIMARY KEY)`, `CREATE TABLE other (id int PRIMARY KEY)`)
	role := h.pg.NewRole(t, "REPLICATION")
	h.exec(`GRANT SELECT ON orders, order_items TO ` + role.Name)
	h.extra = map[string]string{"database.user": role.Name, "database.password": role.Password,
		"table.include.list": "public.orders,public.order_items", "publication.autocreate.mode": mode}
	return h, role
}

// TestPreflightTakesRDSReplicationMembership checks that membership in
// rds_replication, the way Amazon RDS grants replication, passes for
// REPLICATION: the preflight goes on to the next check.
func TestPreflightTakesRDSReplicationMembership(t *testing.T) {
	h := newHarness(t, nil)
	h.exec(`CREATE TABLE t (id int PRIMARY KEY)`,
		`DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rds_replication') THEN CREATE ROLE rds_replication; END IF; END $$`)
	t.Cleanup(func() { h.exec(`DROP ROLE IF EXISTS rds_replication`) })
	role := h.pg.NewRole(t, "IN ROLE rds_replication")
	h.extra = map[string]string{"database.user": role.Name, "database.password": role.Password}
	err := h.startFails()
	if want := `role "` + role.Name + `" lacks SELECT on public.t`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v\nwant it to contain %q", err, want)
	}
}
