package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-cdc/sluice/connectors/postgres"
	"github.com/sluice-cdc/sluice/schema/event"
)

// TestEveryTypeThroughKafka sends a row of every supported column type
// through the whole pipeline — snapshot, then streaming — and checks that
// the Avro decoded from Kafka holds exactly the values of the rows, value
// for value, both ways.
func TestEveryTypeThroughKafka(t *testing.T) {
	h := newHarness(t, nil)
	ddl := fmt.Sprintf(postgres.TypesSchemaSQL, "public")
	insert := ddl[strings.Index(ddl, "INSERT INTO"):]
	h.exec(ddl)
	rows, err := h.db.Query(context.Background(), `SELECT attname FROM pg_attribute WHERE attrelid = 'public.all_types'::regclass AND attnum > 0 ORDER BY attnum`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	h.start()
	snap := h.read(h.topic("all_types"), 3)
	for _, r := range snap {
		if r.value.Op != event.OpRead {
			t.Fatalf("want snapshot reads, got %s", describe(snap))
		}
		postgres.CheckTypesRow(t, names, r.value.After)
	}
	h.waitStreaming()
	h.exec(`DELETE FROM all_types`, insert)
	all := h.read(h.topic("all_types"), 3+6+3)
	var creates int
	for _, r := range all[3:] {
		if r.value != nil && r.value.Op == event.OpCreate {
			creates++
			postgres.CheckTypesRow(t, names, r.value.After)
		}
	}
	if creates != 3 {
		t.Errorf("%d streamed creates, want 3: %s", creates, describe(all))
	}
}
