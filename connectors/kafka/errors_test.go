package kafka_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/kafka"
	_ "github.com/sluice-cdc/sluice/connectors/postgres"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

// failOn is a stage that fails on the record of one id and passes the rest.
type failOn struct{ id int32 }

func (f failOn) Apply(r *record.Record) (*record.Record, error) {
	if row, ok := r.Key.(event.Row); ok && row[0] == f.id {
		return nil, fmt.Errorf("Cast: cannot cast %q to int32", "not a number")
	}
	return r, nil
}

// TestSourceErrorsTolerance checks Kafka Connect's errors.tolerance on a
// source's transforms: by default a failing record stops the writer with a
// permanent error naming it; with all, it is skipped (logged with
// errors.log.enable, with its contents under errors.log.include.messages)
// and the batch is still acknowledged.
func TestSourceErrorsTolerance(t *testing.T) {
	class, ok := connectors.Lookup("postgres")
	if !ok {
		t.Fatal("postgres class not registered")
	}
	base := map[string]string{"connector.class": "postgres", "database.hostname": "db", "database.user": "u", "database.dbname": "d", "topic.prefix": "p"}
	pc := kafka.ProducerConfig{Compression: "none", Partitions: 1, ReplicationFactor: -1}
	cl, rc := setup(t, pc)
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		extra map[string]string
		err   string
		log   string
	}{
		{"none", nil, "transform the c event of public.t at 0/0: Cast: cannot cast \"not a number\" to int32", ""},
		{"all", map[string]string{"errors.tolerance": "all"}, "", ""},
		{"all, logged", map[string]string{"errors.tolerance": "all", "errors.log.enable": "true", "errors.log.include.messages": "true"}, "",
			`level=WARN msg="skipping a record a transform failed on (errors.tolerance=all)" error="transform the c event of public.t at 0/0: Cast: cannot cast \"not a number\" to int32" topic=p.public.t key=[2] value="[<nil> [2 b]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := map[string]string{}
			for k, v := range base {
				raw[k] = v
			}
			for k, v := range tc.extra {
				raw[k] = v
			}
			cfg, err := class.Spec.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			w := kafka.NewSourceWriter(cl, rc, class, cfg, kafka.WithStage(failOn{2}), kafka.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			acked := false
			err = w.Emit(ctx, connectors.Batch{Events: []*event.Event{change(event.OpCreate, 1, "a"), change(event.OpCreate, 2, "b"), change(event.OpCreate, 3, "c")}, Ack: func() { acked = true }})
			if tc.err != "" {
				if err == nil || err.Error() != tc.err || !errors.Is(err, connectors.ErrPermanent) {
					t.Fatalf("Emit: %v, want the permanent error %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(ctx); err != nil || !acked {
				t.Fatalf("Flush: %v, acknowledged %v", err, acked)
			}
			if !strings.Contains(logs.String(), tc.log) || (tc.log == "" && logs.Len() > 0) {
				t.Errorf("log:\n%s\nwant %q", logs.String(), tc.log)
			}
		})
	}
}
