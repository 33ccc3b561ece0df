package postgres_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/connectors"
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
			want:  `role "ROLE_NAME" needs LOGIN and REPLICATION: ALTER ROLE "ROLE_NAME" WITH LOGIN REPLICATION`,
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
